//! The login failure answer: a 401 problem+json whose `code` member tells a client what to do
//! next (`invalid_credentials`, `mfa_required`, `invalid_otp`), with a fixed detail per code.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use secure_core::error::Problem;

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
    /// The `code` member, also the audit reason.
    pub(crate) fn code(self) -> &'static str {
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

impl IntoResponse for LoginFailure {
    fn into_response(self) -> Response {
        let mut response = Problem::new(StatusCode::UNAUTHORIZED, self.detail())
            .with_code(self.code())
            .into_response();
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        response
    }
}
