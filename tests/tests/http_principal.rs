//! `Principal<R>` over HTTP: an assembled app driven with tower's `oneshot`. Bearer tokens, the
//! session-cookie hook, no fallback from a bad bearer token, unknown roles, a `Principal`
//! outside an authenticated route, and what the responses and the audit log never contain.

use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header, request::Parts};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http_body_util::BodyExt;
use jsonwebtoken::{Algorithm, EncodingKey};
use secure_core::SecretBox;
use secure_core::auth::jwt::{AccessTokenKey, AccessTokens};
use secure_core::auth::{
    Amr, AuthError, Authenticator, Carrier, Identity, Principal, Role, SessionAuthenticator,
};
use secure_core::config::SecurityConfig;
use secure_core::error::AssemblyError;
use secure_core::policy::SecureApp;
use secure_core::policy::SecureRouter;
use secure_core::ratelimit::RateLimiter;
use secure_core::routing::get;
use secure_core::secure_handler;
use serde_json::{Value, json};
use tower::ServiceExt;
use tracing_subscriber::fmt::MakeWriter;

const ISS: &str = "https://auth.example";
const AUD: &str = "notes-api";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum AppRole {
    Admin,
    Member,
}

#[secure_handler(auth)]
async fn me(user: Principal<AppRole>) -> axum::Json<Value> {
    axum::Json(json!({
        "sub": user.subject(),
        "roles": user.roles().iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "admin": user.has_role(AppRole::Admin),
        "mfa": user.mfa(),
        "auth_time": user.auth_time(),
        "sid": user.session_id(),
        "carrier": user.carrier().as_str(),
    }))
}

/// Accepts `session=good`, `session=stranger` (a role this app does not know); answers
/// `session=old` as expired and `session=csrf` as a CSRF failure; counts its calls.
#[derive(Default)]
struct FakeSessions {
    calls: AtomicUsize,
}

fn refused(error: AuthError) -> AuthError {
    secure_core::audit::emit(
        "auth.session",
        secure_core::audit::Outcome::Failure,
        None,
        error.reason(),
    );
    error
}

impl SessionAuthenticator for FakeSessions {
    fn authenticate<'a>(
        &'a self,
        parts: &'a Parts,
    ) -> Pin<Box<dyn Future<Output = Result<Option<Identity>, AuthError>> + Send + 'a>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            let Some(cookie) = parts.headers.get(header::COOKIE) else {
                return Ok(None);
            };
            match cookie.as_bytes() {
                b"session=good" => Ok(Some(
                    Identity::new("cookie-user", 1_700_000_000)
                        .with_roles(["member"])
                        .with_amr([Amr::Pwd])
                        .with_session("s-7"),
                )),
                b"session=stranger" => Ok(Some(
                    Identity::new("cookie-user", 1_700_000_000).with_roles(["root"]),
                )),
                // A session authenticator audits its own refusals (the trait's contract).
                b"session=old" => Err(refused(AuthError::Expired)),
                b"session=csrf" => Err(refused(AuthError::CsrfFailed)),
                _ => Err(refused(AuthError::Invalid)),
            }
        })
    }
}

struct Fixture {
    secret: Vec<u8>,
    sessions: Arc<FakeSessions>,
    app: SecureApp,
}

/// `/me` behind the stack, authenticated by `auth` (no per-IP default limit: `oneshot`
/// requests have no client address, and the suites send many).
fn app_with(auth: Authenticator) -> SecureApp {
    SecureRouter::new()
        .route("/me", get(me))
        .into_app(
            SecurityConfig::new()
                .authenticator(auth)
                .rate_limiter(RateLimiter::new().without_default_limit()),
        )
        .expect("the app assembles")
}

fn fixture() -> Fixture {
    let secret = rand::random::<[u8; 32]>().to_vec();
    let key = AccessTokenKey::hs256(SecretBox::from(secret.clone())).unwrap();
    let tokens = AccessTokens::builder(key, ISS, AUD).build().unwrap();
    let sessions = Arc::new(FakeSessions::default());
    let auth = Authenticator::new(tokens).with_sessions(sessions.clone());
    let app = app_with(auth);
    Fixture {
        secret,
        sessions,
        app,
    }
}

impl Fixture {
    fn token(&self, identity: &Identity) -> String {
        let key = AccessTokenKey::hs256(SecretBox::from(self.secret.clone())).unwrap();
        AccessTokens::builder(key, ISS, AUD)
            .build()
            .unwrap()
            .issue(identity)
            .unwrap()
    }

