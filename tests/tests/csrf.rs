//! CSRF for cookie-authenticated requests, through the stack's authenticator over HTTP (tower
//! `oneshot`): unsafe methods need `X-CSRF-Token` bound to the session and a same-origin (or
//! absent) `Sec-Fetch-Site`; safe methods and bearer requests are not checked.

mod identity_support;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use axum::response::IntoResponse;
use http_body_util::BodyExt;
use identity_support::record;
use secure_core::auth::jwt::{AccessTokenKey, AccessTokens};
use secure_core::auth::{Amr, Identity};
use secure_core::policy::SecureApp;
use secure_core::prelude::*;
use secure_core::session::{CsrfKey, MemorySessionStore, SessionManager};
use tower::ServiceExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum AppRole {
    Member,
}

type Sessions = SessionManager<MemorySessionStore>;

#[secure_handler(auth)]
async fn whoami(user: Principal<AppRole>) -> String {
    format!("{} via {}", user.subject(), user.carrier().as_str())
}

/// POST /login: (after a password check) opens a session, returns `{csrf_token}`.
#[secure_handler(public)]
async fn login(State(sessions): State<Sessions>, headers: HeaderMap) -> impl IntoResponse {
    let identity = Identity::new("alice", 1_700_000_000)
        .with_roles([AppRole::Member.as_str()])
        .with_amr([Amr::Pwd]);
    match sessions.login(&headers, identity).await {
        Ok(started) => (
            started.cookie,
            Json(serde_json::json!({"csrf_token": started.csrf_token.expose_secret()})),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// GET /session/csrf: the token again, for a reloaded page.
#[secure_handler(public)]
async fn csrf_token(State(sessions): State<Sessions>, headers: HeaderMap) -> impl IntoResponse {
    match sessions.csrf_token(&headers).await {
        Ok(Some(t)) => Json(serde_json::json!({"csrf_token": t.expose_secret()})).into_response(),
        Ok(None) => StatusCode::UNAUTHORIZED.into_response(),
        Err(e) => e.into_response(),
    }
}

struct App {
    router: SecureApp,
    tokens: AccessTokens,
}

fn access_tokens() -> AccessTokens {
    let key = AccessTokenKey::hs256(SecretBox::from(vec![42u8; 32])).unwrap();
    AccessTokens::builder(key, "https://auth.example", "notes-api")
        .build()
        .unwrap()
}

fn app() -> App {
    let sessions = SessionManager::new(
        MemorySessionStore::new(),
        CsrfKey::new(vec![3u8; 32]).unwrap(),
    );
    let auth = Authenticator::new(access_tokens()).with_sessions(Arc::new(sessions.clone()));
    let router = SecureRouter::new()
        .route(
            "/notes",
            get(whoami)
                .post(whoami)
                .put(whoami)
                .patch(whoami)
                .delete(whoami),
        )
        .route("/login", post(login))
        .route("/session/csrf", get(csrf_token))
        .with_state(sessions)
        .into_app(SecurityConfig::new().authenticator(auth))
        .expect("the app assembles");
    App {
        router,
        tokens: access_tokens(),
    }
}

/// What the browser holds after logging in: the cookie and the token from the body.
struct Browser {
    cookie: String,
    csrf: String,
}

async fn log_in(app: &App) -> Browser {
    let response = app
        .router
        .clone()
        .oneshot(Request::post("/login").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    Browser {
        cookie,
        csrf: json["csrf_token"].as_str().unwrap().to_owned(),
    }
}

async fn send(
    app: &App,
    method: Method,
    cookie: Option<&str>,
    headers: &[(&str, &str)],
) -> (StatusCode, String) {
    let mut request = Request::builder().method(method).uri("/notes");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app
        .router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn good_token_passes_every_unsafe_method() {
    let app = app();
    let b = log_in(&app).await;
    assert_eq!(b.csrf.len(), 43);
    for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
        for site in [None, Some("same-origin"), Some("none")] {
            let mut headers = vec![("x-csrf-token", b.csrf.as_str())];
            if let Some(site) = site {
                headers.push(("sec-fetch-site", site));
            }
            let (status, body) = send(&app, method.clone(), Some(&b.cookie), &headers).await;
            assert_eq!(status, StatusCode::OK, "{method} {site:?}");
            assert_eq!(body, "alice via session");
        }
    }
}

#[tokio::test]
async fn missing_token_is_403_and_audited() {
    let app = app();
    let b = log_in(&app).await;
    let (audit, _guard) = record();
    let (status, body) = send(&app, Method::POST, Some(&b.cookie), &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["detail"], "The request failed the CSRF check.");
    let event = audit.find("csrf_token_missing").unwrap();
    assert_eq!(
        (
            event.event.as_str(),
            event.outcome.as_str(),
            event.subject.as_str()
        ),
        ("auth.csrf", "denied", "alice")
    );
    // Empty header, two headers: the same.
    for headers in [
        vec![("x-csrf-token", "")],
        vec![
            ("x-csrf-token", b.csrf.as_str()),
            ("x-csrf-token", b.csrf.as_str()),
        ],
    ] {
        let (status, _) = send(&app, Method::DELETE, Some(&b.cookie), &headers).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn wrong_token_is_403() {
    let app = app();
    let b = log_in(&app).await;
    let (audit, _guard) = record();
    let mut flipped = b.csrf.clone().into_bytes();
    flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    for wrong in [
        flipped.as_str(),
        &"A".repeat(43),
        "not-a-token",
        &format!("{}=", b.csrf),
        &b.csrf[..42],
        &format!("{}A", b.csrf),
        &b.cookie["__Host-session=".len()..], // the session id itself is not the token
    ] {
        let (status, _) = send(
            &app,
            Method::POST,
            Some(&b.cookie),
            &[("x-csrf-token", wrong)],
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{wrong}");
    }
    assert!(audit.has("auth.csrf", "denied", "csrf_token_mismatch"));
}

#[tokio::test]
async fn token_of_another_session_is_403() {
    let app = app();
    let mine = log_in(&app).await;
    let theirs = log_in(&app).await;
    let (status, _) = send(
        &app,
        Method::POST,
        Some(&mine.cookie),
        &[("x-csrf-token", &theirs.csrf)],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Each with its own token works.
    for b in [&mine, &theirs] {
        let (status, _) = send(
            &app,
            Method::POST,
            Some(&b.cookie),
            &[("x-csrf-token", &b.csrf)],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
}

#[tokio::test]
async fn cross_site_and_same_site_fetches_are_403_even_with_the_token() {
    let app = app();
    let b = log_in(&app).await;
    let (audit, _guard) = record();
    for site in ["cross-site", "same-site", "CROSS-SITE", "unexpected"] {
        let (status, _) = send(
            &app,
            Method::POST,
            Some(&b.cookie),
            &[("x-csrf-token", &b.csrf), ("sec-fetch-site", site)],
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{site}");
    }
    assert!(audit.has("auth.csrf", "denied", "cross_site_request"));
}

#[tokio::test]
async fn safe_methods_are_not_checked() {
    let app = app();
    let b = log_in(&app).await;
    // (OPTIONS is the CORS layer's, before any route.)
    for method in [Method::GET, Method::HEAD] {
        let (status, _) = send(
            &app,
            method.clone(),
            Some(&b.cookie),
            &[("sec-fetch-site", "cross-site")],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{method}");
    }
}

#[tokio::test]
async fn bearer_requests_are_not_subject_to_csrf() {
    let app = app();
    let token = app
        .tokens
        .issue(&Identity::new("bob", 1_700_000_000).with_roles(["member"]))
        .unwrap();
    let auth = format!("Bearer {token}");
    let (status, body) = send(
        &app,
        Method::POST,
        None,
        &[("authorization", &auth), ("sec-fetch-site", "cross-site")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "bob via bearer");
}

#[tokio::test]
async fn no_cookie_is_401_not_403() {
    let app = app();
    let (status, _) = send(&app, Method::POST, None, &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = send(
        &app,
        Method::POST,
        Some("__Host-session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        &[(
            "x-csrf-token",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        )],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn token_can_be_fetched_again_and_matches_login() {
    let app = app();
    let b = log_in(&app).await;
    let response = app
        .router
        .clone()
        .oneshot(
            Request::get("/session/csrf")
                .header(header::COOKIE, &b.cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["csrf_token"], b.csrf.as_str());
}

#[tokio::test]
async fn renewal_changes_the_token() {
    let sessions = SessionManager::new(MemorySessionStore::new(), CsrfKey::generate());
    let started = sessions
        .login(&HeaderMap::new(), Identity::new("alice", 0))
        .await
        .unwrap();
    let cookie_of = |s: &secure_core::session::StartedSession| {
        s.cookie
            .header_value()
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned()
    };
    let mut h = HeaderMap::new();
    h.insert(header::COOKIE, cookie_of(&started).parse().unwrap());
    let renewed = sessions.renew(&h, |i| i.amr.push(Amr::Otp)).await.unwrap();

    let mut new = HeaderMap::new();
    new.insert(header::COOKIE, cookie_of(&renewed).parse().unwrap());
    new.insert(
        "x-csrf-token",
        started.csrf_token.expose_secret().parse().unwrap(),
    );
    assert!(
        sessions.load(&Method::POST, &new).await.is_err(),
        "old token, new session"
    );
    new.insert(
        "x-csrf-token",
        renewed.csrf_token.expose_secret().parse().unwrap(),
    );
    assert!(sessions.load(&Method::POST, &new).await.unwrap().is_some());
}

#[tokio::test]
async fn a_refused_request_does_not_keep_the_session_alive() {
    use secure_core::auth::ManualClock;
    let clock = ManualClock::new(1_000_000);
    let sessions = SessionManager::new(MemorySessionStore::new(), CsrfKey::generate())
        .with_clock(clock.clone());
    let started = sessions
        .login(&HeaderMap::new(), Identity::new("alice", 0))
        .await
        .unwrap();
    let mut h = HeaderMap::new();
    let cookie = started
        .cookie
        .header_value()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    h.insert(header::COOKIE, cookie.parse().unwrap());
    clock.advance(std::time::Duration::from_secs(29 * 60));
    assert!(sessions.load(&Method::POST, &h).await.is_err()); // no CSRF token
    clock.advance(std::time::Duration::from_secs(60));
    assert!(
        sessions.load(&Method::GET, &h).await.is_err(),
        "idle since login"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Arbitrary bytes in Cookie, X-CSRF-Token and Sec-Fetch-Site never panic, and never
    /// pass the check for an unsafe method.
    #[test]
    fn arbitrary_headers_never_panic_nor_pass(
        cookie_tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80),
        token in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80),
        site in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..20),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            let sessions = SessionManager::new(MemorySessionStore::new(), CsrfKey::generate());
            let started = sessions.login(&HeaderMap::new(), Identity::new("alice", 0)).await.unwrap();
            let cookie = started.cookie.header_value().to_str().unwrap().split(';').next().unwrap().to_owned();
            let mut h = HeaderMap::new();
            h.append(header::COOKIE, cookie.parse().unwrap());
            let mut junk_cookie = b"__Host-session=".to_vec();
            junk_cookie.extend_from_slice(&cookie_tail);
            if let Ok(v) = axum::http::HeaderValue::from_bytes(&junk_cookie) {
                let mut only_junk = HeaderMap::new();
                only_junk.insert(header::COOKIE, v);
                let _ = sessions.load(&Method::POST, &only_junk).await;
                let _ = sessions.load(&Method::GET, &only_junk).await;
            }
            if let Ok(v) = axum::http::HeaderValue::from_bytes(&token) {
                h.insert("x-csrf-token", v);
            }
            if let Ok(v) = axum::http::HeaderValue::from_bytes(&site) {
                h.insert("sec-fetch-site", v);
            }
            assert!(sessions.load(&Method::POST, &h).await.is_err());
        });
    }
}
