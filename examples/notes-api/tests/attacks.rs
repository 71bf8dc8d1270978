//! The attacks a reviewer would try against notes-api (issue 7), over real HTTP against the
//! service running in-process (SQLite in a temporary file, or `NOTES_TEST_DATABASE_URL`).
//!
//! Every test ends by checking that no secret any test of this binary has used so far
//! (passwords, access and refresh tokens, forged tokens, TOTP secrets, recovery codes, session
//! cookies, CSRF tokens) is in the log captured since the first app started
//! (`support::install_log_capture`, one global subscriber), so the test that ends last has
//! checked the log of the whole run.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use axum::http::Method;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use secure_core::config::{Profile, SecurityConfig};
use serde_json::{Value, json};
use support::{
    Response, TestApp, Tokens, User, captured_logs, new_password, now, spawn, spawn_with,
    totp_code, unique_name,
};

// ---------------------------------------------------------------------------------------------
// Secrets of the run, and the log check

static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn remember(secret: &str) {
    SECRETS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(secret.to_owned());
}

fn remember_tokens(tokens: &Tokens) {
    remember(&tokens.access);
    remember(&tokens.refresh);
}

/// A new member whose password and tokens are remembered as secrets.
async fn new_user(app: &TestApp, prefix: &str) -> User {
    let user = app.new_user(prefix).await;
    remember(&user.password);
    remember_tokens(&user.tokens);
    user
}

#[track_caller]
fn assert_no_secret_logged() {
    let logs = captured_logs();
    // The capture really sees the service: every test here causes audit events.
    assert!(logs.contains("security::audit"), "no audit event captured");
    let secrets = SECRETS.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(!secrets.is_empty());
    for (i, secret) in secrets.iter().enumerate() {
        // The secret itself is not printed: the failure message may end up in a CI log.
        assert!(
            !logs.contains(secret.as_str()),
            "secret #{i} ({} bytes) reached the log",
            secret.len()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

/// A key as `openssl rand -base64 48` prints it, made per test.
fn random_key() -> String {
    let bytes: Vec<u8> = (0..48).map(|_| rand::random::<u8>()).collect();
    STANDARD.encode(bytes)
}

/// A configuration whose access-token key the test knows (to sign its own forgeries), with
/// `extra` settings.
fn config_with(jwt_key: &str, extra: &[(&str, &str)]) -> SecurityConfig {
    let mut vars = vec![
        ("SECURE_JWT_KEY".to_owned(), jwt_key.to_owned()),
        ("SECURE_CSRF_KEY".to_owned(), random_key()),
    ];
    vars.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    SecurityConfig::from_vars(vars, Profile::Debug).expect("test configuration")
}

fn b64_json(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("JSON"))
}

/// The three segments of a compact JWS.
fn segments(token: &str) -> [String; 3] {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWS");
    [
        parts[0].to_owned(),
        parts[1].to_owned(),
        parts[2].to_owned(),
    ]
}

fn claims_of(token: &str) -> Value {
    let payload = URL_SAFE_NO_PAD
        .decode(&segments(token)[1])
        .expect("base64url payload");
    serde_json::from_slice(&payload).expect("JSON claims")
}

/// `claims` signed HS256 with `key`, by jsonwebtoken rather than the framework under test.
fn sign(key: &str, claims: &Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(key.as_bytes()),
    )
    .expect("sign")
}

async fn create_note(app: &TestApp, token: &str, title: &str, body: &str) -> Value {
    let r = app
        .post("/notes")
        .bearer(token)
        .json(&json!({"title": title, "body": body}))
        .send()
        .await;
    r.assert_status(201);
    r.json()
}

/// Every page of the caller's notes (100 a page), as one list.
async fn list_notes(app: &TestApp, token: &str) -> Value {
    let mut all = Vec::new();
    for page in 0.. {
        let r = app
            .get(&format!("/notes?page={page}"))
            .bearer(token)
            .send()
            .await;
        r.assert_status(200);
        let notes = r.json().as_array().expect("a list").clone();
        assert!(notes.len() <= 100, "a page holds at most 100 notes");
        let last = notes.len() < 100;
        all.extend(notes);
        if last {
            break;
        }
    }
    Value::Array(all)
}

async fn refresh(app: &TestApp, refresh_token: &str) -> Response {
    app.post("/auth/refresh")
        .json(&json!({"refresh_token": refresh_token}))
        .send()
        .await
}

/// A well-formed note id that no note has.
fn unused_id() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>())
}