    /// A token with these claims, signed with the right key.
    fn forged(&self, claims: &Value) -> String {
        let b64 = |s: String| URL_SAFE_NO_PAD.encode(s);
        let message = format!(
            "{}.{}",
            b64(json!({"alg": "HS256", "typ": "at+jwt"}).to_string()),
            b64(claims.to_string())
        );
        let signature = jsonwebtoken::crypto::sign(
            message.as_bytes(),
            &EncodingKey::from_secret(&self.secret),
            Algorithm::HS256,
        )
        .unwrap();
        format!("{message}.{signature}")
    }

    async fn get(&self, headers: &[(&str, &str)]) -> (StatusCode, Option<String>, String, Value) {
        call(self.app.clone(), headers).await
    }
}

async fn call(
    app: SecureApp,
    headers: &[(&str, &str)],
) -> (StatusCode, Option<String>, String, Value) {
    let mut request = Request::get("/me");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_owned());
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8(body.to_vec()).unwrap();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, challenge, format!("{content_type}\n{text}"), json)
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn claims() -> Value {
    let now = now();
    json!({
        "iss": ISS, "sub": "user-1", "aud": AUD, "exp": now + 600, "nbf": now, "iat": now,
        "jti": "Zq2f0bqvS0Kk1y7aXo3x1w", "roles": ["admin"], "amr": ["pwd"], "auth_time": now,
    })
}

const INVALID: &str = r#"Bearer error="invalid_token""#;

fn assert_problem(status: StatusCode, expected: u16, text: &str, json: &Value) {
    assert_eq!(status.as_u16(), expected, "{text}");
    assert!(text.starts_with("application/problem+json\n"), "{text}");
    assert_eq!(json["status"], expected);
    assert_eq!(json["type"], "about:blank");
}

#[tokio::test]
async fn good_bearer_token_reaches_the_handler() {
    let f = fixture();
    let identity = Identity::new("user-1", 1_700_000_000)
        .with_roles(["admin", "member"])
        .with_amr([Amr::Pwd, Amr::Otp])
        .with_session("s-1");
    let token = f.token(&identity);
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let (status, _, text, json) = f
            .get(&[("authorization", &format!("{scheme} {token}"))])
            .await;
        assert_eq!(status, StatusCode::OK, "{text}");
        assert_eq!(
            json,
            json!({"sub": "user-1", "roles": ["admin", "member"], "admin": true, "mfa": true,
                   "auth_time": 1_700_000_000, "sid": "s-1", "carrier": "bearer"})
        );
    }
    assert_eq!(f.sessions.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn missing_credentials_are_401_without_an_error_code() {
    let f = fixture();
    let (status, challenge, text, json) = f.get(&[]).await;
    assert_problem(status, 401, &text, &json);
    assert_eq!(challenge.as_deref(), Some("Bearer"));
    assert_eq!(json["detail"], "This resource needs authentication.");
    assert_eq!(
        f.sessions.calls.load(Ordering::SeqCst),
        1,
        "the cookie path was asked"
    );
}

#[tokio::test]
async fn bad_tokens_are_401_invalid_token_and_never_echoed() {
    let f = fixture();
    let t = now();
    let with = |key: &str, value: Value| {
        let mut c = claims();
        c[key] = value;
        c
    };
    let mut expired = with("exp", json!(t - 3600));
    expired["iat"] = json!(t - 4000);
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "malformed",
            "abc.def".into(),
            "The credentials are not valid.",
        ),
        (
            "garbage",
            "Zm9vYmFy.Zm9vYmFy.Zm9vYmFy".into(),
            "The credentials are not valid.",
        ),
        (
            "alg none",
            format!(
                "eyJhbGciOiJub25lIn0.{}.",
                URL_SAFE_NO_PAD.encode(claims().to_string())
            ),
            "The credentials are not valid.",
        ),
        (
            "expired",
            f.forged(&expired),
            "The credentials have expired.",
        ),
        (
            "wrong aud",
            f.forged(&with("aud", json!("billing-api"))),
            "The credentials are not valid.",
        ),
        (
            "wrong iss",
            f.forged(&with("iss", json!("https://evil.example"))),
            "The credentials are not valid.",
        ),
        (
            "unknown role",
            f.forged(&with("roles", json!(["admin", "superuser"]))),
            "The credentials are not valid.",
        ),
        (
            "role in other case",
            f.forged(&with("roles", json!(["Admin"]))),
            "The credentials are not valid.",
        ),
        (
            "wrong key",
            {
                let other = rand::random::<[u8; 32]>().to_vec();
                let key = AccessTokenKey::hs256(SecretBox::from(other)).unwrap();
                AccessTokens::builder(key, ISS, AUD)
                    .build()
                    .unwrap()
                    .issue(&Identity::new("u", t))
                    .unwrap()
            },
            "The credentials are not valid.",
        ),
    ];
    for (what, token, detail) in cases {
        let (status, challenge, text, json) = f
            .get(&[("authorization", &format!("Bearer {token}"))])
            .await;
        assert_problem(status, 401, &text, &json);
        assert_eq!(challenge.as_deref(), Some(INVALID), "{what}");
        assert_eq!(json["detail"], detail, "{what}");
        for piece in token.split('.').filter(|p| p.len() > 3) {
            assert!(!text.contains(piece), "{what}: the body echoes the token");
        }
    }
    // Not bearer, empty, or two Authorization headers: refused as invalid credentials.
    let token = f.token(&Identity::new("user-1", t));
    for headers in [
        vec![("authorization", "Basic dXNlcjpwYXNz")],
        vec![("authorization", "Bearer")],
        vec![("authorization", "Bearer ")],
        vec![("authorization", token.as_str())],
        vec![("authorization", "Bearer a b")],
    ] {
        let (status, challenge, text, json) = f.get(&headers).await;
        assert_problem(status, 401, &text, &json);
        assert_eq!(challenge.as_deref(), Some(INVALID), "{headers:?}");
    }
    let bearer = format!("Bearer {token}");
    let (status, challenge, ..) = f
        .get(&[("authorization", &bearer), ("authorization", &bearer)])
        .await;
    assert_eq!(
        (status, challenge.as_deref()),
        (StatusCode::UNAUTHORIZED, Some(INVALID))
    );
    assert_eq!(
        f.sessions.calls.load(Ordering::SeqCst),
        0,
        "no bad bearer fell back to the cookie"
    );
}

