//! [`AuthError`]: why a request was not authenticated, as the response the client gets.
//!
//! What this protects against: error responses that help an attacker (ASVS 7.4.1, 3.5.x).
//! The body is a fixed RFC 9457 problem: it never echoes the token, the cookie or which check
//! failed (bad signature, wrong audience and unknown role all read "not valid"); the precise
//! reason goes to the audit log only. `401` answers carry `WWW-Authenticate` as RFC 9110 §15.5.2
//! and RFC 6750 §3 ask.

use std::fmt;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::identity::Carrier;
use crate::error::{ApiError, Problem};

/// An authentication failure. Its response is a problem+json body with a fixed detail.
///
/// | variant | status | `WWW-Authenticate` |
/// | --- | --- | --- |
/// | [`Missing`](AuthError::Missing) | 401 | `Bearer` (RFC 6750 §3.1: no error code when no credentials were sent) |
/// | [`Invalid`](AuthError::Invalid) | 401 | `Bearer error="invalid_token"` |
/// | [`Expired`](AuthError::Expired) | 401 | `Bearer error="invalid_token"` |
/// | [`CsrfFailed`](AuthError::CsrfFailed) | 403 | — |
/// | [`NotConfigured`](AuthError::NotConfigured) | 500 | — |
/// | [`Unavailable`](AuthError::Unavailable) | 503 | — |
///
/// Cookie-session code (a [`SessionAuthenticator`](crate::auth::SessionAuthenticator)) returns
/// `Invalid` for a session cookie that is unknown, forged or revoked, `Expired` for one past its
/// lifetime, and `CsrfFailed` when a cookie-authenticated unsafe request fails the CSRF check.
///
/// ```
/// use axum::http::StatusCode;
/// use axum::response::IntoResponse;
/// use secure_core::auth::AuthError;
///
/// let response = AuthError::Expired.into_response();
/// assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
/// assert_eq!(response.headers()["www-authenticate"], r#"Bearer error="invalid_token""#);
/// assert_eq!(AuthError::CsrfFailed.into_response().status(), StatusCode::FORBIDDEN);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthError {
    /// No credentials at all: no `Authorization` header and no session cookie.
    Missing,
    /// Credentials were sent but are not acceptable: malformed, forged, for another audience,
    /// revoked, or carrying a role this application does not know.
    Invalid,
    /// Credentials that were valid once but are past their lifetime.
    Expired,
    /// A cookie-authenticated request that changes state failed the CSRF check.
    CsrfFailed,
    /// No [`Authenticator`](crate::auth::Authenticator) is installed: a server bug, answered
    /// with a generic 500 (fail closed).
    NotConfigured,
    /// The session or token store failed (database down): answered with a generic 503 and
    /// logged; never treated as "no credentials" (fail closed).
    Unavailable,
    /// A credential used more often than its own limit (an API key's): 429 with
    /// `Retry-After`.
    RateLimited {
        /// Seconds until the next request may pass.
        retry_after: u64,
    },
}