#[track_caller]
fn assert_problem(r: &Response, status: u16) {
    r.assert_status(status);
    assert_eq!(
        r.header("content-type"),
        Some("application/problem+json"),
        "{status}: {}",
        r.text()
    );
}

/// `POST /session/login`: the `name=value` cookie and the CSRF token, both remembered.
async fn session_login(app: &TestApp, user: &User) -> (String, String) {
    let (cookie, csrf) = app.session_login(&user.username, &user.password).await;
    remember(&cookie);
    remember(cookie.trim_start_matches("__Host-session="));
    remember(&csrf);
    (cookie, csrf)
}

// ---------------------------------------------------------------------------------------------
// Tokens

#[tokio::test]
async fn tampered_expired_and_unsigned_tokens_are_refused() {
    let key = random_key();
    let app = spawn_with(config_with(&key, &[])).await;
    let alice = new_user(&app, "alice").await;
    let bob = new_user(&app, "bob").await;
    // Bob has a note, so a token that turned into his would see it.
    let note = create_note(&app, &bob.tokens.access, "bob's", "private").await;
    let note_path = format!("/notes/{}", note["id"].as_str().expect("id"));

    let claims = claims_of(&alice.tokens.access);
    assert_eq!(claims["sub"], alice.id.as_str());
    // The control: alice's claims signed again with the right key are accepted, so each
    // refusal below is caused by the one thing changed.
    let resigned = sign(&key, &claims);
    remember(&resigned);
    app.get("/notes")
        .bearer(&resigned)
        .send()
        .await
        .assert_status(200);

    let [header, payload, signature] = segments(&alice.tokens.access);
    let mut forged: Vec<(String, String)> = Vec::new();
    let mut as_bob = claims.clone();
    as_bob["sub"] = json!(bob.id);
    forged.push((
        "sub changed, signature kept".into(),
        format!("{header}.{}.{signature}", b64_json(&as_bob)),
    ));
    let mut as_admin = claims.clone();
    as_admin["roles"] = json!(["admin"]);
    forged.push((
        "roles changed, signature kept".into(),
        format!("{header}.{}.{signature}", b64_json(&as_admin)),
    ));
    let mut bytes = URL_SAFE_NO_PAD.decode(&signature).expect("signature");
    bytes[7] ^= 0x20;
    forged.push((
        "one signature bit flipped".into(),
        format!("{header}.{payload}.{}", URL_SAFE_NO_PAD.encode(&bytes)),
    ));
    forged.push((
        "signed with another key".into(),
        sign(&random_key(), &claims),
    ));

    // Expired an hour ago, otherwise valid and signed with the right key.
    let past = i64::try_from(now()).expect("time") - 3600;
    let mut expired = claims.clone();
    for field in ["iat", "nbf", "auth_time"] {
        if expired.get(field).is_some() {
            expired[field] = json!(past);
        }
    }
    expired["exp"] = json!(past + 900);
    forged.push(("expired".into(), sign(&key, &expired)));

    for alg in ["none", "None", "NONE", "nOnE"] {
        let none = b64_json(&json!({"alg": alg, "typ": "JWT"}));
        forged.push((
            format!("alg {alg}, no signature"),
            format!("{none}.{payload}."),
        ));
        forged.push((
            format!("alg {alg}, signature kept"),
            format!("{none}.{payload}.{signature}"),
        ));
        forged.push((
            format!("alg {alg}, claims of bob"),
            format!("{none}.{}.", b64_json(&as_bob)),
        ));
    }

    for (what, token) in &forged {
        remember(token);
        for (method, path) in [
            (Method::GET, "/notes"),
            (Method::GET, note_path.as_str()),
            (Method::DELETE, note_path.as_str()),
            (Method::GET, "/admin/users"),
        ] {
            let r = app.request(method.clone(), path).bearer(token).send().await;
            assert_eq!(r.status, 401, "{what}: {method} {path}: {}", r.text());
            assert_eq!(
                r.header("content-type"),
                Some("application/problem+json"),
                "{what}"
            );
            let challenge = r.header("www-authenticate").unwrap_or_default();
            assert!(challenge.starts_with("Bearer"), "{what}: {challenge:?}");
            assert!(!r.text().contains(token.as_str()), "{what}: token echoed");
        }
    }

    // Nothing happened to bob's note.
    let r = app.get(&note_path).bearer(&bob.tokens.access).send().await;
    r.assert_status(200);
    assert_eq!(r.json(), note);
    assert_no_secret_logged();
}

