//! Test support for notes-api's HTTP suites: start the service in-process on a free port
//! with a throwaway database, talk to it over real HTTP/1.1, and read what it logged.
//!
//! The database is a temporary SQLite file, or the PostgreSQL database named by
//! `NOTES_TEST_DATABASE_URL` (shared between tests: use [`unique_name`] for user names).
//! Keys are generated per app (`Keys::ephemeral`); no secret is written in the repository.
#![allow(dead_code, unreachable_pub)]

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use secure_core::auth::password::{Argon2Params, PasswordHasher};
use secure_core::config::{Keys, SecurityConfig};
use serde_json::{Value, json};

/// The address the notes-api binary `child` (stdout piped) says it listens on; the rest of
/// its standard output is drained in the background.
pub async fn listening_on(child: &mut tokio::process::Child) -> String {
    use tokio::io::AsyncBufReadExt;
    let stdout = child.stdout.take().expect("stdout piped");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let addr = loop {
        let line = lines
            .next_line()
            .await
            .expect("read")
            .expect("notes-api exited before listening");
        if let Some(rest) = line.strip_prefix("notes-api listening on http://") {
            break rest.split_whitespace().next().expect("address").to_owned();
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    addr
}

/// A running service.
#[derive(Debug)]
pub struct TestApp {
    /// Where it listens (`127.0.0.1:<free port>`).
    pub addr: SocketAddr,
    /// Its `DATABASE_URL`, for running the binary's commands against the same data.
    pub database_url: String,
    sqlite_file: Option<PathBuf>,
    /// The service it serves, for in-process requests (`oneshot`, the cross-user kit).
    service: Option<secure_core::policy::SecureApp>,
    /// Its accounts, for what the binary's commands do (`create-admin`).
    accounts: Option<secure_core::accounts::Accounts>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(path) = &self.sqlite_file {
            for suffix in ["", "-wal", "-shm"] {
                let mut p = path.clone().into_os_string();
                p.push(suffix);
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

/// Argon2id parameters far below OWASP's, so the suites spend their time on HTTP, not hashing.
/// Only ever in tests.
pub const TEST_ARGON2: Argon2Params = Argon2Params {
    memory_kib: 1024,
    iterations: 1,
    parallelism: 1,
};

/// Starts the service with default security settings and generated keys.
pub async fn spawn() -> TestApp {
    spawn_with(SecurityConfig::new().with_keys(Keys::ephemeral())).await
}

/// Starts the service with `config` (which must hold keys) on a database of its own, also
/// when the suites share a PostgreSQL server (`NOTES_TEST_DATABASE_URL`): the accounts check
/// at start-up that the configured data key opens the second factors stored, and each test
/// has keys of its own. The new database is left in the throwaway server.
pub async fn spawn_with(config: SecurityConfig) -> TestApp {
    spawn_at(own_database_url(), config).await
}

/// A database nobody else uses: a new SQLite file, or a new database on the shared
/// PostgreSQL server.
pub fn own_database_url() -> String {
    match std::env::var("NOTES_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => with_database(&url, &format!("notes_test_{}", random_hex(6))),
        _ => {
            let path = std::env::temp_dir().join(format!("notes-api-test-{}.db", random_hex(8)));
            format!("sqlite://{}", path.display())
        }
    }
}

/// Starts the service on `url` (from [`own_database_url`]); a SQLite file is deleted with
/// the app.
pub async fn spawn_at(url: String, config: SecurityConfig) -> TestApp {
    let file = url.strip_prefix("sqlite://").map(PathBuf::from);
    spawn_on(url, file, config).await
}

/// A PostgreSQL `url` with its database name replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let cut = base.rfind('/').expect("a postgres URL has a path");
    let mut out = format!("{}/{name}", &base[..cut]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A second instance on `other`'s database (as after a restart with new settings); the
/// database stays `other`'s to delete.
pub async fn spawn_sharing(other: &TestApp, config: SecurityConfig) -> TestApp {
    spawn_on(other.database_url.clone(), None, config).await
}

async fn spawn_on(
    database_url: String,
    sqlite_file: Option<PathBuf>,
    config: SecurityConfig,
) -> TestApp {
    install_log_capture();
    let db = notes_api::connect(&database_url)
        .await
        .expect("test database opens");
    // Tests start together on one shared PostgreSQL: migrating must be safe without retries.
    notes_api::migrate(&db)
        .await
        .expect("test database migrates");
    let options = notes_api::Options {
        password_hasher: PasswordHasher::with_params(TEST_ARGON2).expect("test Argon2 parameters"),
        reset_link: Some("http://localhost/reset#".to_owned()),
    };
    let accounts = notes_api::accounts(&db, &config, &options)
        .await
        .expect("accounts build");
    let app = notes_api::app(db, config, &accounts).expect("app builds");
    let service = Some(app.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a free port");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        secure_core::serve::serve_until(listener, app, std::future::pending())
            .await
            .expect("server runs");
    });
    TestApp {
        addr,
        database_url,
        sqlite_file,
        service,
        accounts: Some(accounts),
    }
}

impl TestApp {
    /// A handle to an app already running at `addr`, for requests from other tasks; it owns
    /// no database.
    pub fn at(addr: SocketAddr) -> TestApp {
        TestApp {
            addr,
            database_url: String::new(),
            sqlite_file: None,
            service: None,
            accounts: None,
        }
    }

    /// An administrator made as `notes-api create-admin` makes one; returns its id.
    pub async fn create_admin(&self, username: &str, password: &str) -> String {
        self.accounts
            .as_ref()
            .expect("an app started by this test")
            .create_account(
                username,
                &format!("{username}@example.com"),
                password.into(),
                &[notes_api::AppRole::Admin],
            )
            .await
            .expect("administrator created")
            .to_string()
    }

    /// The service this app serves, in process.
    pub fn service(&self) -> &secure_core::policy::SecureApp {
        self.service
            .as_ref()
            .expect("an app started by this test, not one reached by address")
    }

    /// One text column of the first row `sql` (a constant with `$1`) finds for `bind`, read
    /// straight from the database, as an attacker with a dump would.
    pub async fn sql_text(&self, sql: &'static str, bind: &str) -> Option<String> {
        let db = notes_api::connect(&self.database_url).await.expect("db");
        let row: Option<(Option<String>,)> = db
            .query(sql)
            .bind(bind)
            .fetch_optional()
            .await
            .expect("query");
        row.and_then(|r| r.0)
    }

    /// Runs `sql` (a constant with `$1`, `$2`) with two binds.
    pub async fn sql_exec(
        &self,
        sql: &'static str,
        a: impl Into<secure_core::sql::Value>,
        b: impl Into<secure_core::sql::Value>,
    ) -> u64 {
        let db = notes_api::connect(&self.database_url).await.expect("db");
        db.query(sql)
            .bind(a)
            .bind(b)
            .execute()
            .await
            .expect("statement")
    }

    /// `POST /session/login`: the `name=value` session cookie and the CSRF token.
    pub async fn session_login(&self, username: &str, password: &str) -> (String, String) {
        let r = self
            .post("/auth/session/sign-in")
            .json(&json!({"username": username, "password": password}))
            .send()
            .await;
        r.assert_status(200);
        let cookie = r.session_cookie().expect("session cookie");
        let csrf = r.json()["csrf_token"]
            .as_str()
            .expect("csrf_token")
            .to_owned();
        (cookie, csrf)
    }
}

/// A key as `openssl rand -base64 48` prints it, made per test.
pub fn random_key() -> String {
    use base64::Engine as _;
    let bytes: [u8; 48] = rand::random();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Configured keys with an access-token key the test knows (to sign its own tokens).
pub fn config_with_jwt_key(jwt_key: &str, extra: &[(&str, &str)]) -> SecurityConfig {
    configured(jwt_key, &random_key(), None, extra)
}

/// Configured keys (no development keys): `SECURE_JWT_KEY`, `SECURE_CSRF_KEY` and the given
/// data keys, plus `extra` settings.
pub fn keyed_config(
    data_key: &str,
    previous: Option<&str>,
    extra: &[(&str, &str)],
) -> SecurityConfig {
    configured(&random_key(), data_key, previous, extra)
}

fn configured(
    jwt_key: &str,
    data_key: &str,
    previous: Option<&str>,
    extra: &[(&str, &str)],
) -> SecurityConfig {
    let mut vars = vec![
        ("SECURE_JWT_KEY", jwt_key.to_owned()),
        ("SECURE_CSRF_KEY", random_key()),
        ("SECURE_DATA_KEY", data_key.to_owned()),
    ];
    if let Some(previous) = previous {
        vars.push(("SECURE_DATA_KEY_PREVIOUS", previous.to_owned()));
    }
    vars.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    SecurityConfig::from_vars(vars, secure_core::config::Profile::Release).expect("config")
}

fn random_hex(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

/// `prefix` with a random suffix: a valid user name (`[a-z0-9_]`, at most 32 characters)
/// that no other test uses, even on a shared PostgreSQL database.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}_{}", random_hex(6))
}

/// A password that passes the policy, different per call.
pub fn new_password() -> String {
    format!("test password {}", random_hex(8))
}

/// An answer: status, headers and the whole body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Response {
    /// The body as JSON (panics with the body text if it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| {
            panic!(
                "expected JSON, got {} {:?}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status,
            status,
            "unexpected status; body: {}",
            self.text()
        );
        self
    }

    /// The `name=value` part of the `__Host-session` cookie this answer sets.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("__Host-session="))
            .and_then(|v| v.split(';').next())
            .map(str::to_owned)
    }
}

/// One request, built up and then sent on a fresh connection.
#[derive(Debug)]
pub struct RequestBuilder {
    addr: SocketAddr,
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl TestApp {
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        RequestBuilder {
            addr: self.addr,
            method,
            path: path.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.request(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.request(Method::POST, path)
    }

    pub fn put(&self, path: &str) -> RequestBuilder {
        self.request(Method::PUT, path)
    }

    pub fn delete(&self, path: &str) -> RequestBuilder {
        self.request(Method::DELETE, path)
    }

    /// `POST /auth/signup`; returns the new user's id.
    pub async fn signup(&self, username: &str, password: &str) -> String {
        let r = self
            .post("/auth/signup")
            .json(&json!({
                "username": username,
                "email": format!("{username}@example.com"),
                "password": password,
            }))
            .send()
            .await;
        r.assert_status(201);
        r.json()["id"].as_str().expect("id").to_owned()
    }

    /// `POST /auth/login` without a second factor; returns the tokens.
    pub async fn login(&self, username: &str, password: &str) -> Tokens {
        self.login_with(json!({"username": username, "password": password}))
            .await
    }

    /// `POST /auth/login` with a TOTP code or recovery code; returns the tokens.
    pub async fn login_otp(&self, username: &str, password: &str, otp: &str) -> Tokens {
        self.login_with(json!({"username": username, "password": password, "otp": otp}))
            .await
    }

    async fn login_with(&self, body: Value) -> Tokens {
        let r = self.post("/auth/sign-in").json(&body).send().await;
        r.assert_status(200);
        Tokens::from(&r.json())
    }

    /// A new member, signed up and logged in.
    pub async fn new_user(&self, prefix: &str) -> User {
        let username = unique_name(prefix);
        let password = new_password();
        let id = self.signup(&username, &password).await;
        let tokens = self.login(&username, &password).await;
        User {
            id,
            username,
            password,
            tokens,
        }
    }

    /// `POST /auth/mfa/enroll` then `/auth/mfa/confirm` with a current code; returns the
    /// TOTP secret (base32) and the recovery codes.
    pub async fn enable_mfa(&self, access_token: &str) -> (String, Vec<String>) {
        let r = self
            .post("/auth/mfa/enroll")
            .bearer(access_token)
            .send()
            .await;
        r.assert_status(200);
        let secret = r.json()["secret"].as_str().expect("secret").to_owned();
        let r = self
            .post("/auth/mfa/confirm")
            .bearer(access_token)
            .json(&json!({"otp": totp_code(&secret, now())}))
            .send()
            .await;
        r.assert_status(200);
        let codes = r.json()["recovery_codes"]
            .as_array()
            .expect("recovery_codes")
            .iter()
            .map(|c| c.as_str().expect("code").to_owned())
            .collect();
        (secret, codes)
    }
}

/// A signed-up, logged-in member.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub username: String,
    pub password: String,
    pub tokens: Tokens,
}

/// What `/auth/login` and `/auth/refresh` answer.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
}

impl From<&Value> for Tokens {
    fn from(v: &Value) -> Self {
        assert_eq!(v["token_type"], "Bearer", "{v}");
        assert!(v["expires_in"].as_u64().is_some_and(|s| s > 0), "{v}");
        Tokens {
            access: v["access_token"].as_str().expect("access_token").to_owned(),
            refresh: v["refresh_token"]
                .as_str()
                .expect("refresh_token")
                .to_owned(),
        }
    }
}

impl RequestBuilder {
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    /// `Cookie: <name=value>`.
    pub fn cookie(self, cookie: &str) -> Self {
        self.header("cookie", cookie)
    }

    /// A JSON body with `Content-Type: application/json`.
    pub fn json(self, body: &Value) -> Self {
        let bytes = serde_json::to_vec(body).expect("JSON");
        self.header("content-type", "application/json").body(bytes)
    }

    /// A raw body (set `Content-Type` yourself).
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    pub async fn send(self) -> Response {
        let stream = tokio::net::TcpStream::connect(self.addr)
            .await
            .expect("connect");
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("HTTP/1.1 handshake");
        tokio::spawn(connection);
        let mut request = Request::builder()
            .method(self.method)
            .uri(&self.path)
            .header("host", self.addr.to_string());
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let request = request
            .body(Full::new(Bytes::from(self.body)))
            .expect("request");
        let response = sender.send_request(request).await.expect("response");
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("body").to_bytes();
        Response {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        }
    }
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// The TOTP code of `secret_base32` at Unix time `at` (SHA-1, 6 digits, 30 s, as the
/// service issues them). Each step is accepted once, so a second login in the same 30 s
/// needs the next step's code (`now() + 30`) or a recovery code.
pub fn totp_code(secret_base32: &str, at: u64) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret_base32).expect("base32 secret");
    totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_secret(secret)
        .build()
        .expect("TOTP")
        .generate(at)
        .to_string()
}

static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());
static INSTALLED: OnceLock<()> = OnceLock::new();

struct CaptureWriter;

impl Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        if std::env::var_os("NOTES_TEST_LOG").is_some() {
            let _ = std::io::stderr().write_all(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Routes every log line of this test process (all tests, all apps) into a buffer that
/// [`captured_logs`] reads; `NOTES_TEST_LOG=1` also prints them. Called by [`spawn`].
pub fn install_log_capture() {
    INSTALLED.get_or_init(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(|| CaptureWriter)
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
    });
}

/// Everything logged so far by this test process.
pub fn captured_logs() -> String {
    String::from_utf8_lossy(&LOGS.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
}

/// A test that cannot run here says so: on standard error, and in the skip log `tests/run`
/// summarises at the end (`SECURE_TEST_SKIP_LOG`), since cargo hides what passing tests print.
pub fn skipped(test: &str, needs: &str) {
    let line = format!("notes-api {test}: needs {needs}");
    eprintln!("NOTICE: skipped {line}");
    if let Some(log) = std::env::var_os("SECURE_TEST_SKIP_LOG") {
        use std::io::Write as _;
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
        {
            let _ = writeln!(file, "{line}");
        }
    }
}
