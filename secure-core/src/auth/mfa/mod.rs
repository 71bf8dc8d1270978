//! Multi-factor authentication: TOTP (RFC 6238) with replay protection, and single-use
//! recovery codes.
//!
//! **What it protects against.**
//! - A stolen password alone opening the account: a second factor from an authenticator app
//!   (ASVS 2.8.1, 2.8.3: time-based codes with a defined lifetime, 30 s with one step of
//!   tolerance either side).
//! - A code seen over the shoulder or in a proxy log being used again: each code is
//!   accepted once, and no code older than the last accepted one is (ASVS 2.8.4). The caller
//!   stores the step [`verify_totp`] returns.
//! - Timing side channels on the comparison: codes and recovery codes are compared with
//!   `subtle`, every candidate checked (ASVS 2.8.x with 2.9).
//! - A lost device locking the user out for good, without a weak back door: ten single-use
//!   recovery codes with 80 bits each, stored salted and hashed (ASVS 2.5.x, 2.6.1-2.6.3).
//! - Leaks: secrets, URIs and codes are [`SecretString`](crate::SecretString) or wiped
//!   buffers; no `Debug` here prints them; errors carry no input.
//!
//! **Audit.** [`verify_totp`] and [`verify_recovery_code`] know the subject and decide, so they
//! emit `auth.mfa` events themselves: `failure` with `bad_otp` or `otp_replay`, and `success`
//! with `recovery_code_used`. A successful TOTP check emits nothing: the login is not done
//! until the caller has stored the step (which can still fail as a replay), so the caller
//! emits `auth.login` / `success` then.
//!
//! Not here: limiting attempts (ASVS 2.2.1, the `ratelimit` module's job), encrypting the
//! stored TOTP secret (the application's key management), push or WebAuthn factors.
//!
//! ```
//! use std::time::SystemTime;
//! use secure_core::auth::mfa::{TotpIssuer, verify_totp};
//!
//! let enrollment = TotpIssuer::new("Notes").unwrap().enroll("ada@example.com").unwrap();
//! // ... show enrollment.otpauth_uri() as a QR code, read the first code the user types ...
//! let code = "000000";
//! match verify_totp("user-42", enrollment.secret(), code, None, SystemTime::now()) {
//!     Ok(step) => { /* store the secret and `step`; MFA is on */ }
//!     Err(e) => { /* ask again; e.audit_reason() was logged */ let _ = e; }
//! }
//! ```

mod recovery;
mod totp;

pub use recovery::{RECOVERY_CODE_COUNT, RecoveryCodeHash, RecoveryCodes, verify_recovery_code};
pub use totp::{
    TOTP_DIGITS, TOTP_PERIOD_SECS, TOTP_SECRET_BYTES, TOTP_SKEW_STEPS, TotpEnrollment, TotpIssuer,
    TotpSecret, verify_totp,
};

use std::fmt;

/// Why an MFA step failed. No variant carries the submitted code or the secret.
///
/// A handler should answer [`MfaError::MalformedCode`], [`MfaError::WrongCode`] and
/// [`MfaError::Replay`] the same way ("the code is not valid").
///
/// ```
/// use secure_core::auth::mfa::MfaError;
///
/// assert_eq!(MfaError::Replay.audit_reason(), Some("otp_replay"));
/// assert_eq!(MfaError::WrongCode.to_string(), "the code is not valid");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MfaError {
    /// Not 6 ASCII digits (TOTP) or not 16 base32 symbols (recovery code).
    MalformedCode,
    /// Well-formed, but not a valid code now.
    WrongCode,
    /// A valid code from a time step at or before the last one accepted.
    Replay,
    /// The stored TOTP secret is not base32 of at least 128 bits.
    InvalidSecret,
    /// The issuer is empty or contains `:` or control characters.
    InvalidIssuer,
    /// The account name is empty or contains `:` or control characters.
    InvalidAccountName,
    /// A stored recovery-code hash is not one [`RecoveryCodeHash::to_stored_string`] wrote.
    MalformedRecoveryHash,
}

impl MfaError {
    /// The audit `reason` for failures a user caused: `bad_otp` (malformed or wrong code) or
    /// `otp_replay`; `None` for configuration and storage errors.
    pub fn audit_reason(self) -> Option<&'static str> {
        match self {
            MfaError::MalformedCode | MfaError::WrongCode => Some("bad_otp"),
            MfaError::Replay => Some("otp_replay"),
            MfaError::InvalidSecret
            | MfaError::InvalidIssuer
            | MfaError::InvalidAccountName
            | MfaError::MalformedRecoveryHash => None,
        }
    }
}

impl fmt::Display for MfaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MfaError::MalformedCode | MfaError::WrongCode | MfaError::Replay => {
                "the code is not valid"
            }
            MfaError::InvalidSecret => "the stored TOTP secret is invalid",
            MfaError::InvalidIssuer => "the TOTP issuer name is invalid",
            MfaError::InvalidAccountName => "the TOTP account name is invalid",
            MfaError::MalformedRecoveryHash => "a stored recovery code hash is malformed",
        })
    }
}

impl std::error::Error for MfaError {}

/// `?` in a handler: a wrong, malformed or replayed code is 401 `invalid_otp`, the answer of
/// a wrong one-time code wherever one is checked; a bad stored secret or configuration is a
/// 500 whose cause is logged.
impl From<MfaError> for crate::error::ApiError {
    fn from(error: MfaError) -> Self {
        use axum::http::{HeaderValue, StatusCode, header};
        if error.audit_reason().is_none() {
            return crate::error::ApiError::internal(error);
        }
        crate::error::Problem::new(StatusCode::UNAUTHORIZED, "The one-time code is not valid.")
            .with_code("invalid_otp")
            .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
            .into()
    }
}