#[tokio::test]
async fn a_reused_refresh_token_revokes_its_whole_family() {
    let app = spawn().await;
    let user = new_user(&app, "carol").await;
    let first = user.tokens.refresh.clone();

    let r = refresh(&app, &first).await;
    r.assert_status(200);
    let second = Tokens::from(&r.json());
    remember_tokens(&second);
    let r = refresh(&app, &second.refresh).await;
    r.assert_status(200);
    let third = Tokens::from(&r.json());
    remember_tokens(&third);

    // The thief replays the first token: 401...
    let r = refresh(&app, &first).await;
    assert_problem(&r, 401);
    assert!(!r.text().contains(&first));
    // ...and the whole family is revoked: the newest successor, which the legitimate client
    // holds, stops working too, as does the middle one.
    assert_problem(&refresh(&app, &third.refresh).await, 401);
    assert_problem(&refresh(&app, &second.refresh).await, 401);

    // A new login starts a new family, which works.
    let again = app.login(&user.username, &user.password).await;
    remember_tokens(&again);
    refresh(&app, &again.refresh).await.assert_status(200);

    // Two clients racing with one token: exactly one gets the next pair.
    let fresh = app.login(&user.username, &user.password).await;
    remember_tokens(&fresh);
    let (a, b) = tokio::join!(refresh(&app, &fresh.refresh), refresh(&app, &fresh.refresh));
    for r in [&a, &b] {
        if r.status == 200 {
            remember_tokens(&Tokens::from(&r.json()));
        }
    }
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 401], "{} / {}", a.text(), b.text());
    assert_no_secret_logged();
}

// ---------------------------------------------------------------------------------------------
// Objects of other users, mass assignment

#[tokio::test]
async fn another_users_note_is_not_found_and_not_changed() {
    let app = spawn().await;
    let alice = new_user(&app, "alice").await;
    let bob = new_user(&app, "bob").await;
    let note = create_note(&app, &alice.tokens.access, "alice's", "diary").await;
    let path = format!("/notes/{}", note["id"].as_str().expect("id"));

    // What a note that does not exist answers; another user's must look the same.
    let missing = app
        .get(&format!("/notes/{}", unused_id()))
        .bearer(&bob.tokens.access)
        .send()
        .await;
    assert_problem(&missing, 404);

    let edit = json!({"title": "bob was here", "body": "mine now"});
    let attempts = [
        app.get(&path).bearer(&bob.tokens.access).send().await,
        app.put(&path)
            .bearer(&bob.tokens.access)
            .json(&edit)
            .send()
            .await,
        app.delete(&path).bearer(&bob.tokens.access).send().await,
    ];
    for r in &attempts {
        assert_problem(r, 404);
        assert_eq!(r.json(), missing.json(), "the same 404 as a missing note");
        assert!(!r.text().contains("diary"));
    }

    // Unchanged for alice, invisible to bob.
    let r = app.get(&path).bearer(&alice.tokens.access).send().await;
    r.assert_status(200);
    assert_eq!(r.json(), note);
    assert_eq!(list_notes(&app, &alice.tokens.access).await, json!([note]));
    assert_eq!(list_notes(&app, &bob.tokens.access).await, json!([]));
    assert_no_secret_logged();
}

