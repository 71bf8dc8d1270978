//! `secure_core::accounts` over HTTP (the assembled app, requests through its whole stack),
//! on SQLite and, when `SECURE_TEST_POSTGRES_URL` is set, PostgreSQL: signup, sign-in with
//! the same answer for unknown names and wrong passwords, the second factor, refresh that
//! keeps the sign-in's `amr` and `auth_time` and reads the roles again, the end of families
//! whose sign-in record is missing or whose credentials changed, sign-out of one family and
//! of all, and the rehash of an outdated password hash at sign-in.

mod identity_support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use secure_core::accounts::{
    AccountId, AccountStore, Accounts, AccountsBuilder, Notifier, NotifyError, ResetNotice,
    SqlAccountStore, seal_totp_secret,
};
use secure_core::auth::mfa::{RecoveryCodes, TotpIssuer, TotpSecret};
use secure_core::auth::password::{Argon2Params, HashLimit, PasswordHash, PasswordHasher};
use secure_core::auth::{Amr, Principal, Role, Scope};
use secure_core::config::{Keys, Profile, SecurityConfig};
use secure_core::crypto::DataKeys;
use secure_core::policy::SecureApp;
use secure_core::prelude::*;

use secure_core::sql::Database;
use serde_json::{Value, json};
use tower::ServiceExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum TestRole {
    Admin,
    Member,
}

/// What API keys may be made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Scope)]
enum TestScope {
    #[scope(rename = "notes:read")]
    NotesRead,
    #[scope(rename = "notes:write")]
    NotesWrite,
}

/// A route keys with either scope reach: who is calling.
#[secure_handler(auth, scopes(TestScope::NotesRead, TestScope::NotesWrite))]
async fn read_notes(user: Principal<TestRole>) -> Json<Value> {
    Json(json!({
        "subject": user.subject(),
        "roles": user.roles().iter().map(|r| r.as_str()).collect::<Vec<_>>(),
    }))
}

/// A route only `notes:write` keys reach.
#[secure_handler(auth, scopes(TestScope::NotesWrite))]
async fn write_notes() -> StatusCode {
    StatusCode::CREATED
}

/// Who the access token says the caller is.
#[secure_handler(auth)]
async fn me(user: Principal<TestRole>) -> Json<Value> {
    Json(json!({
        "subject": user.subject(),
        "roles": user.roles().iter().map(|r| r.as_str()).collect::<Vec<_>>(),
    }))
}

/// Cheap Argon2 for tests (the parameters are what a rehash compares).
const WEAK: Argon2Params = Argon2Params {
    memory_kib: 8 * 1024,
    iterations: 1,
    parallelism: 1,
};
const STRONGER: Argon2Params = Argon2Params {
    memory_kib: 9 * 1024,
    iterations: 1,
    parallelism: 1,
};

struct Service {
    app: SecureApp,
    accounts: Accounts,
    store: SqlAccountStore,
    data_keys: DataKeys,
}

async fn service(db: Database, params: Argon2Params) -> Service {
    service_with(db, params, |b| b).await
}

async fn service_with(
    db: Database,
    params: Argon2Params,
    settings: impl FnOnce(AccountsBuilder) -> AccountsBuilder,
) -> Service {
    let config = SecurityConfig::new().with_keys(Keys::ephemeral());
    service_on(db, params, config, settings).await
}

async fn service_on(
    db: Database,
    params: Argon2Params,
    config: SecurityConfig,
    settings: impl FnOnce(AccountsBuilder) -> AccountsBuilder,
) -> Service {
    db.migrate().await.unwrap();
    let data_keys = config.keys().unwrap().data_keys();
    let builder = Accounts::builder(db.clone(), &config, TestRole::Member)
        .password_hasher(PasswordHasher::with_params(params).unwrap())
        .admin_role(TestRole::Admin);
    let accounts = settings(builder).build().await.unwrap();
    let app = SecureRouter::<()>::new()
        .route("/me", get(me))
        .route("/notes", get(read_notes).post(write_notes))
        .merge(accounts.router())
        .into_app(config.authenticator(accounts.authenticator()))
        .unwrap();
    Service {
        app,
        accounts,
        store: SqlAccountStore::new(db),
        data_keys,
    }
}

/// Each request from its own client address unless a test says otherwise: the 5 sign-ins a
/// minute per address and name are tested on their own.
static NEXT_ADDRESS: AtomicU32 = AtomicU32::new(1);

impl Service {
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> (StatusCode, Value) {
        let n = NEXT_ADDRESS.fetch_add(1, Ordering::Relaxed);
        let from = SocketAddr::from(([10, (n >> 16) as u8, (n >> 8) as u8, n as u8], 40000));
        self.call_from(from, method, path, token, body).await
    }

    async fn call_from(
        &self,
        from: SocketAddr,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> (StatusCode, Value) {
        let mut headers = Vec::new();
        if let Some(token) = token {
            headers.push((header::AUTHORIZATION.as_str(), format!("Bearer {token}")));
        }
        let (status, _, value) = self.send(from, method, path, &headers, body).await;
        (status, value)
    }

    /// A request with these headers; the answer's status, headers and JSON body.
    async fn send(
        &self,
        from: SocketAddr,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: Value,
    ) -> (StatusCode, axum::http::HeaderMap, Value) {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json");
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let mut request = request.body(Body::from(body.to_string())).unwrap();
        request.extensions_mut().insert(ConnectInfo(from));
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, headers, value)
    }

