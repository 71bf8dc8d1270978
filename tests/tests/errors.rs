//! Errors that `?` through a handler: every error a handler meets from secure-core or sqlx
//! converts into `ApiError` and answers as the framework does elsewhere, with the cause of a
//! 500 in the log under the request id and never in the body.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use secure_core::auth::mfa::MfaError;
use secure_core::auth::password::{HasherBusy, PasswordError};
use secure_core::auth::refresh::RefreshError;
use secure_core::config::SecurityConfig;
use secure_core::error::StoreError;
use secure_core::policy::SecureRouter;
use secure_core::prelude::*;
use secure_core::routing::get;
use secure_core::secure_handler;
use secure_core::session::SessionError;
use tower::ServiceExt;

fn fail<E>(error: E) -> Result<(), E> {
    Err(error)
}

#[secure_handler(public)]
async fn busy() -> Result<&'static str, ApiError> {
    fail(PasswordError::Busy(HasherBusy::new(3)))?;
    Ok("unreachable")
}

#[secure_handler(public)]
async fn short() -> Result<&'static str, ApiError> {
    fail(PasswordError::TooShort { min: 12 })?;
    Ok("unreachable")
}

#[secure_handler(public)]
async fn reused() -> Result<&'static str, ApiError> {
    fail(RefreshError::Reused)?;
    Ok("unreachable")
}

#[secure_handler(public)]
async fn refresh_store() -> Result<&'static str, ApiError> {
    fail(RefreshError::Store(StoreError::new(std::io::Error::other(
        "refresh_tokens: connection to 10.0.0.5 refused",
    ))))?;
    Ok("unreachable")
}

#[secure_handler(public)]
async fn session_store() -> Result<&'static str, ApiError> {
    fail(SessionError::Store(StoreError::new(std::io::Error::other(
        "sessions: timeout",
    ))))?;
    Ok("unreachable")
}

#[secure_handler(public)]
async fn wrong_code() -> Result<&'static str, ApiError> {
    fail(MfaError::WrongCode)?;
    Ok("unreachable")
}

#[secure_handler(public)]
async fn bad_secret() -> Result<&'static str, ApiError> {
    fail(MfaError::InvalidSecret)?;
    Ok("unreachable")
}

#[secure_handler(public)]
async fn query() -> Result<&'static str, ApiError> {
    fail(sqlx::Error::Protocol(
        "password authentication failed for user \"notes\"".into(),
    ))?;
    Ok("unreachable")
}

#[secure_handler(public)]
async fn problem() -> Result<&'static str, ApiError> {
    fail(Problem::new(StatusCode::GONE, "That invitation was used.").with_code("used"))?;
    Ok("unreachable")
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn call(path: &str) -> Answer {
    let app = SecureRouter::new()
        .route("/busy", get(busy))
        .route("/short", get(short))
        .route("/reused", get(reused))
        .route("/refresh-store", get(refresh_store))
        .route("/session-store", get(session_store))
        .route("/wrong-code", get(wrong_code))
        .route("/bad-secret", get(bad_secret))
        .route("/query", get(query))
        .route("/problem", get(problem))
        .into_app(SecurityConfig::new())
        .expect("assembles");
    let response = app
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

#[tokio::test]
async fn refusals_answer_as_the_framework_does() {
    let hasher = call("/busy").await;
    assert_eq!(hasher.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(hasher.headers["retry-after"], "3");
    assert!(hasher.body.contains(r#""code":"busy""#), "{}", hasher.body);

    let rule = call("/short").await;
    assert_eq!(rule.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        rule.body
            .contains(r#""field":"password","code":"too_short""#),
        "{}",
        rule.body
    );

    let refresh = call("/reused").await;
    assert_eq!(refresh.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        refresh.headers["www-authenticate"],
        r#"Bearer error="invalid_token""#
    );

    let code = call("/wrong-code").await;
    assert_eq!(code.status, StatusCode::UNAUTHORIZED);
    assert!(
        code.body.contains(r#""code":"invalid_otp""#),
        "{}",
        code.body
    );

    let store = call("/session-store").await;
    assert_eq!(store.status, StatusCode::SERVICE_UNAVAILABLE);

    let gone = call("/problem").await;
    assert_eq!(gone.status, StatusCode::GONE);
    assert!(gone.body.contains(r#""code":"used""#), "{}", gone.body);
}

#[tokio::test]
async fn internal_causes_stay_in_the_log() {
    let (answers, logs) = secure_tests::with_logs(async {
        let mut answers = Vec::new();
        for path in ["/refresh-store", "/bad-secret", "/query"] {
            answers.push(call(path).await);
        }
        answers
    })
    .await;
    for answer in &answers {
        assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
        let body: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
        let keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            ["request_id", "status", "title", "type"],
            "{}",
            answer.body
        );
        let id = body["request_id"].as_str().unwrap();
        assert!(logs.contains(id), "the cause is logged under {id}: {logs}");
    }
    for cause in [
        "10.0.0.5",
        "stored TOTP secret",
        "password authentication failed",
    ] {
        assert!(logs.contains(cause), "{cause} missing from the log: {logs}");
        assert!(answers.iter().all(|a| !a.body.contains(cause)));
    }
}