#[tokio::test]
async fn mass_assignment_is_refused_and_creates_nothing() {
    let app = spawn().await;
    let name = unique_name("eve");
    let password = new_password();
    remember(&password);
    let signup = |extra: (&str, Value)| {
        let mut body = json!({
            "username": name,
            "email": format!("{name}@example.com"),
            "password": password,
        });
        body[extra.0] = extra.1;
        app.post("/auth/signup").json(&body).send()
    };
    // Signup allows 10 an hour per address: five tries here, two signups below.
    for (field, value) in [
        ("role", json!("admin")),
        ("roles", json!(["admin"])),
        ("is_admin", json!(true)),
        ("mfa_enabled", json!(true)),
        ("id", json!(unused_id())),
    ] {
        let r = signup((field, value)).await;
        assert_problem(&r, 422);
        let error = &r.json()["errors"][0];
        assert_eq!(error["code"], "unknown_field", "{field}");
        assert_eq!(error["field"], field);
    }
    // No user was created: the credentials do not log in, and the name is still free.
    let r = app
        .post("/auth/sign-in")
        .json(&json!({"username": name, "password": password}))
        .send()
        .await;
    assert_problem(&r, 401);
    app.signup(&name, &password).await;
    let tokens = app.login(&name, &password).await;
    remember_tokens(&tokens);
    assert_eq!(claims_of(&tokens.access)["roles"], json!(["member"]));
    app.get("/admin/users")
        .bearer(&tokens.access)
        .send()
        .await
        .assert_status(403);

    // Notes: the owner, id and timestamps are the server's.
    let bob = new_user(&app, "bob").await;
    let note = create_note(&app, &tokens.access, "mine", "").await;
    let path = format!("/notes/{}", note["id"].as_str().expect("id"));
    for (field, value) in [
        ("owner_id", json!(bob.id)),
        ("id", json!(unused_id())),
        ("created_at", json!(0)),
        ("updated_at", json!(0)),
    ] {
        let mut body = json!({"title": "moved", "body": ""});
        body[field] = value;
        let r = app
            .post("/notes")
            .bearer(&tokens.access)
            .json(&body)
            .send()
            .await;
        assert_problem(&r, 422);
        assert_eq!(r.json()["errors"][0]["code"], "unknown_field");
        let r = app
            .put(&path)
            .bearer(&tokens.access)
            .json(&body)
            .send()
            .await;
        assert_problem(&r, 422);
    }
    assert_eq!(list_notes(&app, &tokens.access).await, json!([note]));
    assert_eq!(list_notes(&app, &bob.tokens.access).await, json!([]));
    assert_no_secret_logged();
}

// ---------------------------------------------------------------------------------------------
// Injection strings

/// The vendored attack strings, `tests/vectors/payloads` in the repository (sources and licences
/// in `tests/vectors/README.md`); a missing folder fails the test, naming the path.
fn payload_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/payloads");
    assert!(dir.is_dir(), "{} is missing", dir.display());
    dir
}

/// Every line of the `sqli-*.txt` lists (without its line ending; empty lines skipped).
fn sqli_payloads(dir: &PathBuf) -> BTreeMap<String, Vec<String>> {
    let mut lists = BTreeMap::new();
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if !(name.starts_with("sqli-") && name.ends_with(".txt")) {
            continue;
        }
        let bytes =
            std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let lines: Vec<String> = text
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l).to_owned())
            .filter(|l| !l.is_empty())
            .collect();
        lists.insert(name, lines);
    }
    lists
}

