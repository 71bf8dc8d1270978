//! One full request through an assembled app, as both request fixtures send them.

use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use secure_core::policy::SecureApp;
use tower::ServiceExt;

/// One full request: routing, layers, extractors, handler, and reading the body.
pub(crate) async fn send(app: &SecureApp, request: Request<Body>) -> (StatusCode, Bytes) {
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, body)
}
