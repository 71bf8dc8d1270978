//! The login failure answer: a 401 problem+json whose `code` member tells a client what to do
//! next (`invalid_credentials`, `mfa_required`, `invalid_otp`).
//!
//! secure-core's `Problem` has no extension members, so this one is written here with the
//! same shape (RFC 9457 allows extension members) and a fixed detail per code.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use secure_core::error::PROBLEM_JSON;
use serde::Serialize;

/// Why a login was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoginFailure {
    /// Unknown user or wrong password: the same answer for both.
    InvalidCredentials,
    /// The password was right and the account has MFA: send `otp` too.
    MfaRequired,
    /// The `otp` was not a valid TOTP code or unused recovery code.
    InvalidOtp,
}

impl LoginFailure {
    fn code(self) -> &'static str {
        match self {
            LoginFailure::InvalidCredentials => "invalid_credentials",
            LoginFailure::MfaRequired => "mfa_required",
            LoginFailure::InvalidOtp => "invalid_otp",
        }
    }

    fn detail(self) -> &'static str {
        match self {
            LoginFailure::InvalidCredentials => "The user name or password is not right.",
            LoginFailure::MfaRequired => {
                "This account uses two-factor authentication: send the current code as `otp`."
            }
            LoginFailure::InvalidOtp => "The one-time code is not valid.",
        }
    }
}

/// The body, in the member order of secure-core's `Problem`.
#[derive(Debug, Serialize)]
struct Body {
    r#type: &'static str,
    title: &'static str,
    status: u16,
    detail: &'static str,
    code: &'static str,
}

impl IntoResponse for LoginFailure {
    fn into_response(self) -> Response {
        let body = Body {
            r#type: "about:blank",
            title: "Unauthorized",
            status: 401,
            detail: self.detail(),
            code: self.code(),
        };
        let Ok(body) = serde_json::to_vec(&body) else {
            return StatusCode::UNAUTHORIZED.into_response();
        };
        let mut response = (StatusCode::UNAUTHORIZED, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        response
    }
}
