//! The steps the `#[secure_handler]` wrapper runs before the handler: authenticate,
//! authorise, rate-limit, and audit each outcome. Called only by generated code.
// The error is the response to send, returned straight from the handler: boxing it would only
// add an allocation to every denial.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use crate::audit::{self, Outcome};
use crate::auth::{
    Amr, AuthError, Authenticator, Carrier, Identity, Principal, Role, StepUpRequired,
};
use crate::error::Problem;
use crate::ratelimit::RateLimit;
use crate::ratelimit::{RateLimitHeaders, RateLimiter};

/// Authenticates the caller as a `Principal<R>` (401 and an audit event when it cannot).
pub async fn authenticate<R: Role, S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
) -> Result<Principal<R>, Response> {
    <Principal<R> as FromRequestParts<S>>::from_request_parts(parts, state)
        .await
        .map_err(IntoResponse::into_response)
}

/// Authenticates the caller without a role type (routes declaring `auth` alone), with what
/// carried the credential.
pub async fn authenticate_identity(parts: &Parts) -> Result<(Identity, Carrier), Response> {
    let Some(authenticator) = parts.extensions.get::<Arc<Authenticator>>() else {
        tracing::error!(
            target: "secure::auth",
            "an `auth` route is served without an Authenticator: build the router with SecureRouter::into_router"
        );
        audit::emit(
            "auth.token",
            Outcome::Failure,
            None,
            AuthError::NotConfigured.reason(),
        );
        return Err(AuthError::NotConfigured.into_response());
    };
    authenticator
        .authenticate(parts)
        .await
        .map_err(IntoResponse::into_response)
}

fn forbidden(subject: &str, reason: &'static str) -> Response {
    audit::emit("access", Outcome::Denied, Some(subject), reason);
    Problem::new(StatusCode::FORBIDDEN, "You are not allowed to do this.").into_response()
}

/// 403 unless the principal holds one of `roles` (any, when empty) and, with `mfa`, used a
/// second factor.
pub fn authorize<R: Role>(
    principal: &Principal<R>,
    roles: &[R],
    mfa: bool,
) -> Result<(), Response> {
    if !roles.is_empty() && !roles.iter().any(|r| principal.has_role(*r)) {
        return Err(forbidden(principal.subject(), "missing_role"));
    }
    if mfa && !principal.mfa() {
        return Err(forbidden(principal.subject(), "mfa_required"));
    }
    Ok(())
}

/// 403 when `mfa` is required and the identity used no second factor.
pub fn authorize_identity(identity: &Identity, mfa: bool) -> Result<(), Response> {
    if mfa && !identity.amr.contains(&Amr::Otp) {
        return Err(forbidden(&identity.subject, "mfa_required"));
    }
    Ok(())
}

/// 401 asking for a new sign-in when the caller's (`auth_time`, Unix seconds) is more than
/// `max_age` seconds old (`fresh = ".."`): [`StepUpRequired`], audited as `access` /
/// `denied` / `stale_authentication`. A refresh never makes a sign-in newer: refreshed
/// tokens keep the `auth_time` of the sign-in that started their family.
pub fn require_fresh(
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

/// Counts the request against the route's limit: 429 problem+json with `Retry-After` and the
/// `RateLimit` fields when over it; otherwise the `RateLimit` fields for the response. With a
/// store the decision is awaited; when the store cannot answer, 503 (failing closed) or no
/// fields (failing open, [`RateLimiter::fail_open`]).
pub async fn rate_limit(
    parts: &Parts,
    route: &'static str,
    limit: RateLimit,
    subject: Option<&str>,
) -> Result<RateLimitHeaders, Response> {
    let Some(limiter) = parts.extensions.get::<Arc<RateLimiter>>() else {
        tracing::error!(
            target: "secure::ratelimit",
            route,
            "a rate-limited route is served without a RateLimiter: build the router with SecureRouter::into_router"
        );
        return Err(Problem::internal().into_response());
    };
    let key = limiter.key_for(parts, limit.key, subject);
    limiter
        .decide(route, limit, &key)
        .await
        .into_result(subject)
}

/// The success audit event of a route with `audit = ".."` (a failure when the handler itself
/// answered with an error status).
pub fn audit_success(event: &'static str, response: &Response, subject: Option<&str>) {
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