/// Whether the title rule (1 to 200 characters, no control characters) accepts `s`.
fn valid_title(s: &str) -> bool {
    let n = s.chars().count();
    (1..=200).contains(&n) && !s.chars().any(char::is_control)
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn sql_injection_strings_are_stored_and_returned_verbatim() {
    let dir = payload_dir();
    let lists = sqli_payloads(&dir);
    let payloads: Vec<String> = lists.values().flatten().cloned().collect();
    assert!(
        lists.len() >= 4 && payloads.len() >= 300,
        "the sqli lists are in {}",
        dir.display()
    );
    // Hundreds of requests from one address: the per-IP default would refuse them.
    let app = spawn_with(config_with(
        &random_key(),
        &[("SECURE_RATE_LIMIT", "100000/min")],
    ))
    .await;
    let user = new_user(&app, "robert").await;
    let other = new_user(&app, "other").await;
    let canary = create_note(&app, &other.tokens.access, "canary", "still here").await;

    let mut created = BTreeMap::new();
    let mut as_title = 0;
    for (i, payload) in payloads.iter().enumerate() {
        let title = if valid_title(payload) {
            as_title += 1;
            payload.clone()
        } else {
            format!("payload {i}")
        };
        let r = app
            .post("/notes")
            .bearer(&user.tokens.access)
            .json(&json!({"title": title, "body": payload}))
            .send()
            .await;
        assert_eq!(r.status, 201, "payload {i} {payload:?}: {}", r.text());
        let note = r.json();
        assert_eq!(note["title"], title.as_str(), "payload {i}");
        assert_eq!(note["body"], payload.as_str(), "payload {i}");
        created.insert(note["id"].as_str().expect("id").to_owned(), note);
    }
    assert!(
        as_title * 10 >= payloads.len() * 9,
        "most payloads were titles too"
    );

    // Read back one by one, and as the list: verbatim, and nothing else.
    for (id, note) in &created {
        let r = app
            .get(&format!("/notes/{id}"))
            .bearer(&user.tokens.access)
            .send()
            .await;
        r.assert_status(200);
        assert_eq!(&r.json(), note);
    }
    let listed = list_notes(&app, &user.tokens.access).await;
    let listed: BTreeMap<String, Value> = listed
        .as_array()
        .expect("a list")
        .iter()
        .map(|n| (n["id"].as_str().expect("id").to_owned(), n.clone()))
        .collect();
    assert_eq!(listed, created);

    // Updates carry them verbatim too (title and body swapped where the title rule allows).
    for (id, note) in created.iter().take(40) {
        let body = note["title"].as_str().expect("title");
        let title = note["body"].as_str().expect("body");
        let title = if valid_title(title) { title } else { "t" };
        let r = app
            .put(&format!("/notes/{id}"))
            .bearer(&user.tokens.access)
            .json(&json!({"title": title, "body": body}))
            .send()
            .await;
        r.assert_status(200);
        assert_eq!(r.json()["title"], title);
        assert_eq!(r.json()["body"], body);
    }

    // As a note id in the path: refused or not found, never an error or someone's note.
    for payload in &payloads {
        let r = app
            .get(&format!("/notes/{}", percent_encode(payload)))
            .bearer(&user.tokens.access)
            .send()
            .await;
        assert!(
            matches!(r.status, 404 | 422),
            "path {payload:?}: {} {}",
            r.status,
            r.text()
        );
    }

    // The other user's data is untouched.
    assert_eq!(
        list_notes(&app, &other.tokens.access).await,
        json!([canary])
    );
    assert_no_secret_logged();
}

#[tokio::test]
async fn sql_injection_user_names_do_not_log_in() {
    let dir = payload_dir();
    let lists = sqli_payloads(&dir);
    // Login trims and lowercases the name, and allows 5 tries a minute per name: one entry
    // per name as the service sees it.
    let mut seen = std::collections::BTreeSet::new();
    let bypass: Vec<&String> = lists
        .iter()
        .filter(|(name, _)| name.contains("Auth_Bypass"))
        .flat_map(|(_, lines)| lines)
        .filter(|p| seen.insert(p.trim().to_lowercase()))
        .collect();
    assert!(
        bypass.len() >= 100,
        "the auth-bypass lists are in {}",
        dir.display()
    );
    // /auth/login allows 30 a minute per address and each name is tried twice, so each app
    // gets 15 names; a real user exists in every database the payloads try to reach.
    let password = new_password();
    remember(&password);
    for chunk in bypass.chunks(15) {
        let app = spawn().await;
        app.signup(&unique_name("victim"), &password).await;
        for payload in chunk {
            for pw in [password.as_str(), "' OR '1'='1"] {
                let r = app
                    .post("/auth/sign-in")
                    .json(&json!({"username": payload, "password": pw}))
                    .send()
                    .await;
                // 401, or 422 for a name the login rules refuse (empty once trimmed).
                assert!(
                    matches!(r.status, 401 | 422),
                    "{payload:?}: {} {}",
                    r.status,
                    r.text()
                );
                if r.status == 401 {
                    assert_eq!(r.json()["code"], "invalid_credentials", "{payload:?}");
                }
            }
        }
    }
    assert_no_secret_logged();
}

// ---------------------------------------------------------------------------------------------
// Limits, content types, CSRF

#[tokio::test]
async fn an_oversized_body_and_a_wrong_content_type_are_refused() {
    let app = spawn().await;
    let user = new_user(&app, "oscar").await;
    let token = user.tokens.access.as_str();

    // Over the largest body `NoteInput` accepts (10,000 characters of body as 12-byte
    // escapes: about 120 KB): 413 before anything is parsed or stored.
    let big = json!({"title": "big", "body": "x".repeat(130 * 1024)});
    let r = app.post("/notes").bearer(token).json(&big).send().await;
    assert_problem(&r, 413);
    assert_eq!(list_notes(&app, token).await, json!([]));

    let note = create_note(&app, token, "small", "fits").await;
    let path = format!("/notes/{}", note["id"].as_str().expect("id"));
    let r = app.put(&path).bearer(token).json(&big).send().await;
    assert_problem(&r, 413);

    // The right JSON with the wrong Content-Type, or none: 415.
    let body = br#"{"title":"typed","body":"wrong"}"#.to_vec();
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/xml"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        for method in [Method::POST, Method::PUT] {
            let target = if method == Method::POST {
                "/notes"
            } else {
                &path
            };
            let mut request = app
                .request(method.clone(), target)
                .bearer(token)
                .body(body.clone());
            if let Some(content_type) = content_type {
                request = request.header("content-type", content_type);
            }
            let r = request.send().await;
            assert_eq!(r.status, 415, "{method} {content_type:?}: {}", r.text());
            assert_eq!(r.header("content-type"), Some("application/problem+json"));
        }
    }
    assert_eq!(list_notes(&app, token).await, json!([note]));
    assert_no_secret_logged();
}

