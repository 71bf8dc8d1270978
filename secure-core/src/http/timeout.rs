//! The request timeout: reading the body and running the handler together.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::Problem;

/// Answers 408 problem+json when the inner service takes longer than `limit`; the request's
/// future (body upload, handler) is dropped there, which frees what it held.
pub async fn middleware(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(
                target: "secure::http",
                limit_ms = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX),
                "request timed out"
            );
            Problem::new(
                StatusCode::REQUEST_TIMEOUT,
                "The request took too long to complete.",
            )
            .into_response()
        }
    }
}