#[tokio::test]
async fn session_cookie_is_the_path_without_an_authorization_header() {
    let f = fixture();
    let (status, _, text, json) = f.get(&[("cookie", "session=good")]).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(json["sub"], "cookie-user");
    assert_eq!(json["carrier"], Carrier::SessionCookie.as_str());
    assert_eq!(json["sid"], "s-7");
    assert_eq!(json["mfa"], false);

    let (status, challenge, text, json) = f.get(&[("cookie", "session=old")]).await;
    assert_problem(status, 401, &text, &json);
    assert_eq!(challenge.as_deref(), Some(INVALID));
    assert_eq!(json["detail"], "The credentials have expired.");

    let (status, challenge, text, json) = f.get(&[("cookie", "session=forged")]).await;
    assert_problem(status, 401, &text, &json);
    assert_eq!(challenge.as_deref(), Some(INVALID));

    let (status, challenge, text, json) = f.get(&[("cookie", "session=csrf")]).await;
    assert_problem(status, 403, &text, &json);
    assert_eq!(challenge, None);

    let (status, _, text, json) = f.get(&[("cookie", "session=stranger")]).await;
    assert_problem(status, 401, &text, &json);
}

#[tokio::test]
async fn a_bad_bearer_token_never_falls_back_to_the_cookie() {
    let f = fixture();
    let (status, challenge, text, json) = f
        .get(&[
            ("authorization", "Bearer not.a.token"),
            ("cookie", "session=good"),
        ])
        .await;
    assert_problem(status, 401, &text, &json);
    assert_eq!(challenge.as_deref(), Some(INVALID));
    assert_eq!(f.sessions.calls.load(Ordering::SeqCst), 0);
    // A good bearer token wins over a cookie.
    let token = f.token(&Identity::new("bearer-user", now()));
    let (status, _, _, json) = f
        .get(&[
            ("authorization", &format!("Bearer {token}")),
            ("cookie", "session=good"),
        ])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (json["sub"].as_str(), json["carrier"].as_str()),
        (Some("bearer-user"), Some("bearer"))
    );
    assert_eq!(f.sessions.calls.load(Ordering::SeqCst), 0);
}

/// A raw handler that takes a `Principal`, routed as an unprotected row: the stack does not
/// authenticate it, so no caller reaches it.
async fn raw_me(user: Principal<AppRole>) -> String {
    user.subject().to_owned()
}