#[tokio::test]
async fn cookie_requests_without_the_right_csrf_token_are_refused() {
    let app = spawn().await;
    let user = new_user(&app, "grace").await;
    let mallory = new_user(&app, "mallory").await;
    let (cookie, csrf) = session_login(&app, &user).await;
    // A second session of the same user, and another user's: their tokens are bound to
    // their sessions.
    let (_, other_session_csrf) = session_login(&app, &user).await;
    let (_, mallory_csrf) = session_login(&app, &mallory).await;
    let forged = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    remember(&forged);

    let note = create_note(&app, &user.tokens.access, "kept", "as is").await;
    let path = format!("/notes/{}", note["id"].as_str().expect("id"));
    let edit = json!({"title": "forged", "body": "by another site"});

    let wrong: [(&str, Option<&str>); 6] = [
        ("no token", None),
        ("a random token", Some(forged.as_str())),
        ("another session's token", Some(other_session_csrf.as_str())),
        ("another user's token", Some(mallory_csrf.as_str())),
        ("an empty token", Some("")),
        ("the token with a changed character", None),
    ];
    let mut changed = csrf.clone();
    let last = changed.pop().expect("a token");
    changed.push(if last == 'A' { 'B' } else { 'A' });
    for (what, token) in wrong {
        let token = if what.starts_with("the token with") {
            Some(changed.as_str())
        } else {
            token
        };
        for (method, target, body) in [
            (Method::POST, "/notes", Some(&edit)),
            (Method::PUT, path.as_str(), Some(&edit)),
            (Method::DELETE, path.as_str(), None),
            (Method::POST, "/auth/session/sign-out", None),
        ] {
            let mut request = app.request(method.clone(), target).cookie(&cookie);
            if let Some(token) = token {
                request = request.header("x-csrf-token", token);
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            let r = request.send().await;
            assert_eq!(r.status, 403, "{what}: {method} {target}: {}", r.text());
            assert_eq!(r.header("content-type"), Some("application/problem+json"));
        }
    }
    // The right token from another site (a browser says so in Sec-Fetch-Site): 403 too.
    for site in ["cross-site", "same-site"] {
        let r = app
            .post("/notes")
            .cookie(&cookie)
            .header("x-csrf-token", &csrf)
            .header("sec-fetch-site", site)
            .json(&edit)
            .send()
            .await;
        assert_problem(&r, 403);
    }

    // Nothing changed, and the session was not ended by the refused logouts.
    assert_eq!(list_notes(&app, &user.tokens.access).await, json!([note]));
    let r = app.get(&path).cookie(&cookie).send().await;
    r.assert_status(200);
    assert_eq!(r.json(), note);
    // The control: with its own token, the same request goes through.
    let r = app
        .post("/notes")
        .cookie(&cookie)
        .header("x-csrf-token", &csrf)
        .json(&edit)
        .send()
        .await;
    r.assert_status(201);
    assert_no_secret_logged();
}

#[tokio::test]
async fn the_sixth_login_within_a_minute_is_refused() {
    let app = spawn().await;
    let user = app.new_user("heidi").await; // one login
    remember(&user.password);
    remember_tokens(&user.tokens);
    for _ in 0..4 {
        let wrong = new_password();
        remember(&wrong);
        let r = app
            .post("/auth/sign-in")
            .json(&json!({"username": user.username, "password": wrong}))
            .send()
            .await;
        assert_problem(&r, 401);
    }
    // The sixth, with the right password: 429, with when to come back.
    let r = app
        .post("/auth/sign-in")
        .json(&json!({"username": user.username, "password": user.password}))
        .send()
        .await;
    assert_problem(&r, 429);
    let retry: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("delay-seconds");
    assert!((1..=60).contains(&retry), "Retry-After: {retry}");
    assert!(r.body.len() < 1024 && !r.text().contains("access_token"));
    // Same budget through the cookie login; and an unknown name counts like a known one.
    let r = app
        .post("/auth/session/sign-in")
        .json(&json!({"username": user.username, "password": user.password}))
        .send()
        .await;
    assert_problem(&r, 429);
    assert!(r.session_cookie().is_none());
    let ghost = unique_name("ghost");
    for i in 0..6 {
        let r = app
            .post("/auth/sign-in")
            .json(&json!({"username": ghost, "password": "not a password of anyone"}))
            .send()
            .await;
        assert_eq!(r.status, if i < 5 { 401 } else { 429 }, "attempt {}", i + 1);
    }
    assert_no_secret_logged();
}

// ---------------------------------------------------------------------------------------------
// Security headers

const SECURITY_HEADERS: [(&str, &str); 10] = [
    (
        "content-security-policy",
        "default-src 'none'; frame-ancestors 'none'",
    ),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    (
        "strict-transport-security",
        "max-age=31536000; includeSubDomains",
    ),
    ("referrer-policy", "no-referrer"),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("x-permitted-cross-domain-policies", "none"),
    (
        "permissions-policy",
        "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), \
         magnetometer=(), microphone=(), payment=(), usb=()",
    ),
    ("cache-control", "no-store"),
];

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn().await;
    let user = new_user(&app, "henry").await;
    let other = new_user(&app, "ivan").await;
    let token = user.tokens.access.as_str();
    let (cookie, _csrf) = session_login(&app, &user).await;
    let note = create_note(&app, &other.tokens.access, "ivan's", "").await;

    let mut seen: Vec<(&str, Response)> = Vec::new();
    seen.push(("health", app.get("/health").send().await));
    seen.push(("list", app.get("/notes").bearer(token).send().await));
    seen.push((
        "create",
        app.post("/notes")
            .bearer(token)
            .json(&json!({"title": "t", "body": "b"}))
            .send()
            .await,
    ));
    let id = seen.last().expect("create").1.json()["id"]
        .as_str()
        .expect("id")
        .to_owned();
    seen.push((
        "delete",
        app.delete(&format!("/notes/{id}"))
            .bearer(token)
            .send()
            .await,
    ));
    seen.push(("no credentials", app.get("/notes").send().await));
    seen.push((
        "no CSRF token",
        app.post("/notes")
            .cookie(&cookie)
            .json(&json!({"title": "t", "body": "b"}))
            .send()
            .await,
    ));
    seen.push((
        "another user's note",
        app.get(&format!("/notes/{}", note["id"].as_str().expect("id")))
            .bearer(token)
            .send()
            .await,
    ));
    seen.push((
        "oversized body",
        app.post("/notes")
            .bearer(token)
            .json(&json!({"title": "t", "body": "x".repeat(130 * 1024)}))
            .send()
            .await,
    ));
    seen.push((
        "wrong content type",
        app.post("/notes")
            .bearer(token)
            .header("content-type", "text/plain")
            .body("{}")
            .send()
            .await,
    ));
    seen.push((
        "mass assignment",
        app.post("/notes")
            .bearer(token)
            .json(&json!({"title": "t", "body": "b", "owner_id": other.id}))
            .send()
            .await,
    ));
    // The login limit: five tries (one used by new_user, one by session_login), then 429.
    let wrong = json!({"username": user.username, "password": "not the password at all"});
    for _ in 0..3 {
        seen.push((
            "wrong password",
            app.post("/auth/sign-in").json(&wrong).send().await,
        ));
    }
    seen.push((
        "login limit",
        app.post("/auth/sign-in").json(&wrong).send().await,
    ));

    let statuses: std::collections::BTreeSet<u16> = seen.iter().map(|(_, r)| r.status).collect();
    assert_eq!(
        statuses.into_iter().collect::<Vec<_>>(),
        [200, 201, 204, 401, 403, 404, 413, 415, 422, 429],
        "every status of the list was produced"
    );
    for (what, r) in &seen {
        for (name, value) in SECURITY_HEADERS {
            assert_eq!(r.header(name), Some(value), "{what} ({}): {name}", r.status);
        }
        for name in ["server", "x-powered-by"] {
            assert!(r.header(name).is_none(), "{what}: {name}");
        }
        assert!(r.header("x-request-id").is_some(), "{what}: x-request-id");
    }
    assert_no_secret_logged();
}