impl AuthError {
    /// The HTTP status of the response.
    ///
    /// ```
    /// # use secure_core::auth::AuthError;
    /// assert_eq!(AuthError::Missing.status().as_u16(), 401);
    /// ```
    pub fn status(self) -> StatusCode {
        match self {
            AuthError::Missing | AuthError::Invalid | AuthError::Expired => {
                StatusCode::UNAUTHORIZED
            }
            AuthError::CsrfFailed => StatusCode::FORBIDDEN,
            AuthError::NotConfigured => StatusCode::INTERNAL_SERVER_ERROR,
            AuthError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AuthError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    /// A fixed code for audit events and logs: `missing_credentials`, `invalid_credentials`,
    /// `expired`, `csrf_failed`, `not_configured` or `store_unavailable`.
    ///
    /// ```
    /// # use secure_core::auth::AuthError;
    /// assert_eq!(AuthError::CsrfFailed.reason(), "csrf_failed");
    /// ```
    pub fn reason(self) -> &'static str {
        match self {
            AuthError::Missing => "missing_credentials",
            AuthError::Invalid => "invalid_credentials",
            AuthError::Expired => "expired",
            AuthError::CsrfFailed => "csrf_failed",
            AuthError::NotConfigured => "not_configured",
            AuthError::Unavailable => "store_unavailable",
            AuthError::RateLimited { .. } => "credential_rate_limited",
        }
    }

    /// The `WWW-Authenticate` value of a 401, `None` for other statuses.
    ///
    /// ```
    /// # use secure_core::auth::AuthError;
    /// assert_eq!(AuthError::Missing.www_authenticate(), Some("Bearer"));
    /// assert_eq!(AuthError::CsrfFailed.www_authenticate(), None);
    /// ```
    pub fn www_authenticate(self) -> Option<&'static str> {
        match self {
            AuthError::Missing => Some("Bearer"),
            AuthError::Invalid | AuthError::Expired => Some(r#"Bearer error="invalid_token""#),
            AuthError::CsrfFailed
            | AuthError::NotConfigured
            | AuthError::Unavailable
            | AuthError::RateLimited { .. } => None,
        }
    }

    /// The problem+json body: a fixed sentence per variant (none for the 5xx).
    ///
    /// ```
    /// # use secure_core::auth::AuthError;
    /// let problem = AuthError::Invalid.problem();
    /// assert_eq!(problem.detail(), Some("The credentials are not valid."));
    /// ```
    pub fn problem(self) -> Problem {
        let detail = match self {
            AuthError::Missing => "This resource needs authentication.",
            AuthError::Invalid => "The credentials are not valid.",
            AuthError::Expired => "The credentials have expired.",
            AuthError::CsrfFailed => "The request failed the CSRF check.",
            AuthError::RateLimited { .. } => {
                "Too many requests with this credential: wait as `Retry-After` says."
            }
            AuthError::NotConfigured | AuthError::Unavailable => "",
        };
        let mut problem = Problem::new(self.status(), detail);
        if let AuthError::RateLimited { retry_after } = self {
            problem = problem.with_header(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
        match self.www_authenticate() {
            Some(challenge) => problem.with_header(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            ),
            None => problem,
        }
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        self.problem().into_response()
    }
}

/// `?` in a handler: the same answer as [`AuthError::problem`].
impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        error.problem().into()
    }
}

/// The caller's sign-in is older than a route's `fresh = ".."` window: authenticate again
/// (ASVS 4.0.3 3.7.1; ASVS 5.0 7.5.1), then retry.
///
/// - Bearer callers: 401 with `WWW-Authenticate: Bearer error="insufficient_user_authentication",
///   error_description="..", max_age=N` (RFC 9470 §3) and the problem code
///   `insufficient_user_authentication`.
/// - Cookie sessions: 401 with the problem code `reauthentication_required` and no bearer
///   challenge (the browser re-authenticates its session, see `SessionManager::renew`).
///
/// ```
/// use axum::response::IntoResponse;
/// use secure_core::auth::{Carrier, StepUpRequired};
///
/// let response = StepUpRequired::new(300, Carrier::BearerToken).into_response();
/// assert_eq!(response.status(), 401);
/// assert_eq!(
///     response.headers()["www-authenticate"],
///     r#"Bearer error="insufficient_user_authentication", error_description="A more recent authentication is required", max_age=300"#
/// );
/// let cookie = StepUpRequired::new(300, Carrier::SessionCookie).into_response();
/// assert!(cookie.headers().get("www-authenticate").is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepUpRequired {
    max_age_secs: u64,
    carrier: Carrier,
}

impl StepUpRequired {
    /// A refusal asking for a sign-in at most `max_age_secs` old, for a caller who came with
    /// `carrier`.
    pub fn new(max_age_secs: u64, carrier: Carrier) -> Self {
        StepUpRequired {
            max_age_secs,
            carrier,
        }
    }

    /// The window the route asks for, in seconds.
    pub fn max_age_secs(&self) -> u64 {
        self.max_age_secs
    }

    /// The problem code: `insufficient_user_authentication` (bearer) or
    /// `reauthentication_required` (cookie session).
    pub fn code(&self) -> &'static str {
        match self.carrier {
            Carrier::BearerToken => "insufficient_user_authentication",
            Carrier::SessionCookie => "reauthentication_required",
        }
    }
}

impl StepUpRequired {
    /// The 401 (see the type's docs).
    pub fn problem(&self) -> Problem {
        let problem = Problem::new(
            StatusCode::UNAUTHORIZED,
            "This operation needs a recent sign-in: authenticate again, then retry.",
        )
        .with_code(self.code());
        if self.carrier != Carrier::BearerToken {
            return problem;
        }
        let challenge = format!(
            "Bearer error=\"insufficient_user_authentication\", error_description=\"A more recent authentication is required\", max_age={}",
            self.max_age_secs
        );
        match HeaderValue::from_str(&challenge) {
            Ok(value) => problem.with_header(header::WWW_AUTHENTICATE, value),
            Err(_) => problem,
        }
    }
}

impl IntoResponse for StepUpRequired {
    fn into_response(self) -> Response {
        self.problem().into_response()
    }
}

/// `?` in a handler: [`StepUpRequired::problem`].
impl From<StepUpRequired> for ApiError {
    fn from(refusal: StepUpRequired) -> Self {
        refusal.problem().into()
    }
}

/// The reason code, such as `expired`.
impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

impl std::error::Error for AuthError {}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn bodies_are_fixed_problems() {
        for (error, status) in [
            (AuthError::Missing, 401),
            (AuthError::Invalid, 401),
            (AuthError::Expired, 401),
            (AuthError::CsrfFailed, 403),
            (AuthError::NotConfigured, 500),
            (AuthError::Unavailable, 503),
        ] {
            let response = error.into_response();
            assert_eq!(response.status().as_u16(), status);
            assert_eq!(
                response.headers()[header::CONTENT_TYPE],
                crate::error::PROBLEM_JSON
            );
            assert_eq!(
                response.headers().contains_key(header::WWW_AUTHENTICATE),
                status == 401
            );
            let body = response.into_body().collect().await.unwrap().to_bytes();
            let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(json["status"], status);
            assert_eq!(json.get("detail").is_some(), status < 500);
        }
    }
}