#[tokio::test]
async fn a_principal_comes_only_from_the_stack() {
    // `auth` routes without an authenticator do not assemble.
    let refused = SecureRouter::new()
        .route("/me", get(me))
        .into_app(SecurityConfig::new())
        .unwrap_err();
    assert!(matches!(refused, AssemblyError::NoAuthenticator { .. }));
    // Outside an authenticated route a `Principal` is refused, whatever the request carries:
    // it never authenticates on its own.
    let f = fixture();
    let token = f.token(&Identity::new("user-1", now()).with_roles(["admin"]));
    let app = SecureRouter::new()
        .unprotected(
            Method::GET,
            "/raw",
            axum::routing::get(raw_me),
            "a test of a Principal outside the stack's authentication",
        )
        .into_app(SecurityConfig::new().rate_limiter(RateLimiter::new().without_default_limit()))
        .expect("the app assembles");
    let response = app
        .oneshot(
            Request::get("/raw")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn sessions_only_refuses_bearer_tokens() {
    let secret = rand::random::<[u8; 32]>().to_vec();
    let key = AccessTokenKey::hs256(SecretBox::from(secret)).unwrap();
    let token = AccessTokens::builder(key, ISS, AUD)
        .build()
        .unwrap()
        .issue(&Identity::new("u", now()))
        .unwrap();
    let auth = Authenticator::sessions_only(Arc::new(FakeSessions::default()));
    let app = app_with(auth);
    let (status, ..) = call(
        app.clone(),
        &[("authorization", &format!("Bearer {token}"))],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, ..) = call(app, &[("cookie", "session=good")]).await;
    assert_eq!(status, StatusCode::OK);
}

// ---------------------------------------------------------------------------------------------
// audit events

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Request headers, the expected event, and the expected reason field.
type AuditCase = (Vec<(&'static str, String)>, &'static str, &'static str);

#[tokio::test(flavor = "current_thread")]
async fn every_refusal_is_an_audit_event_without_the_token() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(capture.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        .finish();
    secure_tests::tracing_fallback();
    let _guard = tracing::subscriber::set_default(subscriber);

    let f = fixture();
    let mut unknown_role = claims();
    unknown_role["roles"] = json!(["superuser"]);
    let unknown_role = f.forged(&unknown_role);
    let mut expired = claims();
    expired["exp"] = json!(now() - 3600);
    expired["iat"] = json!(now() - 4000);
    let expired = f.forged(&expired);
    let cases: Vec<AuditCase> = vec![
        (vec![], "auth.session", "reason=\"missing_credentials\""),
        (
            vec![("authorization", "Bearer x.y.z".into())],
            "auth.token",
            "reason=\"malformed\"",
        ),
        (
            vec![("authorization", format!("Bearer {expired}"))],
            "auth.token",
            "reason=\"expired\"",
        ),
        (
            vec![("authorization", format!("Bearer {unknown_role}"))],
            "auth.token",
            "reason=\"unknown_role\"",
        ),
        (
            vec![("authorization", "Basic Zm9v".into())],
            "auth.token",
            "reason=\"authorization_scheme\"",
        ),
        (
            vec![("cookie", "session=csrf".into())],
            "auth.session",
            "reason=\"csrf_failed\"",
        ),
        (
            vec![("cookie", "session=stranger".into())],
            "auth.session",
            "reason=\"unknown_role\"",
        ),
    ];
    for (headers, event, reason) in &cases {
        capture.0.lock().unwrap().clear();
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let (status, ..) = f.get(&headers).await;
        assert_ne!(status, StatusCode::OK);
        let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
        let audit_lines: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("security::audit"))
            .collect();
        assert_eq!(audit_lines.len(), 1, "one event per refusal: {log}");
        let line = audit_lines[0];
        assert!(line.contains(&format!("event=\"{event}\"")), "{line}");
        assert!(line.contains("outcome=\"failure\""), "{line}");
        assert!(line.contains(reason), "{line}");
        for (_, value) in &headers {
            for piece in value.split(['.', ' ', '=']).filter(|p| p.len() > 8) {
                assert!(
                    !log.contains(piece),
                    "the log contains credential text: {log}"
                );
            }
        }
    }
    // The unknown-role event names the (verified) subject.
    capture.0.lock().unwrap().clear();
    f.get(&[("authorization", &format!("Bearer {unknown_role}"))])
        .await;
    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("subject=user-1"), "{log}");

    // A `Principal` outside an authenticated route: refused and audited, no credential read.
    capture.0.lock().unwrap().clear();
    let app = SecureRouter::new()
        .unprotected(
            Method::GET,
            "/me",
            axum::routing::get(raw_me),
            "a test of a Principal outside the stack's authentication",
        )
        .into_app(SecurityConfig::new().rate_limiter(RateLimiter::new().without_default_limit()))
        .expect("the app assembles");
    let (status, ..) = call(app, &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("reason=\"no_caller\""), "{log}");
}