// ---------------------------------------------------------------------------------------------
// Credentials

#[tokio::test]
async fn wrong_credentials_answer_the_same_whether_or_not_the_user_exists() {
    let app = spawn().await;
    let user = new_user(&app, "judy").await;
    // A user with MFA: a wrong password must not reveal that a second factor is on.
    let mfa_user = new_user(&app, "kim").await;
    let (secret, codes) = app.enable_mfa(&mfa_user.tokens.access).await;
    remember(&secret);
    codes.iter().for_each(|c| remember(c));

    for path in ["/auth/sign-in", "/auth/session/sign-in"] {
        let attempt = |username: String| {
            let password = new_password();
            remember(&password);
            app.post(path)
                .json(&json!({"username": username, "password": password}))
                .send()
        };
        let answers = [
            ("wrong password", attempt(user.username.clone()).await),
            (
                "wrong password, MFA on",
                attempt(mfa_user.username.clone()).await,
            ),
            ("unknown user", attempt(unique_name("nobody")).await),
            (
                "unknown user, other case",
                attempt(unique_name("Nobody").to_uppercase()).await,
            ),
        ];
        let (_, first) = &answers[0];
        assert_problem(first, 401);
        assert_eq!(first.json()["code"], "invalid_credentials");
        for (what, r) in &answers {
            assert_eq!(r.status, 401, "{path} {what}");
            assert_eq!(r.body, first.body, "{path} {what}: the same body");
            for name in ["content-type", "www-authenticate", "content-length"] {
                assert_eq!(r.header(name), first.header(name), "{path} {what}: {name}");
            }
            assert!(r.session_cookie().is_none(), "{path} {what}");
        }
    }
    assert_no_secret_logged();
}

