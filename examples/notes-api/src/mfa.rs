//! `/auth/mfa/*`: TOTP enrolment, then confirmation with a first code, which turns MFA on and
//! hands out the recovery codes (shown once; stored salted-hashed).
//!
//! Against: MFA turned on for an app that was never set up (a code must be confirmed first),
//! lost devices without a back door (single-use recovery codes, ASVS 2.5.x, 2.6.x), and
//! secrets in logs (every secret here is a `SecretString`; ASVS 2.8.x, 7.1.1).

use std::time::SystemTime;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use secure_core::auth::mfa::{RecoveryCodeHash, RecoveryCodes, verify_totp};
use secure_core::prelude::*;
use secure_core::secure_handler;
use secure_core::validate::FieldError;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

use crate::auth::internal;
use crate::users;
use crate::{AppRole, AppState};

/// `200 {secret, otpauth_uri}`. `Debug` is redacted; `Serialize` writes both on purpose (the
/// user needs them once, to set up the app).
#[derive(Debug)]
pub(crate) struct Enrollment {
    secret: SecretString,
    otpauth_uri: SecretString,
}

impl Serialize for Enrollment {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Enrollment", 2)?;
        s.serialize_field("secret", self.secret.expose_secret())?;
        s.serialize_field("otpauth_uri", self.otpauth_uri.expose_secret())?;
        s.end()
    }
}

/// `200 {recovery_codes}`: the codes, this once.
#[derive(Debug)]
pub(crate) struct Confirmed(RecoveryCodes);

impl Serialize for Confirmed {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let codes: Vec<&str> = self.0.codes().iter().map(|c| c.expose_secret()).collect();
        let mut s = serializer.serialize_struct("Confirmed", 1)?;
        s.serialize_field("recovery_codes", &codes)?;
        s.end()
    }
}

/// `POST /auth/mfa/confirm`.
#[sensitive]
#[derive(Deserialize, Validated)]
pub(crate) struct Confirm {
    #[validate(length(min = 6, max = 16))]
    code: SecretString,
}

/// Makes a new secret and keeps it pending until a code from it is confirmed. Calling it
/// again replaces the pending secret. 409 once MFA is on (turning it off is not offered).
#[secure_handler(auth, rate_limit("10/min", key = user), audit = "mfa.enroll")]
pub(crate) async fn enroll(
    user: Principal<AppRole>,
    State(state): State<AppState>,
) -> Result<Json<Enrollment>, ApiError> {
    let Some(account) = users::by_id(&state.db, user.subject())
        .await
        .map_err(ApiError::internal)?
    else {
        return Err(ApiError::Unauthorized);
    };
    if account.mfa_enabled() {
        return Err(ApiError::Conflict(
            "Two-factor authentication is already on.",
        ));
    }
    let enrollment = state
        .totp
        .enroll(&account.username)
        .map_err(ApiError::internal)?;
    let secret = enrollment.secret().to_base32();
    let sealed = users::seal_totp_secret(state.data_keys(), &account.id, &secret);
    if !users::set_pending_totp(&state.db, &account.id, &sealed)
        .await
        .map_err(ApiError::internal)?
    {
        return Err(ApiError::Conflict(
            "Two-factor authentication is already on.",
        ));
    }
    Ok(Json(Enrollment {
        secret,
        otpauth_uri: enrollment.otpauth_uri().clone(),
    }))
}

/// Checks a first code against the pending secret; on success MFA is on (the next logins
/// need `otp`) and ten recovery codes replace any earlier ones. A wrong code answers 422
/// with `invalid_otp` on `code`.
#[secure_handler(auth, rate_limit("10/min", key = user), body_limit = "1KiB", audit = "mfa.confirm")]
pub(crate) async fn confirm(
    user: Principal<AppRole>,
    State(state): State<AppState>,
    body: Valid<Json<Confirm>>,
) -> Response {
    let account = match users::by_id(&state.db, user.subject()).await {
        Ok(Some(account)) => account,
        Ok(None) => return ApiError::Unauthorized.into_response(),
        Err(e) => return internal(e),
    };
    if account.mfa_enabled() {
        return ApiError::Conflict("Two-factor authentication is already on.").into_response();
    }
    let Some(pending) = &account.totp_pending else {
        return ApiError::Conflict("Start with POST /auth/mfa/enroll.").into_response();
    };
    let secret = match users::open_totp_secret(state.data_keys(), &account.id, pending) {
        Ok(secret) => secret,
        Err(e) => return internal(e),
    };
    let step = match verify_totp(
        &account.id,
        &secret,
        body.code.expose_secret(),
        None,
        SystemTime::now(),
    ) {
        Ok(step) => step,
        Err(e) if e.audit_reason().is_some() => {
            let mut errors = ValidationErrors::new();
            errors.push(FieldError::new("code", "invalid_otp"));
            return ApiError::Validation(errors).into_response();
        }
        Err(e) => return internal(e),
    };
    let Ok(step) = i64::try_from(step) else {
        return internal("TOTP step out of range");
    };
    let codes = RecoveryCodes::generate();
    let hashes: Vec<String> = codes
        .hashes()
        .iter()
        .map(RecoveryCodeHash::to_stored_string)
        .collect();
    match users::confirm_totp(&state.db, &account.id, pending, step, &hashes).await {
        Ok(true) => Json(Confirmed(codes)).into_response(),
        Ok(false) => {
            ApiError::Conflict("The enrolment changed meanwhile; enrol again.").into_response()
        }
        Err(e) => internal(e),
    }
}
