//! Security metrics (`secure_core::metrics`): every audit event counted, every request timed,
//! with labels from closed sets. Thousands of requests with distinct paths, tokens, users and client addresses
//! add no series: the subject, the address and the raw path are never labels.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use secure_core::SecretBox;
use secure_core::audit::{self, Outcome};
use secure_core::auth::jwt::{AccessTokenKey, AccessTokens};
use secure_core::auth::{Authenticator, Principal, Role};
use secure_core::config::SecurityConfig;
use secure_core::policy::SecureRouter;
use secure_core::routing::get;
use secure_core::secure_handler;
use tower::ServiceExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum AppRole {
    Member,
}

#[secure_handler(auth)]
async fn note(user: Principal<AppRole>) -> String {
    user.subject().to_owned()
}

/// The `secure_security_events_total` series of the rendered text (but those of the span
/// test's route, which runs meanwhile in this process).
fn series(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.starts_with("secure_security_events_total{") && !l.contains("/drafts/"))
        .map(|l| l.rsplit_once(' ').map_or(l, |(s, _)| s))
        .collect()
}

#[tokio::test]
async fn events_are_counted_and_the_series_stay_bounded() {
    let metrics = secure_core::metrics::install().expect("the recorder");
    let key = AccessTokenKey::hs256(SecretBox::from(rand::random::<[u8; 32]>().to_vec())).unwrap();
    let tokens = AccessTokens::builder(key, "https://auth.example", "notes-api")
        .build()
        .unwrap();
    let app = SecureRouter::<()>::new()
        .route("/notes/{id}", get(note))
        .into_app(SecurityConfig::new().authenticator(Authenticator::new(tokens)))
        .unwrap();

    let before = series(&metrics.render()).len();
    for i in 0..3000u32 {
        let from = SocketAddr::from(([10, (i >> 16) as u8, (i >> 8) as u8, i as u8], 40000));
        let mut request = Request::get(format!("/notes/n-{i}"))
            .header(header::AUTHORIZATION, format!("Bearer not-a-token-{i}"))
            .body(Body::empty())
            .unwrap();
        request.extensions_mut().insert(ConnectInfo(from));
        let status = app.clone().oneshot(request).await.unwrap().status();
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        audit::emit(
            "auth.login",
            Outcome::Failure,
            Some(&format!("user-{i}")),
            "bad_password",
        );
    }
    // Paths no route has, and methods of every spelling: no series of their own.
    for i in 0..500u32 {
        let method = ["GET", "PURGE", "X-CUSTOM", "get"][i as usize % 4];
        let request = Request::builder()
            .method(method)
            .uri(format!("/nowhere/{i}/{}", "x".repeat(i as usize % 7)))
            .body(Body::empty())
            .unwrap();
        let _ = app.clone().oneshot(request).await.unwrap();
    }
    let text = metrics.render();
    let after = series(&text);
    // auth.token/malformed on the route, auth.login/bad_password, and the per-address limit
    // refusing the unrouted flood (it came with no address: one shared bucket).
    assert!(
        after.len() <= before + 3,
        "{} series before, {}: {after:#?}",
        before,
        after.len()
    );
    assert!(after.iter().any(|s| s.contains(r#"event="auth.token""#)
        && s.contains(r#"outcome="failure""#)
        && s.contains(r#"route="/notes/{id}""#)));
    assert!(after.iter().any(|s| s.contains(r#"event="auth.login""#)
        && s.contains(r#"reason="bad_password""#)
        && s.contains(r#"route="-""#)));
    // Each request timed under its route template, method and status class: one series.
    let timed: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.starts_with("secure_http_request_duration_seconds_count{") && !l.contains("/drafts/")
        })
        .collect();
    let notes: Vec<&&str> = timed
        .iter()
        .filter(|l| l.contains(r#"route="/notes/{id}""#))
        .collect();
    assert_eq!(notes.len(), 1, "{timed:#?}");
    for label in [r#"method="GET""#, r#"status="4xx""#] {
        assert!(notes[0].contains(label), "{label} in {}", notes[0]);
    }
    assert!(notes[0].ends_with(" 3000"), "{}", notes[0]);
    // The rest: at most the unmatched route under GET and `other`.
    assert!(timed.len() <= 3, "{timed:#?}");
    assert!(!text.contains("nowhere") && !text.contains("PURGE"));
    for leaked in ["user-1", "n-17", "10.0.0.", "not-a-token"] {
        assert!(!text.contains(leaked), "{leaked} in the metrics");
    }
}

/// Each request runs in a `request` span with its route template and request id (what an
/// OpenTelemetry layer exports): the audit events inside it carry them. (Another route than
/// the other test's: the recorder is the process's.)
#[tokio::test]
async fn each_request_has_a_span_with_its_route_template() {
    let key = AccessTokenKey::hs256(SecretBox::from(rand::random::<[u8; 32]>().to_vec())).unwrap();
    let tokens = AccessTokens::builder(key, "https://auth.example", "notes-api")
        .build()
        .unwrap();
    let app = SecureRouter::<()>::new()
        .route("/drafts/{id}", get(note))
        .into_app(SecurityConfig::new().authenticator(Authenticator::new(tokens)))
        .unwrap();
    let ((), logs) = secure_tests::with_logs(async {
        let mut request = Request::get("/drafts/secret-path-42")
            .header(header::AUTHORIZATION, "Bearer nope")
            .header("x-request-id", "req-7f3a")
            .body(Body::empty())
            .unwrap();
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([10, 1, 2, 3], 5000))));
        let status = app.clone().oneshot(request).await.unwrap().status();
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    })
    .await;
    let line = logs
        .lines()
        .find(|l| l.contains("security::audit"))
        .unwrap_or_else(|| panic!("an audit line in {logs}"));
    assert!(line.contains("request{"), "{line}");
    assert!(line.contains("route=/drafts/{id}"), "{line}");
    assert!(line.contains("request_id=req-7f3a"), "{line}");
    assert!(!logs.contains("secret-path-42"), "{logs}");
}