// ---------------------------------------------------------------------------------------------
// The log

/// Every flow that handles a secret, the refused ones included, then the log check.
#[tokio::test]
async fn secrets_stay_out_of_the_log_of_the_whole_run() {
    let app = spawn().await;
    let user = new_user(&app, "leak").await;

    // MFA: the TOTP secret and otpauth URI, the recovery codes, a login with each factor.
    let r = app
        .post("/auth/mfa/enroll")
        .bearer(&user.tokens.access)
        .send()
        .await;
    r.assert_status(200);
    let secret = r.json()["secret"].as_str().expect("secret").to_owned();
    let uri = r.json()["otpauth_uri"]
        .as_str()
        .expect("otpauth_uri")
        .to_owned();
    remember(&secret);
    remember(&uri);
    let r = app
        .post("/auth/mfa/confirm")
        .bearer(&user.tokens.access)
        .json(&json!({"otp": totp_code(&secret, now())}))
        .send()
        .await;
    r.assert_status(200);
    let codes: Vec<String> = r.json()["recovery_codes"]
        .as_array()
        .expect("recovery_codes")
        .iter()
        .map(|c| c.as_str().expect("code").to_owned())
        .collect();
    codes.iter().for_each(|c| remember(c));
    assert_eq!(codes.len(), 10);
    let with_totp = app
        .login_otp(
            &user.username,
            &user.password,
            &totp_code(&secret, now() + 30),
        )
        .await;
    remember_tokens(&with_totp);
    let with_code = app
        .login_otp(&user.username, &user.password, &codes[0])
        .await;
    remember_tokens(&with_code);
    // Refused: a used recovery code, and a wrong one.
    let wrong_code = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 10]>());
    remember(&wrong_code);
    for otp in [codes[0].as_str(), wrong_code.as_str()] {
        let r = app
            .post("/auth/sign-in")
            .json(&json!({"username": user.username, "password": user.password, "otp": otp}))
            .send()
            .await;
        assert_problem(&r, 401);
    }

    // Refresh tokens: rotation, reuse, an unknown one, logout.
    let r = refresh(&app, &with_code.refresh).await;
    r.assert_status(200);
    let rotated = Tokens::from(&r.json());
    remember_tokens(&rotated);
    assert_problem(&refresh(&app, &with_code.refresh).await, 401);
    let unknown = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    remember(&unknown);
    assert_problem(&refresh(&app, &unknown).await, 401);
    app.post("/auth/sign-out")
        .bearer(&with_totp.access)
        .json(&json!({"refresh_token": with_totp.refresh}))
        .send()
        .await
        .assert_status(204);

    // A bearer token that is not one, and a cookie session (login with a factor, logout).
    let garbage = format!("{}.{}.x", random_key(), random_key());
    remember(&garbage);
    assert_problem(&app.get("/notes").bearer(&garbage).send().await, 401);
    let other = new_user(&app, "leak2").await;
    let (cookie, csrf) = session_login(&app, &other).await;
    app.post("/auth/session/sign-out")
        .cookie(&cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .assert_status(204);
    assert_problem(&app.get("/notes").cookie(&cookie).send().await, 401);

    assert_no_secret_logged();
}
