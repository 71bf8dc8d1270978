//! The pieces of the per-request path ([`super::pipeline`]) that answer a refusal. Every
//! refusal emits one audit event.
// The error is the response to send, returned straight from the handler: boxing it would only
// add an allocation to every denial.
#![allow(clippy::result_large_err)]

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::audit::{self, Outcome};
use crate::auth::{Carrier, StepUpRequired};
use crate::error::Problem;

/// 403, audited as `access` / `denied` with `reason`.
pub(crate) fn forbidden(subject: &str, reason: &'static str) -> Response {
    audit::emit("access", Outcome::Denied, Some(subject), reason);
    Problem::new(StatusCode::FORBIDDEN, "You are not allowed to do this.").into_response()
}

/// 401 asking for a new sign-in when the caller's (`auth_time`, Unix seconds) is more than
/// `max_age` seconds old (`fresh = ".."`): [`StepUpRequired`], audited as `access` /
/// `denied` / `stale_authentication`. A refresh never makes a sign-in newer: refreshed
/// tokens keep the `auth_time` of the sign-in that started their family.
pub(crate) fn require_fresh(
    auth_time: i64,
    carrier: Carrier,
    subject: &str,
    max_age: u64,
) -> Result<(), Response> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let age = now.saturating_sub(auth_time);
    if age <= i64::try_from(max_age).unwrap_or(i64::MAX) {
        return Ok(());
    }
    audit::emit(
        "access",
        Outcome::Denied,
        Some(subject),
        "stale_authentication",
    );
    Err(StepUpRequired::new(max_age, carrier).into_response())
}

/// The success audit event of a route with `audit = ".."` (a failure when the handler itself
/// answered with an error status).
pub(crate) fn audit_success(event: &'static str, response: &Response, subject: Option<&str>) {
    let status = response.status();
    if status.is_success() || status.is_redirection() {
        audit::emit(event, Outcome::Success, subject, "ok");
    } else if status.is_client_error() {
        audit::emit(event, Outcome::Failure, subject, "client_error");
    } else {
        audit::emit(event, Outcome::Failure, subject, "server_error");
    }
}

/// The answer of a handler whose `#[secure_handler]` did not compile (never served: the
/// build fails first).
pub fn not_built() -> Response {
    Problem::internal().into_response()
}