    async fn signup(&self, username: &str, password: &str) -> String {
        let (status, body) = self
            .call(
                "POST",
                "/auth/signup",
                None,
                json!({"username": username, "email": format!("{username}@example.com"), "password": password}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    async fn sign_in(&self, username: &str, password: &str) -> (StatusCode, Value) {
        self.call(
            "POST",
            "/auth/sign-in",
            None,
            json!({"username": username, "password": password}),
        )
        .await
    }

    async fn refresh(&self, refresh_token: &Value) -> (StatusCode, Value) {
        self.call(
            "POST",
            "/auth/refresh",
            None,
            json!({"refresh_token": refresh_token}),
        )
        .await
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

const PASSWORD: &str = "correct horse battery staple";

async fn on_each_database(test: &str, body: impl AsyncFn(Database)) {
    body(Database::connect("sqlite::memory:").await.unwrap()).await;
    if let Some(pg) = identity_support::PostgresDb::new(test).await {
        body(Database::Postgres(pg.pool.clone())).await;
        pg.cleanup().await;
    }
}

#[tokio::test]
async fn sign_up_sign_in_refresh_and_sign_out() {
    on_each_database("accounts::sign_up_sign_in_refresh_and_sign_out", async |db| {
        let s = service(db, WEAK).await;
        let id = s.signup("ada", PASSWORD).await;
        // The name is taken; a role cannot be asked for.
        let (status, _) = s
            .call("POST", "/auth/signup", None, json!({"username": "ada", "email": "a@example.com", "password": PASSWORD}))
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        let (status, _) = s
            .call("POST", "/auth/signup", None, json!({"username": "eve", "email": "e@example.com", "password": PASSWORD, "roles": ["admin"]}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

        // A wrong password and an unknown name get the same answer.
        let (wrong, wrong_body) = s.sign_in("ada", "not the password").await;
        let (unknown, unknown_body) = s.sign_in("nobody", "not the password").await;
        assert_eq!((wrong, unknown), (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED));
        assert_eq!(wrong_body["code"], "invalid_credentials");
        assert_eq!(wrong_body, unknown_body);

        // `Ada` signs in as `ada`.
        let (status, pair) = s.sign_in("Ada", PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{pair}");
        assert_eq!(pair["token_type"], "Bearer");
        assert!(pair["device_token"].is_string());
        let access = pair["access_token"].as_str().unwrap();
        let (status, who) = s.call("GET", "/me", Some(access), Value::Null).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(who, json!({"subject": id, "roles": ["member"]}));
        let first = s.accounts.tokens().verify(access).unwrap();
        assert_eq!(first.amr, [Amr::Pwd]);

        // A refresh keeps the sign-in's time and methods, and gives a new refresh token.
        let (status, renewed) = s.refresh(&pair["refresh_token"]).await;
        assert_eq!(status, StatusCode::OK, "{renewed}");
        assert_ne!(renewed["refresh_token"], pair["refresh_token"]);
        let claims = s
            .accounts
            .tokens()
            .verify(renewed["access_token"].as_str().unwrap())
            .unwrap();
        assert_eq!((claims.auth_time, claims.amr), (first.auth_time, first.amr));

        // The old refresh token again: reuse, which ends the family, the new token with it.
        assert_eq!(s.refresh(&pair["refresh_token"]).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(s.refresh(&renewed["refresh_token"]).await.0, StatusCode::UNAUTHORIZED);

        // Sign-out ends the family of the token given.
        let (_, pair) = s.sign_in("ada", PASSWORD).await;
        let (status, _) = s
            .call("POST", "/auth/sign-out", None, json!({"refresh_token": pair["refresh_token"]}))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(s.refresh(&pair["refresh_token"]).await.0, StatusCode::UNAUTHORIZED);
    })
    .await;
}

#[tokio::test]
async fn roles_are_read_again_and_changed_credentials_end_every_family() {
    on_each_database("accounts::roles_are_read_again", async |db| {
        let s = service(db, WEAK).await;
        let id = s.signup("grace", PASSWORD).await;
        let (_, phone) = s.sign_in("grace", PASSWORD).await;
        let (_, laptop) = s.sign_in("grace", PASSWORD).await;

        // Promoted: the next refresh carries the role; demoted: the one after drops it.
        assert!(s.store.set_roles(&id, &["admin", "member"]).await.unwrap());
        let (status, phone) = s.refresh(&phone["refresh_token"]).await;
        assert_eq!(status, StatusCode::OK);
        let roles = s
            .accounts
            .tokens()
            .verify(phone["access_token"].as_str().unwrap())
            .unwrap()
            .roles;
        assert_eq!(roles, ["admin", "member"]);
        assert!(s.store.set_roles(&id, &["member"]).await.unwrap());
        let (_, phone) = s.refresh(&phone["refresh_token"]).await;
        let (_, who) = s
            .call("GET", "/me", phone["access_token"].as_str(), Value::Null)
            .await;
        assert_eq!(who["roles"], json!(["member"]));

        // Signing out everywhere from the phone ends the laptop's family too.
        let (status, _) = s
            .call(
                "POST",
                "/auth/sign-out/all",
                phone["access_token"].as_str(),
                Value::Null,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(
            s.refresh(&laptop["refresh_token"]).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            s.refresh(&phone["refresh_token"]).await.0,
            StatusCode::UNAUTHORIZED
        );
        // A new sign-in works, and its family lives.
        let (_, pair) = s.sign_in("grace", PASSWORD).await;
        assert_eq!(s.refresh(&pair["refresh_token"]).await.0, StatusCode::OK);

        // A family whose credential version is behind ends even though nothing revoked it.
        let (_, pair) = s.sign_in("grace", PASSWORD).await;
        s.store.end_sign_ins(&id).await.unwrap();
        assert_eq!(
            s.refresh(&pair["refresh_token"]).await.0,
            StatusCode::UNAUTHORIZED
        );
    })
    .await;
}

#[tokio::test]
async fn a_family_without_its_sign_in_record_is_never_renewed_as_fresh() {
    on_each_database(
        "accounts::a_family_without_its_sign_in_record",
        async |db| {
            let s = service(db.clone(), WEAK).await;
            s.signup("linus", PASSWORD).await;
            let (_, pair) = s.sign_in("linus", PASSWORD).await;
            // The record is gone (a purge, a restore from an older backup).
            s.store.purge_sign_ins(now() + 60).await.unwrap();
            assert_eq!(
                s.refresh(&pair["refresh_token"]).await.0,
                StatusCode::UNAUTHORIZED
            );
        },
    )
    .await;
}

#[tokio::test]
async fn an_outdated_hash_is_replaced_at_sign_in() {
    on_each_database("accounts::rehash", async |db| {
        let old = service(db.clone(), WEAK).await;
        let id = old.signup("alan", PASSWORD).await;
        let before = old.store.by_id(&id).await.unwrap().unwrap().password_hash;
        assert_eq!(PasswordHash::parse(&before).unwrap().params(), WEAK);
        // The service restarts with stronger parameters; the next sign-in upgrades the hash.
        let new = service(db, STRONGER).await;
        assert_eq!(new.sign_in("alan", PASSWORD).await.0, StatusCode::OK);
        let after = new.store.by_id(&id).await.unwrap().unwrap().password_hash;
        assert_ne!(after, before);
        assert_eq!(PasswordHash::parse(&after).unwrap().params(), STRONGER);
        // The same password still signs in; a wrong one never rehashes.
        assert_eq!(new.sign_in("alan", PASSWORD).await.0, StatusCode::OK);
        assert_eq!(
            new.sign_in("alan", "wrong").await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            new.store.by_id(&id).await.unwrap().unwrap().password_hash,
            after
        );
    })
    .await;
}

fn totp_code(secret: &TotpSecret, at: u64) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret.to_base32().expose_secret()).unwrap();
    totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_secret(secret)
        .build()
        .unwrap()
        .generate(at)
        .to_string()
}

#[tokio::test]
async fn an_account_with_a_second_factor_needs_it() {
    on_each_database("accounts::second_factor", async |db| {
        let s = service(db.clone(), WEAK).await;
        let id = s.signup("barbara", PASSWORD).await;
        // Enrolled (the enrolment routes come next): a sealed secret and one recovery code.
        let secret = TotpIssuer::new("tests")
            .unwrap()
            .enroll("barbara")
            .unwrap()
            .into_secret();
        let sealed = seal_totp_secret(&s.data_keys, &id, &secret);
        let codes = RecoveryCodes::generate();
        let hash = codes.hashes()[0].to_stored_string();
        db.query("UPDATE secure_accounts SET totp_secret = $1 WHERE id = $2")
            .bind(sealed.as_str())
            .bind(id.as_str())
            .execute()
            .await
            .unwrap();
        db.query(
        "INSERT INTO secure_account_recovery_codes (id, user_id, code_hash) VALUES ('c1', $1, $2)",
    )
    .bind(id.as_str())
    .bind(hash.as_str())
    .execute()
    .await
    .unwrap();

        let with = |otp: &str| json!({"username": "barbara", "password": PASSWORD, "otp": otp});
        let (status, body) = s.sign_in("barbara", PASSWORD).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("mfa_required"))
        );
        let (status, body) = s.call("POST", "/auth/sign-in", None, with("000000")).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_otp"))
        );
        // The current code signs in, once; the tokens say so.
        let code = totp_code(&secret, now() as u64);
        let (status, pair) = s.call("POST", "/auth/sign-in", None, with(&code)).await;
        assert_eq!(status, StatusCode::OK, "{pair}");
        let claims = s
            .accounts
            .tokens()
            .verify(pair["access_token"].as_str().unwrap())
            .unwrap();
        assert_eq!(claims.amr, [Amr::Pwd, Amr::Otp]);
        let (status, _) = s.call("POST", "/auth/sign-in", None, with(&code)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        // The recovery code works once.
        let recovery = codes.codes()[0].expose_secret().to_owned();
        assert_eq!(
            s.call("POST", "/auth/sign-in", None, with(&recovery))
                .await
                .0,
            StatusCode::OK
        );
        assert_eq!(
            s.call("POST", "/auth/sign-in", None, with(&recovery))
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
        // A plain secret written into the row is not read: sign-in fails closed.
        db.query("UPDATE secure_accounts SET totp_secret = $1 WHERE id = $2")
            .bind(secret.to_base32().expose_secret())
            .bind(id.as_str())
            .execute()
            .await
            .unwrap();
        let code = totp_code(&secret, now() as u64 + 30);
        let (status, _) = s.call("POST", "/auth/sign-in", None, with(&code)).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    })
    .await;
}

#[tokio::test]
async fn five_sign_ins_a_minute_per_address_and_name() {
    let s = service(Database::connect("sqlite::memory:").await.unwrap(), WEAK).await;
    s.signup("edsger", PASSWORD).await;
    let attempt = json!({"username": "edsger", "password": "wrong"});
    let here = SocketAddr::from(([192, 0, 2, 1], 1));
    for _ in 0..5 {
        let (status, _) = s
            .call_from(here, "POST", "/auth/sign-in", None, attempt.clone())
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _) = s
        .call_from(here, "POST", "/auth/sign-in", None, attempt.clone())
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // Another name from the same address, and the same name from another, are counted apart.
    let other = json!({"username": "someone", "password": "wrong"});
    let (status, _) = s
        .call_from(here, "POST", "/auth/sign-in", None, other)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let there = SocketAddr::from(([192, 0, 2, 2], 1));
    let (status, body) = s
        .call_from(there, "POST", "/auth/sign-in", None, attempt)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test]
async fn closed_signup_serves_no_signup_route_and_the_routes_are_in_the_policy_table() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    db.migrate().await.unwrap();
    let config = SecurityConfig::new().with_keys(Keys::ephemeral());
    let accounts = Accounts::builder(db, &config, TestRole::Member)
        .open_signup(false)
        .prefix("/account")
        .build()
        .await
        .unwrap();
    let router = SecureRouter::<()>::new().merge(accounts.router());
    let table = router.policies().to_string();
    for path in [
        "/account/sign-in",
        "/account/refresh",
        "/account/sign-out",
        "/account/sign-out/all",
    ] {
        assert!(table.contains(path), "{table}");
    }
    assert!(!table.contains("signup"), "{table}");
    let bad = Accounts::builder(
        Database::connect("sqlite::memory:").await.unwrap(),
        &config,
        TestRole::Member,
    )
    .prefix("auth/")
    .build()
    .await;
    assert!(bad.is_err());
    // Without keys there are no tokens to issue.
    let keyless = Accounts::builder(
        Database::connect("sqlite::memory:").await.unwrap(),
        &SecurityConfig::new(),
        TestRole::Member,
    )
    .build()
    .await;
    assert!(keyless.unwrap_err().to_string().contains("keys"));
}

/// Makes the sign-in behind `pair`'s family an hour old and refreshes: the access token of
/// an old sign-in (the refresh keeps its time).
async fn aged(s: &Service, db: &Database, pair: &Value) -> Value {
    db.query("UPDATE secure_account_signins SET auth_time = auth_time - 3600")
        .execute()
        .await
        .unwrap();
    let (status, pair) = s.refresh(&pair["refresh_token"]).await;
    assert_eq!(status, StatusCode::OK);
    pair
}

fn access(pair: &Value) -> Option<&str> {
    pair["access_token"].as_str()
}

#[tokio::test]
async fn a_password_change_needs_a_fresh_sign_in_and_ends_every_other() {
    on_each_database("accounts::password_change", async |db| {
        let s = service(db.clone(), WEAK).await;
        s.signup("donald", PASSWORD).await;
        let (_, other) = s.sign_in("donald", PASSWORD).await;
        let (_, mine) = s.sign_in("donald", PASSWORD).await;
        let old = aged(&s, &db, &mine).await;
        let change =
            json!({"current_password": PASSWORD, "new_password": "a new and longer passphrase"});
        // An hour-old sign-in: step up first.
        let (status, body) = s
            .call("POST", "/auth/password", access(&old), change.clone())
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        let (status, _) = s
            .call(
                "POST",
                "/auth/reauth",
                access(&old),
                json!({"password": "wrong"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, fresh) = s
            .call(
                "POST",
                "/auth/reauth",
                access(&old),
                json!({"password": PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{fresh}");
        // The wrong current password, and a new one the rules refuse.
        let wrong =
            json!({"current_password": "wrong", "new_password": "a new and longer passphrase"});
        assert_eq!(
            s.call("POST", "/auth/password", access(&fresh), wrong)
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
        let short = json!({"current_password": PASSWORD, "new_password": "short"});
        let (status, body) = s
            .call("POST", "/auth/password", access(&fresh), short)
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["errors"][0]["field"], "new_password", "{body}");
        // Changed: the caller goes on with a new pair; every other family ends.
        let (status, next) = s
            .call("POST", "/auth/password", access(&fresh), change)
            .await;
        assert_eq!(status, StatusCode::OK, "{next}");
        assert_eq!(
            s.refresh(&other["refresh_token"]).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            s.refresh(&fresh["refresh_token"]).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(s.refresh(&next["refresh_token"]).await.0, StatusCode::OK);
        assert_eq!(
            s.sign_in("donald", PASSWORD).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            s.sign_in("donald", "a new and longer passphrase").await.0,
            StatusCode::OK
        );
    })
    .await;
}

#[tokio::test]
async fn the_second_factor_is_enrolled_confirmed_renewed_and_turned_off() {
    on_each_database("accounts::mfa_lifecycle", async |db| {
        let s = service(db.clone(), WEAK).await;
        s.signup("frances", PASSWORD).await;
        let (_, other) = s.sign_in("frances", PASSWORD).await;
        let (_, pair) = s.sign_in("frances", PASSWORD).await;
        let (status, enrolment) = s
            .call("POST", "/auth/mfa/enroll", access(&pair), Value::Null)
            .await;
        assert_eq!(status, StatusCode::OK, "{enrolment}");
        assert!(
            enrolment["otpauth_uri"]
                .as_str()
                .unwrap()
                .starts_with("otpauth://totp/")
        );
        let secret =
            TotpSecret::from_base32(&SecretString::from(enrolment["secret"].as_str().unwrap()))
                .unwrap();
        // Not on until confirmed: sign-in needs no code yet.
        assert_eq!(s.sign_in("frances", PASSWORD).await.0, StatusCode::OK);
        let (status, body) = s
            .call(
                "POST",
                "/auth/mfa/confirm",
                access(&pair),
                json!({"otp": "000000"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let code = totp_code(&secret, now() as u64);
        let (status, confirmed) = s
            .call(
                "POST",
                "/auth/mfa/confirm",
                access(&pair),
                json!({"otp": code}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{confirmed}");
        let codes: Vec<String> = confirmed["recovery_codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(codes.len(), 10);
        let tokens = &confirmed["tokens"];
        let claims = s.accounts.tokens().verify(access(tokens).unwrap()).unwrap();
        assert_eq!(claims.amr, [Amr::Pwd, Amr::Otp]);
        assert_eq!(
            s.refresh(&other["refresh_token"]).await.0,
            StatusCode::UNAUTHORIZED
        );
        // The confirming code is used: it does not sign in again.
        let (status, body) = s
            .call(
                "POST",
                "/auth/sign-in",
                None,
                json!({"username": "frances", "password": PASSWORD, "otp": code}),
            )
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_otp"))
        );
        // On: a sign-in needs the code; enrolling again is a conflict.
        assert_eq!(
            s.sign_in("frances", PASSWORD).await.1["code"],
            "mfa_required"
        );
        assert_eq!(
            s.call("POST", "/auth/mfa/enroll", access(tokens), Value::Null)
                .await
                .0,
            StatusCode::CONFLICT
        );
        // New recovery codes replace the old ones.
        let (status, renewed) = s
            .call(
                "POST",
                "/auth/mfa/recovery-codes",
                access(tokens),
                Value::Null,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{renewed}");
        let with = |otp: &str| json!({"username": "frances", "password": PASSWORD, "otp": otp});
        assert_eq!(
            s.call("POST", "/auth/sign-in", None, with(&codes[0]))
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
        let new_code = renewed["recovery_codes"][0].as_str().unwrap();
        assert_eq!(
            s.call("POST", "/auth/sign-in", None, with(new_code))
                .await
                .0,
            StatusCode::OK
        );
        // Off, with the password: sign-in needs no code again.
        let tokens = &renewed["tokens"];
        let (status, _) = s
            .call(
                "POST",
                "/auth/mfa/disable",
                access(tokens),
                json!({"password": "wrong"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, off) = s
            .call(
                "POST",
                "/auth/mfa/disable",
                access(tokens),
                json!({"password": PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{off}");
        assert_eq!(s.sign_in("frances", PASSWORD).await.0, StatusCode::OK);
        // Changing the second factor takes a sign-in that presented it (`mfa`): not the pair
        // after turning it off, nor an access token from before enrolment.
        for pair in [&off, &other] {
            assert_eq!(
                s.call(
                    "POST",
                    "/auth/mfa/disable",
                    access(pair),
                    json!({"password": PASSWORD})
                )
                .await
                .0,
                StatusCode::FORBIDDEN
            );
        }
    })
    .await;
}

/// Turns the second factor on for `username` through the routes; the secret.
async fn enrolled(s: &Service, username: &str) -> TotpSecret {
    let (_, pair) = s.sign_in(username, PASSWORD).await;
    let (_, enrolment) = s
        .call("POST", "/auth/mfa/enroll", access(&pair), Value::Null)
        .await;
    let secret =
        TotpSecret::from_base32(&SecretString::from(enrolment["secret"].as_str().unwrap()))
            .unwrap();
    let code = totp_code(&secret, now() as u64);
    let (status, _) = s
        .call(
            "POST",
            "/auth/mfa/confirm",
            access(&pair),
            json!({"otp": code}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    secret
}

#[tokio::test]
async fn an_administrator_resets_another_accounts_second_factor() {
    on_each_database("accounts::admin_reset", async |db| {
        let s = service(db, WEAK).await;
        let admin = s.signup("root", PASSWORD).await;
        let user = s.signup("joan", PASSWORD).await;
        assert!(s.store.set_roles(&admin, &["admin"]).await.unwrap());
        let admin_secret = enrolled(&s, "root").await;
        enrolled(&s, "joan").await;
        let (_, joan) = s
            .call(
                "POST",
                "/auth/sign-in",
                None,
                json!({"username": "joan", "password": PASSWORD, "otp": "x"}),
            )
            .await;
        assert_eq!(joan["code"], "invalid_otp");
        let reset = |id: &str| format!("/auth/admin/accounts/{id}/mfa/reset");

        // A member may not; an administrator without a second factor in this sign-in may not.
        s.signup("mallory", PASSWORD).await;
        let (_, member) = s.sign_in("mallory", PASSWORD).await;
        assert_eq!(
            s.call("POST", &reset(&user), access(&member), Value::Null)
                .await
                .0,
            StatusCode::FORBIDDEN
        );
        let code = totp_code(&admin_secret, now() as u64 + 30);
        let (status, root) = s
            .call(
                "POST",
                "/auth/sign-in",
                None,
                json!({"username": "root", "password": PASSWORD, "otp": code}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{root}");
        // Its own account, an id no account has, a malformed id.
        assert_eq!(
            s.call("POST", &reset(&admin), access(&root), Value::Null)
                .await
                .0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            s.call(
                "POST",
                &reset("AAAAAAAAAAAAAAAAAAAAAA"),
                access(&root),
                Value::Null
            )
            .await
            .0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            s.call("POST", &reset("x'--"), access(&root), Value::Null)
                .await
                .0,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        // Reset: joan signs in with her password alone.
        assert_eq!(
            s.call("POST", &reset(&user), access(&root), Value::Null)
                .await
                .0,
            StatusCode::NO_CONTENT
        );
        assert_eq!(s.sign_in("joan", PASSWORD).await.0, StatusCode::OK);
        assert_eq!(s.sign_in("mallory", PASSWORD).await.0, StatusCode::OK);
        // The route declares the role in the policy table.
        let table = s.app.policies().to_string();
        let line = table.lines().find(|l| l.contains("mfa/reset")).unwrap();
        assert!(line.contains("admin"), "{line}");
    })
    .await;
}

/// `name=value` of the answer's session cookie.
fn session_cookie(headers: &axum::http::HeaderMap) -> String {
    let set = headers[header::SET_COOKIE].to_str().unwrap();
    assert!(set.starts_with("__Host-session="), "{set}");
    set.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_role_change_ends_the_sessions_that_hold_the_old_roles() {
    on_each_database("accounts::role_change_ends_sessions", async |db| {
        let s = service_with(db, WEAK, |b| b.cookie_sessions(true)).await;
        let id = s.signup("joan", PASSWORD).await;
        let from = SocketAddr::from(([198, 51, 100, 9], 1));
        let sign_in = json!({"username": "joan", "password": PASSWORD});
        let (_, headers, _) = s
            .send(from, "POST", "/auth/session/sign-in", &[], sign_in)
            .await;
        let cookie = session_cookie(&headers);
        let (_, pair) = s.sign_in("joan", PASSWORD).await;
        let whoami = async |cookie: String| {
            s.send(from, "GET", "/me", &[("cookie", cookie)], Value::Null)
                .await
        };
        assert_eq!(whoami(cookie.clone()).await.0, StatusCode::OK);

        let id = AccountId::parse(&id).unwrap();
        assert!(s.accounts.set_roles(&id, &[TestRole::Admin]).await.unwrap());
        // The session held the sign-in's roles: it ends. The family goes on, with the new ones.
        assert_eq!(whoami(cookie).await.0, StatusCode::UNAUTHORIZED);
        let (status, pair) = s.refresh(&pair["refresh_token"]).await;
        assert_eq!(status, StatusCode::OK);
        let claims = s
            .accounts
            .tokens()
            .verify(pair["access_token"].as_str().unwrap())
            .unwrap();
        assert_eq!(claims.roles, ["admin"]);
        assert!(
            !s.accounts
                .set_roles(
                    &AccountId::parse(&secure_core::accounts::new_id()).unwrap(),
                    &[TestRole::Member]
                )
                .await
                .unwrap()
        );
    })
    .await;
}

#[tokio::test]
async fn cookie_sessions_from_the_same_flows() {
    on_each_database("accounts::cookie_sessions", async |db| {
        let s = service_with(db, WEAK, |b| b.cookie_sessions(true)).await;
        s.signup("hedy", PASSWORD).await;
        let from = SocketAddr::from(([198, 51, 100, 7], 1));
        let sign_in = json!({"username": "hedy", "password": PASSWORD});
        let (_, bearer) = s.sign_in("hedy", PASSWORD).await;
        let (status, headers, body) = s
            .send(from, "POST", "/auth/session/sign-in", &[], sign_in.clone())
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body["device_token"].is_string());
        let cookie = session_cookie(&headers);
        let csrf = body["csrf_token"].as_str().unwrap().to_owned();
        // Another site cannot sign the browser in (login CSRF).
        let (status, headers, _) = s
            .send(
                from,
                "POST",
                "/auth/session/sign-in",
                &[("sec-fetch-site", "cross-site".to_owned())],
                sign_in.clone(),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(headers.get(header::SET_COOKIE).is_none());
        let with_cookie = |cookie: &str, csrf: &str| {
            vec![
                ("cookie", cookie.to_owned()),
                ("x-csrf-token", csrf.to_owned()),
                ("sec-fetch-site", "same-origin".to_owned()),
            ]
        };
        let (status, _, who) = s
            .send(
                from,
                "GET",
                "/me",
                &[("cookie", cookie.clone())],
                Value::Null,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{who}");
        // An unsafe request without the CSRF token is refused.
        let change =
            json!({"current_password": PASSWORD, "new_password": "another long passphrase"});
        let (status, _, _) = s
            .send(
                from,
                "POST",
                "/auth/password",
                &[("cookie", cookie.clone())],
                change.clone(),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // A password change renews this session and ends every other sign-in, bearer ones too.
        let (status, headers, body) = s
            .send(
                from,
                "POST",
                "/auth/password",
                &with_cookie(&cookie, &csrf),
                change,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let renewed = session_cookie(&headers);
        assert_ne!(renewed, cookie);
        let csrf = body["csrf_token"].as_str().unwrap().to_owned();
        assert_eq!(
            s.send(from, "GET", "/me", &[("cookie", cookie)], Value::Null)
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            s.send(
                from,
                "GET",
                "/me",
                &[("cookie", renewed.clone())],
                Value::Null
            )
            .await
            .0,
            StatusCode::OK
        );
        assert_eq!(
            s.refresh(&bearer["refresh_token"]).await.0,
            StatusCode::UNAUTHORIZED
        );
        // Step-up keeps the session under a new id.
        let (status, headers, body) = s
            .send(
                from,
                "POST",
                "/auth/reauth",
                &with_cookie(&renewed, &csrf),
                json!({"password": "another long passphrase"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let stepped = session_cookie(&headers);
        let csrf = body["csrf_token"].as_str().unwrap().to_owned();
        assert_eq!(
            s.send(from, "GET", "/me", &[("cookie", renewed)], Value::Null)
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
        // A bearer caller has no session to end; the cookie caller's ends, and the cookie clears.
        let (_, bearer) = s.sign_in("hedy", "another long passphrase").await;
        assert_eq!(
            s.call(
                "POST",
                "/auth/session/sign-out",
                access(&bearer),
                Value::Null
            )
            .await
            .0,
            StatusCode::BAD_REQUEST
        );
        let (status, headers, _) = s
            .send(
                from,
                "POST",
                "/auth/session/sign-out",
                &with_cookie(&stepped, &csrf),
                Value::Null,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert!(
            headers[header::SET_COOKIE]
                .to_str()
                .unwrap()
                .contains("Max-Age=0")
        );
        assert_eq!(
            s.send(from, "GET", "/me", &[("cookie", stepped)], Value::Null)
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
    })
    .await;
}

#[tokio::test]
async fn cookie_only_accounts_serve_no_token_routes() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    let s = service_with(db.clone(), WEAK, |b| {
        b.cookie_sessions(true).bearer_tokens(false)
    })
    .await;
    let table = s.app.policies().to_string();
    let paths: Vec<&str> = table
        .lines()
        .filter_map(|line| line.split_whitespace().nth(1))
        .collect();
    assert!(paths.contains(&"/auth/session/sign-in"), "{table}");
    for gone in ["/auth/sign-in", "/auth/refresh", "/auth/sign-out"] {
        assert!(!paths.contains(&gone), "{table}");
    }
    let config = SecurityConfig::new().with_keys(Keys::ephemeral());
    let neither = Accounts::builder(db, &config, TestRole::Member)
        .bearer_tokens(false)
        .build()
        .await;
    assert!(neither.unwrap_err().to_string().contains("neither"));
}

/// The notices a service sent, as an app's mailer would receive them.
#[derive(Clone, Default)]
struct Outbox(std::sync::Arc<std::sync::Mutex<Vec<ResetNotice>>>);

impl Notifier for Outbox {
    async fn password_reset(&self, notice: ResetNotice) -> Result<(), NotifyError> {
        self.0.lock().unwrap().push(notice);
        Ok(())
    }
}

impl Outbox {
    /// The notices delivered so far (delivery runs after the answer: wait for it briefly).
    async fn delivered(&self, count: usize) -> Vec<ResetNotice> {
        for _ in 0..200 {
            if self.0.lock().unwrap().len() >= count {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        self.0.lock().unwrap().clone()
    }
}

#[tokio::test]
async fn a_password_reset_answers_alike_works_once_and_ends_every_sign_in() {
    on_each_database("accounts::password_reset", async |db| {
        let outbox = Outbox::default();
        let mailer = outbox.clone();
        let s = service_with(db.clone(), WEAK, move |b| b.password_reset(mailer)).await;
        let id = s.signup("katherine", PASSWORD).await;
        let (_, before) = s.sign_in("katherine", PASSWORD).await;

        // The same answer for a name no account has; a notice only for the one that has it.
        let ask = |name: &str| json!({"username": name});
        let (known, known_body) = s
            .call("POST", "/auth/password-reset", None, ask("Katherine"))
            .await;
        let (unknown, unknown_body) = s
            .call("POST", "/auth/password-reset", None, ask("nobody"))
            .await;
        assert_eq!(
            (known, unknown),
            (StatusCode::ACCEPTED, StatusCode::ACCEPTED)
        );
        assert_eq!(known_body, unknown_body);
        let notices = outbox.delivered(1).await;
        assert_eq!(notices.len(), 1);
        assert_eq!(
            (notices[0].account_id.as_str(), notices[0].email.as_str()),
            (id.as_str(), "katherine@example.com")
        );
        assert!(!format!("{:?}", notices[0]).contains(notices[0].token.expose_secret()));
        let token = notices[0].token.expose_secret().to_owned();

        // A password the rules refuse leaves the token good; then it works once.
        let confirm = |password: &str| json!({"token": token, "new_password": password});
        let (status, body) = s
            .call(
                "POST",
                "/auth/password-reset/confirm",
                None,
                confirm("short"),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let (status, body) = s
            .call(
                "POST",
                "/auth/password-reset/confirm",
                None,
                confirm("a brand new passphrase"),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body["device_token"].is_string());
        let (status, _) = s
            .call(
                "POST",
                "/auth/password-reset/confirm",
                None,
                confirm("yet another passphrase"),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            s.refresh(&before["refresh_token"]).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            s.sign_in("katherine", PASSWORD).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            s.sign_in("katherine", "a brand new passphrase").await.0,
            StatusCode::OK
        );

        // An expired token does not work; nor does a made-up one.
        s.call("POST", "/auth/password-reset", None, ask("katherine"))
            .await;
        let token = outbox.delivered(2).await[1]
            .token
            .expose_secret()
            .to_owned();
        db.query("UPDATE secure_account_resets SET expires_at = expires_at - 901")
            .execute()
            .await
            .unwrap();
        let late = json!({"token": token, "new_password": "too late for this one"});
        assert_eq!(
            s.call("POST", "/auth/password-reset/confirm", None, late)
                .await
                .0,
            StatusCode::BAD_REQUEST
        );
        let made_up = json!({"token": "A".repeat(43), "new_password": "a guess at a token"});
        assert_eq!(
            s.call("POST", "/auth/password-reset/confirm", None, made_up)
                .await
                .0,
            StatusCode::BAD_REQUEST
        );

        // At most three notices an hour per name, whoever asks; the answer stays the same.
        for _ in 0..3 {
            let (status, _) = s
                .call("POST", "/auth/password-reset", None, ask("katherine"))
                .await;
            assert_eq!(status, StatusCode::ACCEPTED);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert_eq!(outbox.delivered(3).await.len(), 3);
    })
    .await;
}

#[tokio::test]
async fn only_answered_attempts_count_against_the_account() {
    // One hash at a time, no waiting for a turn: concurrent sign-ins mostly meet a busy hasher.
    let config = SecurityConfig::new()
        .with_keys(Keys::ephemeral())
        .with_hash_limit(HashLimit {
            concurrent: 1,
            wait: std::time::Duration::ZERO,
        });
    let db = Database::connect("sqlite::memory:").await.unwrap();
    let s = service_on(db.clone(), WEAK, config, |b| b).await;
    s.signup("margaret", PASSWORD).await;
    let mut flood = tokio::task::JoinSet::new();
    for i in 0..16u8 {
        let app = s.app.clone();
        flood.spawn(async move {
            let body = json!({"username": "margaret", "password": "wrong"});
            let mut request = Request::post("/auth/sign-in")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap();
            request
                .extensions_mut()
                .insert(ConnectInfo(SocketAddr::from(([203, 0, 113, i], 1))));
            app.oneshot(request).await.unwrap().status()
        });
    }
    let statuses = flood.join_all().await;
    let busy = statuses
        .iter()
        .filter(|s| **s == StatusCode::SERVICE_UNAVAILABLE)
        .count();
    let wrong = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert_eq!(busy + wrong, 16, "{statuses:?}");
    assert!(busy >= 11, "{statuses:?}");
    // Only the answered ones counted (at most the free five): the owner gets in.
    assert_eq!(s.sign_in("margaret", PASSWORD).await.0, StatusCode::OK);

    // A second factor that cannot be read answers 500, uncounted, as often as it happens.
    let id = s.store.by_username("margaret").await.unwrap().unwrap().id;
    let secret = TotpIssuer::new("tests")
        .unwrap()
        .enroll("margaret")
        .unwrap()
        .into_secret();
    db.query("UPDATE secure_accounts SET totp_secret = 'not sealed' WHERE id = $1")
        .bind(id.as_str())
        .execute()
        .await
        .unwrap();
    let with = |otp: String| json!({"username": "margaret", "password": PASSWORD, "otp": otp});
    for _ in 0..8 {
        let (status, _) = s
            .call("POST", "/auth/sign-in", None, with("123456".into()))
            .await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    }
    db.query("UPDATE secure_accounts SET totp_secret = $1 WHERE id = $2")
        .bind(seal_totp_secret(&s.data_keys, &id, &secret))
        .bind(id.as_str())
        .execute()
        .await
        .unwrap();
    let code = totp_code(&secret, now() as u64);
    assert_eq!(
        s.call("POST", "/auth/sign-in", None, with(code)).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn start_up_stops_when_the_data_key_changed_without_the_previous_one() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    // Generated keys (none is written down): the strength check refuses patterned ones.
    let key = || {
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            rand::random::<[u8; 32]>(),
        )
    };
    let (jwt, csrf) = (key(), key());
    let vars = |data: &str, previous: Option<&str>| {
        let mut vars = vec![
            ("SECURE_JWT_KEY".to_owned(), jwt.clone()),
            ("SECURE_CSRF_KEY".to_owned(), csrf.clone()),
            ("SECURE_DATA_KEY".to_owned(), data.to_owned()),
        ];
        if let Some(previous) = previous {
            vars.push(("SECURE_DATA_KEY_PREVIOUS".to_owned(), previous.to_owned()));
        }
        SecurityConfig::from_vars(vars, Profile::Debug).unwrap()
    };
    let old = key();
    let s = service_on(db.clone(), WEAK, vars(&old, None), |b| b).await;
    s.signup("ada", PASSWORD).await;
    enrolled(&s, "ada").await;
    // The new key alone: the sealed secret does not open, and start-up says how to fix it.
    let new = key();
    let refused = Accounts::builder(db.clone(), &vars(&new, None), TestRole::Member)
        .build()
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.contains("1 of 1"), "{refused}");
    assert!(refused.contains("SECURE_DATA_KEY_PREVIOUS"), "{refused}");
    // Keys generated for this run (a development restart): the fix is another.
    let generated = SecurityConfig::new().with_keys(Keys::ephemeral());
    let refused = Accounts::builder(db.clone(), &generated, TestRole::Member)
        .build()
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.contains("generated"), "{refused}");
    assert!(refused.contains("set SECURE_DATA_KEY"), "{refused}");
    // With the old one as the previous key, it starts.
    let config = vars(&new, Some(&old));
    assert!(
        Accounts::builder(db, &config, TestRole::Member)
            .build()
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn ended_sign_in_records_are_purged_without_the_app_asking() {
    on_each_database("accounts::purge", async |db| {
        let s = service(db.clone(), WEAK).await;
        s.signup("grace", PASSWORD).await;
        s.sign_in("grace", PASSWORD).await;
        s.sign_in("grace", PASSWORD).await;
        let count = || async {
            db.query("SELECT COUNT(*) FROM secure_account_signins")
                .fetch_i64()
                .await
                .unwrap()
                .unwrap()
        };
        assert_eq!(count().await, 2);
        // One record is older than any family can live; the next start purges it at once.
        db.query(
            "UPDATE secure_account_signins SET created_at = created_at - 31 * 86400 \
                  WHERE family_id = (SELECT MIN(family_id) FROM secure_account_signins)",
        )
        .execute()
        .await
        .unwrap();
        let _restarted = service(db.clone(), WEAK).await;
        for _ in 0..200 {
            if count().await == 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(count().await, 1);
    })
    .await;
}

/// A breach list as an app would give one.
struct Listed(&'static [&'static str]);

impl secure_core::auth::password::BreachedPasswords for Listed {
    async fn is_breached(
        &self,
        password: &SecretString,
    ) -> Result<bool, secure_core::auth::password::BreachCheckError> {
        use secure_core::ExposeSecret as _;
        Ok(self.0.contains(&password.expose_secret()))
    }
}

#[tokio::test]
async fn roles_that_need_the_second_factor_breach_list_and_lifetimes_in_one_place() {
    const BREACHED: &str = "password1234567";
    on_each_database("accounts::configured", async |db| {
        let s = service_with(db, WEAK, |b| {
            b.mfa_required_for(&[TestRole::Admin])
                .breached_passwords(Listed(&[BREACHED]))
                .access_token_lifetime(std::time::Duration::from_secs(300))
        })
        .await;
        // A breached password is refused at signup and at a change, on its field.
        let (status, body) = s
            .call(
                "POST",
                "/auth/signup",
                None,
                json!({"username": "kay", "email": "kay@example.com", "password": BREACHED}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["errors"][0]["field"], "password");
        assert_eq!(body["errors"][0]["code"], "breached");
        let id = s.signup("kay", PASSWORD).await;
        let (_, pair) = s.sign_in("kay", PASSWORD).await;
        assert_eq!(pair["expires_in"], 300);
        let (status, body) = s
            .call(
                "POST",
                "/auth/password",
                access(&pair),
                json!({"current_password": PASSWORD, "new_password": BREACHED}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["errors"][0]["field"], "new_password");

        // An administrator without a second factor signs in as if without the role.
        assert!(
            s.accounts
                .set_roles(
                    &AccountId::parse(&id).unwrap(),
                    &[TestRole::Admin, TestRole::Member]
                )
                .await
                .unwrap()
        );
        let roles = |pair: &Value| {
            s.accounts
                .tokens()
                .verify(pair["access_token"].as_str().unwrap())
                .unwrap()
                .roles
        };
        let (_, password_only) = s.sign_in("kay", PASSWORD).await;
        assert_eq!(roles(&password_only), ["member"]);
        let secret = enrolled(&s, "kay").await;
        let (status, with_otp) = s
            .call(
                "POST",
                "/auth/sign-in",
                None,
                json!({"username": "kay", "password": PASSWORD,
                       "otp": totp_code(&secret, now() as u64 + 30)}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{with_otp}");
        assert_eq!(roles(&with_otp), ["admin", "member"]);
        // Its refresh keeps the role; the password-only family never gets it.
        let (_, refreshed) = s.refresh(&with_otp["refresh_token"]).await;
        assert_eq!(roles(&refreshed), ["admin", "member"]);
    })
    .await;
    // A zero lifetime, and a role of another type, stop the build.
    let db = Database::connect("sqlite::memory:").await.unwrap();
    db.migrate().await.unwrap();
    let config = SecurityConfig::new().with_keys(Keys::ephemeral());
    let zero = Accounts::builder(db.clone(), &config, TestRole::Member)
        .refresh_lifetimes(
            std::time::Duration::ZERO,
            std::time::Duration::from_secs(60),
        )
        .build()
        .await;
    assert!(zero.unwrap_err().to_string().contains("token_ttl"));
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
    enum Other {
        Auditor,
    }
    let other = Accounts::builder(db, &config, TestRole::Member)
        .mfa_required_for(&[Other::Auditor])
        .build()
        .await;
    assert!(other.unwrap_err().to_string().contains("\"auditor\""));
}

/// The app's own row for each new account, in the account's transaction.
struct Profiles;

impl secure_core::accounts::SignupHook for Profiles {
    fn on_signup<'a>(
        &'a self,
        tx: &'a mut secure_core::sql::Transaction,
        account: secure_core::accounts::SignedUp<'a>,
    ) -> secure_core::accounts::HookFuture<'a> {
        Box::pin(async move {
            tx.query("INSERT INTO app_profiles (account_id, display_name) VALUES ($1, $2)")
                .bind(account.id)
                .bind(account.username)
                .execute()
                .await
                .map(|_| ())
        })
    }
}

#[tokio::test]
async fn the_apps_rows_for_a_new_account_are_made_with_it_or_not_at_all() {
    on_each_database("accounts::signup_hook", async |db| {
        let store = SqlAccountStore::new(db.clone()).on_signup(Profiles);
        let s = service_with(db.clone(), WEAK, |b| b.store(store)).await;
        db.query(
            "CREATE TABLE IF NOT EXISTS app_profiles (\
             account_id TEXT PRIMARY KEY REFERENCES secure_accounts (id), \
             display_name TEXT NOT NULL CHECK (display_name <> 'broken'))",
        )
        .execute()
        .await
        .unwrap();
        let id = s.signup("lin", PASSWORD).await;
        let profile: Option<(String,)> = db
            .query("SELECT display_name FROM app_profiles WHERE account_id = $1")
            .bind(id.as_str())
            .fetch_optional()
            .await
            .unwrap();
        assert_eq!(profile, Some(("lin".to_owned(),)));
        // The app refuses its row: no account either, and the answer says nothing of why.
        let (status, body) = s
            .call(
                "POST",
                "/auth/signup",
                None,
                json!({"username": "broken", "email": "b@example.com", "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!body.to_string().contains("app_profiles"), "{body}");
        assert!(s.store.by_username("broken").await.unwrap().is_none());
        // create_account runs the hook too.
        let made = s
            .accounts
            .create_account(
                "moe",
                "moe@example.com",
                PASSWORD.into(),
                &[TestRole::Admin],
            )
            .await
            .unwrap();
        let profile: Option<(String,)> = db
            .query("SELECT display_name FROM app_profiles WHERE account_id = $1")
            .bind(made.as_str())
            .fetch_optional()
            .await
            .unwrap();
        assert_eq!(profile, Some(("moe".to_owned(),)));
    })
    .await;
}

#[tokio::test]
async fn a_right_password_earns_a_challenge_that_the_second_factor_completes() {
    on_each_database("accounts::challenge", async |db| {
        let s = service_with(db, WEAK, |b| b.cookie_sessions(true)).await;
        s.signup("nia", PASSWORD).await;
        let secret = enrolled(&s, "nia").await;
        let (status, body) = s.sign_in("nia", PASSWORD).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("mfa_required"))
        );
        let token = body["mfa_token"].as_str().expect("a challenge").to_owned();
        // A wrong password earns none.
        let (_, wrong) = s.sign_in("nia", "not the password").await;
        assert!(wrong.get("mfa_token").is_none(), "{wrong}");

        let complete = |token: &str, otp: &str| json!({"mfa_token": token, "otp": otp});
        let (status, body) = s
            .call("POST", "/auth/sign-in", None, complete(&token, "000000"))
            .await;
        assert_eq!(body["code"], "invalid_otp", "{status} {body}");
        let code = totp_code(&secret, now() as u64 + 30);
        let (status, pair) = s
            .call("POST", "/auth/sign-in", None, complete(&token, &code))
            .await;
        assert_eq!(status, StatusCode::OK, "{pair}");
        let claims = s.accounts.tokens().verify(access(&pair).unwrap()).unwrap();
        assert_eq!(claims.amr, [Amr::Pwd, Amr::Otp]);
        // The code is used; the challenge alone signs nobody in.
        let (_, again) = s
            .call("POST", "/auth/sign-in", None, complete(&token, &code))
            .await;
        assert_eq!(again["code"], "invalid_otp");
        for (body, field) in [
            (json!({"mfa_token": token}), "otp"),
            (
                json!({"mfa_token": token, "otp": code, "username": "nia"}),
                "mfa_token",
            ),
            (json!({"otp": code}), "username"),
        ] {
            let (status, answer) = s.call("POST", "/auth/sign-in", None, body).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
            assert_eq!(answer["errors"][0]["field"], field);
        }

        // Cookie mode completes the same challenge (with a recovery code: this step's TOTP
        // code is used).
        let (status, renewed) = s
            .call(
                "POST",
                "/auth/mfa/recovery-codes",
                access(&pair),
                Value::Null,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{renewed}");
        let codes: Vec<String> = renewed["recovery_codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect();
        let (_, body) = s.sign_in("nia", PASSWORD).await;
        let token = body["mfa_token"].as_str().unwrap().to_owned();
        let code = codes[0].clone();
        let from = SocketAddr::from(([198, 51, 100, 11], 1));
        let (status, headers, _) = s
            .send(
                from,
                "POST",
                "/auth/session/sign-in",
                &[],
                complete(&token, &code),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(!session_cookie(&headers).is_empty());

        // Refused: a forged or altered token, an expired one, one made before the password
        // changed.
        let sealed = |plain: String| {
            s.data_keys
                .seal(b"secure.accounts.mfa_challenge", plain.as_bytes())
        };
        let id = s.store.by_username("nia").await.unwrap().unwrap().id;
        let expired = sealed(format!("{id}\n0\n{}", now() - 1));
        let (_, body) = s.sign_in("nia", PASSWORD).await;
        let before_change = body["mfa_token"].as_str().unwrap().to_owned();
        let mut altered = before_change.clone();
        altered.pop();
        altered.push(if before_change.ends_with('A') {
            'B'
        } else {
            'A'
        });
        let (_, pair) = s
            .call(
                "POST",
                "/auth/sign-in",
                None,
                json!({"username": "nia", "password": PASSWORD, "otp": codes[1]}),
            )
            .await;
        let (status, _) = s
            .call(
                "POST",
                "/auth/password",
                access(&pair),
                json!({"current_password": PASSWORD, "new_password": "another long passphrase"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        for token in [expired, altered, before_change, "v1.nonsense".to_owned()] {
            let (status, body) = s
                .call("POST", "/auth/sign-in", None, complete(&token, "123456"))
                .await;
            assert_eq!(
                (status, body["code"].as_str()),
                (StatusCode::UNAUTHORIZED, Some("invalid_mfa_token")),
                "{token}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn a_key_rotation_signs_nobody_out() {
    use base64::Engine as _;
    let key = || base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 48]>());
    let (old, new, old_csrf, new_csrf, data) = (key(), key(), key(), key(), key());
    let config = |vars: &[(&str, &str)]| {
        let mut all = vec![("SECURE_DATA_KEY", data.as_str())];
        all.extend(vars.iter().copied());
        SecurityConfig::from_vars(all, Profile::Release).unwrap()
    };
    let cookies = |b: AccountsBuilder| b.cookie_sessions(true);
    on_each_database("accounts::key_rotation", async |db| {
        let before = config(&[("SECURE_JWT_KEY", &old), ("SECURE_CSRF_KEY", &old_csrf)]);
        let before = service_on(db.clone(), WEAK, before, cookies).await;
        before.signup("omar", PASSWORD).await;
        let (_, pair) = before.sign_in("omar", PASSWORD).await;
        let from = SocketAddr::from(([198, 51, 100, 21], 1));
        let sign_in = json!({"username": "omar", "password": PASSWORD});
        let (_, headers, body) = before
            .send(from, "POST", "/auth/session/sign-in", &[], sign_in)
            .await;
        let (cookie, csrf) = (
            session_cookie(&headers),
            body["csrf_token"].as_str().unwrap().to_owned(),
        );
        let status_of =
            async |s: &Service, token: &str| s.call("GET", "/me", Some(token), Value::Null).await.0;
        let step_up = async |s: &Service| {
            let headers = [
                ("cookie", cookie.clone()),
                ("x-csrf-token", csrf.clone()),
                ("sec-fetch-site", "same-origin".to_owned()),
            ];
            let body = json!({"password": PASSWORD});
            s.send(from, "POST", "/auth/reauth", &headers, body).await.0
        };

        // A new CSRF key alone would refuse the session's token.
        let unrotated = config(&[("SECURE_JWT_KEY", &old), ("SECURE_CSRF_KEY", &new_csrf)]);
        let unrotated = service_on(db.clone(), WEAK, unrotated, cookies).await;
        assert_eq!(step_up(&unrotated).await, StatusCode::FORBIDDEN);

        // The new keys sign, the old ones still verify: the access token from before works,
        // and so do its refresh family and the session's CSRF token; what is issued now is
        // signed with the new key.
        let during = config(&[
            ("SECURE_JWT_KEY", &new),
            ("SECURE_JWT_KEY_PREVIOUS", &old),
            ("SECURE_CSRF_KEY", &new_csrf),
            ("SECURE_CSRF_KEY_PREVIOUS", &old_csrf),
        ]);
        let during = service_on(db.clone(), WEAK, during, cookies).await;
        assert_eq!(
            status_of(&during, access(&pair).unwrap()).await,
            StatusCode::OK
        );
        assert_eq!(step_up(&during).await, StatusCode::OK);
        let (status, renewed) = during.refresh(&pair["refresh_token"]).await;
        assert_eq!(status, StatusCode::OK, "{renewed}");
        assert_eq!(
            status_of(&during, access(&renewed).unwrap()).await,
            StatusCode::OK
        );
        assert_eq!(
            status_of(&before, access(&renewed).unwrap()).await,
            StatusCode::UNAUTHORIZED
        );

        // Once the old tokens have expired the previous keys go: tokens the old key signed no
        // longer pass, the new key's do.
        let after = config(&[("SECURE_JWT_KEY", &new), ("SECURE_CSRF_KEY", &new_csrf)]);
        let after = service_on(db, WEAK, after, cookies).await;
        assert_eq!(
            status_of(&after, access(&pair).unwrap()).await,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            status_of(&after, access(&renewed).unwrap()).await,
            StatusCode::OK
        );
    })
    .await;
}

#[tokio::test]
async fn api_keys_are_shown_once_scoped_and_revocable() {
    on_each_database("accounts::api_keys", async |db| {
        let s = service_with(db.clone(), WEAK, |b| b.api_keys::<TestScope>("test")).await;
        let id = s.signup("kay", PASSWORD).await;
        let (_, pair) = s.sign_in("kay", PASSWORD).await;
        let user = access(&pair);
        let make = |body: Value| s.call("POST", "/auth/api-keys", user, body);
        let (status, body) = make(json!({"name": "x", "scopes": ["notes:admin"]})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["errors"][0]["field"], "scopes");
        let (status, created) = make(json!({"name": "ci", "scopes": ["notes:read"]})).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let key = created["key"].as_str().unwrap().to_owned();
        let key_id = created["api_key"]["id"].as_str().unwrap().to_owned();
        assert!(key.starts_with("test_") && key.contains(&key_id), "{key}");

        // The key acts as its owner, on routes declaring its scope only.
        let with_key =
            async |method: &str, path: &str| s.call(method, path, Some(&key), Value::Null).await;
        let (status, who) = with_key("GET", "/notes").await;
        assert_eq!(
            (status, who["subject"].as_str()),
            (StatusCode::OK, Some(id.as_str()))
        );
        for (method, path) in [
            ("POST", "/notes"),
            ("GET", "/me"),
            ("GET", "/auth/api-keys"),
            ("POST", "/auth/sign-out/all"),
        ] {
            assert_eq!(
                with_key(method, path).await.0,
                StatusCode::FORBIDDEN,
                "{method} {path}"
            );
        }
        // A changed character fails the checksum, before any lookup.
        let mut typo = key.clone().into_bytes();
        let at = "test_".len() + 10;
        typo[at] = if typo[at] == b'A' { b'B' } else { b'A' };
        let typo = String::from_utf8(typo).unwrap();
        assert_eq!(
            s.call("GET", "/notes", Some(&typo), Value::Null).await.0,
            StatusCode::UNAUTHORIZED
        );

        // Listed without its secret, with its last use.
        let (_, listed) = s.call("GET", "/auth/api-keys", user, Value::Null).await;
        assert_eq!(listed[0]["id"], key_id.as_str());
        assert!(listed[0]["last_used_at"].is_i64(), "{listed}");
        assert!(!listed.to_string().contains(&key[5..]), "{listed}");
        assert!(listed[0].get("key_hash").is_none());

        // Another account cannot revoke it; its owner can, and it stops working at once.
        s.signup("lee", PASSWORD).await;
        let (_, lee) = s.sign_in("lee", PASSWORD).await;
        let revoke = format!("/auth/api-keys/{key_id}");
        assert_eq!(
            s.call("DELETE", &revoke, access(&lee), Value::Null).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            s.call("DELETE", &revoke, user, Value::Null).await.0,
            StatusCode::NO_CONTENT
        );
        assert_eq!(with_key("GET", "/notes").await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(
            s.call("DELETE", &revoke, user, Value::Null).await.0,
            StatusCode::NOT_FOUND
        );

        // An expired key is refused (read from the store each time: no cache).
        let (_, created) =
            make(json!({"name": "short", "scopes": ["notes:write"], "expires_in_days": 1})).await;
        let short = created["key"].as_str().unwrap().to_owned();
        let uncached = service_with(db.clone(), WEAK, |b| {
            b.api_keys::<TestScope>("test")
                .api_key_cache(std::time::Duration::ZERO)
        })
        .await;
        assert_eq!(
            uncached
                .call("POST", "/notes", Some(&short), Value::Null)
                .await
                .0,
            StatusCode::CREATED
        );
        db.query("UPDATE secure_api_keys SET expires_at = 1 WHERE id = $1")
            .bind(created["api_key"]["id"].as_str().unwrap())
            .execute()
            .await
            .unwrap();
        assert_eq!(
            uncached
                .call("POST", "/notes", Some(&short), Value::Null)
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
    })
    .await;
}

#[tokio::test]
async fn a_key_revoked_on_another_instance_stops_within_the_cache_time() {
    on_each_database("accounts::api_key_cache", async |db| {
        let a = service_with(db.clone(), WEAK, |b| b.api_keys::<TestScope>("test")).await;
        let b = service_with(db.clone(), WEAK, |b| {
            b.api_keys::<TestScope>("test")
                .api_key_cache(std::time::Duration::from_millis(400))
        })
        .await;
        a.signup("ivy", PASSWORD).await;
        let (_, pair) = a.sign_in("ivy", PASSWORD).await;
        let body = json!({"name": "ci", "scopes": ["notes:read"]});
        let (_, created) = a.call("POST", "/auth/api-keys", access(&pair), body).await;
        let key = created["key"].as_str().unwrap().to_owned();
        let revoke = format!(
            "/auth/api-keys/{}",
            created["api_key"]["id"].as_str().unwrap()
        );
        let read = async |s: &Service| s.call("GET", "/notes", Some(&key), Value::Null).await.0;
        assert_eq!(read(&a).await, StatusCode::OK);
        assert_eq!(read(&b).await, StatusCode::OK);

        assert_eq!(
            a.call("DELETE", &revoke, access(&pair), Value::Null)
                .await
                .0,
            StatusCode::NO_CONTENT
        );
        // The instance that revoked it refuses it at once; the other still has the record
        // it read, until its cache time has passed.
        assert_eq!(read(&a).await, StatusCode::UNAUTHORIZED);
        assert_eq!(read(&b).await, StatusCode::OK);
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert_eq!(read(&b).await, StatusCode::UNAUTHORIZED);
    })
    .await;
}

#[tokio::test]
async fn each_api_key_has_a_budget_of_its_own() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    let s = service_with(db, WEAK, |b| {
        b.api_keys::<TestScope>("test")
            .api_key_rate(secure_core::ratelimit::Rate {
                count: 2,
                period_secs: 60,
            })
    })
    .await;
    s.signup("kim", PASSWORD).await;
    let (_, pair) = s.sign_in("kim", PASSWORD).await;
    let key = async || {
        let body = json!({"name": "k", "scopes": ["notes:read"]});
        let (_, created) = s.call("POST", "/auth/api-keys", access(&pair), body).await;
        created["key"].as_str().unwrap().to_owned()
    };
    let (first, second) = (key().await, key().await);
    let read = async |key: &str| {
        let request = Request::get("/notes")
            .header(header::AUTHORIZATION, format!("Bearer {key}"))
            .body(Body::empty())
            .unwrap();
        let mut request = request;
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([10, 9, 9, 9], 1))));
        let response = s.app.clone().oneshot(request).await.unwrap();
        (
            response.status(),
            response.headers().get(header::RETRY_AFTER).cloned(),
        )
    };
    assert_eq!(read(&first).await.0, StatusCode::OK);
    assert_eq!(read(&first).await.0, StatusCode::OK);
    let (status, retry_after) = read(&first).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after.is_some());
    // Another key of the same owner, from the same address, has its own budget.
    assert_eq!(read(&second).await.0, StatusCode::OK);
}

/// An outside provider with keys given by configuration (an Ed25519 key generated here), and
/// tokens of its users signed here.
struct TestProvider {
    key: jsonwebtoken::EncodingKey,
    provider: secure_core::auth::oidc::OidcProvider,
}

const PROVIDER: &str = "https://id.example/realms/notes";

impl TestProvider {
    fn new() -> Self {
        let mut der = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        der.extend_from_slice(&rand::random::<[u8; 32]>());
        let key = jsonwebtoken::EncodingKey::from_ed_der(&der);
        let mut jwk =
            jsonwebtoken::jwk::Jwk::from_encoding_key(&key, jsonwebtoken::Algorithm::EdDSA)
                .unwrap();
        jwk.common.key_id = Some("k1".to_owned());
        let jwks = serde_json::to_vec(&json!({ "keys": [jwk] })).unwrap();
        let provider = secure_core::auth::oidc::OidcProvider::builder(PROVIDER, "notes-api")
            .roles_claim(["roles"])
            .role("notes-admin", TestRole::Admin)
            .mfa_acr("2")
            .with_keys(&jwks)
            .unwrap();
        TestProvider { key, provider }
    }

    fn token(&self, sub: &str, extra: Value) -> String {
        let mut claims = json!({"iss": PROVIDER, "aud": "notes-api", "sub": sub,
            "exp": now() + 300, "iat": now(), "auth_time": now()});
        claims
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.kid = Some("k1".to_owned());
        jsonwebtoken::encode(&header, &claims, &self.key).unwrap()
    }
}

#[tokio::test]
async fn a_provider_user_gets_an_account_of_their_own_and_scoped_access() {
    on_each_database(
        "accounts::a_provider_user_gets_an_account_of_their_own_and_scoped_access",
        async |db| {
            let outside = TestProvider::new();
            let provider = outside.provider.clone();
            let s = service_with(db, WEAK, move |b| {
                b.mfa_required_for(&[TestRole::Admin]).provider(provider)
            })
            .await;
            let read = json!({"scope": "openid notes:read"});
            let alice = outside.token("alice-1", read.clone());

            // The first request makes the account; the next find it.
            let (status, first) = s.call("GET", "/notes", Some(&alice), Value::Null).await;
            assert_eq!(status, StatusCode::OK, "{first}");
            let id = first["subject"].as_str().unwrap().to_owned();
            assert!(!id.contains('#') && !id.contains("alice"), "{id}");
            let again = s
                .call(
                    "GET",
                    "/notes",
                    Some(&outside.token("alice-1", read.clone())),
                    Value::Null,
                )
                .await;
            assert_eq!(again.1["subject"], id.as_str());
            let account = s.store.by_id(&id).await.unwrap().unwrap();
            assert_eq!(account.username, format!("{PROVIDER}#alice-1"));
            // Another user of the provider: another account.
            let bob = s
                .call(
                    "GET",
                    "/notes",
                    Some(&outside.token("bob-2", read.clone())),
                    Value::Null,
                )
                .await;
            assert_ne!(bob.1["subject"], id.as_str());

            // Four first requests of one user at once: one account.
            let dave = outside.token("dave-4", read.clone());
            let first = || s.call("GET", "/notes", Some(&dave), Value::Null);
            let (a, b, c, d) = tokio::join!(first(), first(), first(), first());
            let mut ids: Vec<Value> = Vec::new();
            for (status, who) in [a, b, c, d] {
                assert_eq!(status, StatusCode::OK, "{who}");
                ids.push(who["subject"].clone());
            }
            ids.dedup();
            assert_eq!(ids.len(), 1, "{ids:?}");

            // Scoped: the read scope does not write; no scope reaches nothing; the account
            // routes (the service's own credentials) are never reached.
            assert_eq!(
                s.call("POST", "/notes", Some(&alice), Value::Null).await.0,
                StatusCode::FORBIDDEN
            );
            let unscoped = outside.token("alice-1", json!({}));
            assert_eq!(
                s.call("GET", "/notes", Some(&unscoped), Value::Null)
                    .await
                    .0,
                StatusCode::FORBIDDEN
            );
            for (method, path) in [
                ("GET", "/me"),
                ("POST", "/auth/sign-out/all"),
                ("POST", "/auth/mfa/enroll"),
                ("POST", "/auth/password"),
            ] {
                assert_eq!(
                    s.call(method, path, Some(&alice), Value::Null).await.0,
                    StatusCode::FORBIDDEN,
                    "{path}"
                );
            }
            // The password sign-in cannot reach the linked account by its name.
            let (status, _) = s
                .call(
                    "POST",
                    "/auth/sign-in",
                    None,
                    json!({"username": format!("{PROVIDER}#alice-1"), "password": PASSWORD}),
                )
                .await;
            assert_ne!(status, StatusCode::OK);

            // A mapped role that needs a second factor: only with one (here `acr` 2).
            let admin = |acr: &str| {
                outside.token(
                    "carol-3",
                    json!({"scope": "notes:read", "roles": ["notes-admin"], "acr": acr}),
                )
            };
            let (status, without) = s
                .call("GET", "/notes", Some(&admin("1")), Value::Null)
                .await;
            assert_eq!(status, StatusCode::OK, "{without}");
            assert_eq!(without["roles"], json!([]));
            let (_, with) = s
                .call("GET", "/notes", Some(&admin("2")), Value::Null)
                .await;
            assert_eq!(with["roles"], json!(["admin"]));
            assert_eq!(with["subject"], without["subject"]);
        },
    )
    .await;
}

#[tokio::test]
async fn a_service_account_has_keys_and_no_password() {
    on_each_database("accounts::service_account", async |db| {
        let s = service_with(db, WEAK, |b| b.api_keys::<TestScope>("test")).await;
        let bot = s
            .accounts
            .create_service_account("backup_bot", &[TestRole::Member])
            .await
            .unwrap();
        assert!(matches!(
            s.accounts
                .create_service_account("backup_bot", &[TestRole::Member])
                .await,
            Err(secure_core::accounts::CreateAccountError::Taken)
        ));
        let key = s
            .accounts
            .issue_api_key(&bot, "nightly", &[TestScope::NotesRead], Some(30))
            .await
            .unwrap();
        let key = secure_core::redact::ExposeSecret::expose_secret(&key).to_owned();
        let (status, who) = s.call("GET", "/notes", Some(&key), Value::Null).await;
        assert_eq!(status, StatusCode::OK, "{who}");
        assert_eq!(who["subject"], bot.as_str());
        assert_eq!(who["roles"], json!(["member"]));
        assert_eq!(
            s.call("POST", "/notes", Some(&key), Value::Null).await.0,
            StatusCode::FORBIDDEN
        );
        // Nobody signs in as it, whatever the password.
        for password in ["!none", PASSWORD] {
            let (status, body) = s
                .call(
                    "POST",
                    "/auth/sign-in",
                    None,
                    json!({"username": "backup_bot", "password": password}),
                )
                .await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        }
        let nobody = AccountId::parse("AAAAAAAAAAAAAAAAAAAAAA").unwrap();
        assert!(matches!(
            s.accounts
                .issue_api_key(&nobody, "x", &[TestScope::NotesRead], None)
                .await,
            Err(secure_core::accounts::IssueKeyError::NoSuchAccount)
        ));
        assert!(matches!(
            s.accounts
                .issue_api_key(&bot, "", &[TestScope::NotesRead], None)
                .await,
            Err(secure_core::accounts::IssueKeyError::Invalid(_))
        ));
    })
    .await;
}
