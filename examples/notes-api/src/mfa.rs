//! `/auth/mfa/*`: the second factor's whole life. Enrolment, then confirmation with a first
//! code, which turns MFA on and hands out the recovery codes (shown once; stored
//! salted-hashed); new recovery codes; turning MFA off with the password and a code.
//!
//! Against: a stolen access token or an unattended session taking over the second factor
//! (every route here needs a sign-in within five minutes, `fresh = "5m"`, ASVS 3.7.1; turning
//! it off also needs the password and a code), a session from before the change living on
//! (each change ends every other session and refresh-token family, ASVS 3.3.3), MFA turned
//! on for an app that was never set up (a code must be confirmed first), lost devices
//! without a back door (single-use recovery codes, ASVS 2.5.x, 2.6.x; an administrator's
//! reset), and secrets in logs (every secret here is a `SecretString`; ASVS 2.8.x, 7.1.1).

use std::time::SystemTime;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use secure_core::auth::mfa::{RecoveryCodeHash, RecoveryCodes, verify_totp};
use secure_core::prelude::*;
use secure_core::secure_handler;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

use crate::account::{Changed, Continued, account_of, end_other_sessions, with_current_password};
use crate::admin::Account;
use crate::auth::{check_second_factor, internal};
use crate::problem::LoginFailure;
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

/// `200 {recovery_codes, session}`: the codes, this once, and how the caller goes on.
#[derive(Debug)]
pub(crate) struct WithCodes {
    codes: RecoveryCodes,
    session: Continued,
}

impl Serialize for WithCodes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let codes: Vec<&str> = self
            .codes
            .codes()
            .iter()
            .map(|c| c.expose_secret())
            .collect();
        let mut s = serializer.serialize_struct("WithCodes", 2)?;
        s.serialize_field("recovery_codes", &codes)?;
        s.serialize_field("session", &self.session)?;
        s.end()
    }
}

impl IntoResponse for WithCodes {
    fn into_response(self) -> Response {
        match self.session.cookie() {
            Some(cookie) => (cookie, Json(self)).into_response(),
            None => Json(self).into_response(),
        }
    }
}

/// `POST /auth/mfa/disable`.
#[sensitive]
#[derive(Deserialize, Validated)]
pub(crate) struct Disable {
    #[validate(length(min = 1, max = 1024))]
    password: SecretString,
    /// A TOTP code or a recovery code.
    #[validate(length(min = 1, max = 64))]
    code: SecretString,
}

fn recovery_hashes(codes: &RecoveryCodes) -> Vec<String> {
    codes
        .hashes()
        .iter()
        .map(RecoveryCodeHash::to_stored_string)
        .collect()
}

/// `POST /auth/mfa/confirm`.
#[sensitive]
#[derive(Deserialize, Validated)]
pub(crate) struct Confirm {
    #[validate(length(min = 6, max = 16))]
    code: SecretString,
}

/// Makes a new secret and keeps it pending until a code from it is confirmed. Calling it
/// again replaces the pending secret. 409 once MFA is on (turn it off first).
#[secure_handler(auth, fresh = "5m", rate_limit("10/min", key = user), audit = "mfa.enroll")]
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
/// need `otp`), ten recovery codes replace any earlier ones, and every other session and
/// refresh-token family ends (one stolen before would otherwise outlive the change). A wrong
/// code answers 401 `invalid_otp`, as everywhere a one-time code is checked.
#[secure_handler(auth, fresh = "5m", rate_limit("10/min", key = user), audit = "mfa.confirm")]
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
        // The same answer as a wrong code at sign-in, step-up or disable: 401 `invalid_otp`.
        Err(e) if e.audit_reason().is_some() => return LoginFailure::InvalidOtp.into_response(),
        Err(e) => return internal(e),
    };
    let Ok(step) = i64::try_from(step) else {
        return internal("TOTP step out of range");
    };
    let codes = RecoveryCodes::generate();
    let hashes = recovery_hashes(&codes);
    match users::confirm_totp(&state.db, &account.id, pending, step, &hashes).await {
        Ok(true) => {}
        Ok(false) => {
            return ApiError::Conflict("The enrolment changed meanwhile; enrol again.")
                .into_response();
        }
        Err(e) => return internal(e),
    }
    // The caller just proved a code of the new factor: they go on with it.
    match end_other_sessions(&state, &user, &account, true).await {
        Ok(session) => WithCodes { codes, session }.into_response(),
        Err(refused) => refused,
    }
}

/// `200 {recovery_codes, session}`: ten new recovery codes replace the old ones (all of
/// them, used or not). Needs MFA on and a sign-in with it within five minutes; every other
/// session ends.
#[secure_handler(auth, mfa, fresh = "5m", rate_limit("5/min", key = user), audit = "mfa.recovery_codes")]
pub(crate) async fn new_recovery_codes(
    user: Principal<AppRole>,
    State(state): State<AppState>,
) -> Response {
    let account = match account_of(&state, &user).await {
        Ok(account) => account,
        Err(refused) => return refused,
    };
    let codes = RecoveryCodes::generate();
    match users::replace_recovery_codes(&state.db, &account.id, &recovery_hashes(&codes)).await {
        Ok(true) => {}
        Ok(false) => {
            return ApiError::Conflict("Two-factor authentication is off.").into_response();
        }
        Err(e) => return internal(e),
    }
    match end_other_sessions(&state, &user, &account, true).await {
        Ok(session) => WithCodes { codes, session }.into_response(),
        Err(refused) => refused,
    }
}

/// `200 {session}`: MFA off, its secret and recovery codes deleted. Needs the password and a
/// TOTP or recovery code (both throttled like a login), and a sign-in within five minutes;
/// every other session ends. 409 when MFA is already off.
#[secure_handler(auth, fresh = "5m", rate_limit("10/min", key = user), audit = "mfa.disable")]
pub(crate) async fn disable(
    user: Principal<AppRole>,
    State(state): State<AppState>,
    body: Valid<Json<Disable>>,
) -> Response {
    let account = match account_of(&state, &user).await {
        Ok(account) => account,
        Err(refused) => return refused,
    };
    if !account.mfa_enabled() {
        return ApiError::Conflict("Two-factor authentication is already off.").into_response();
    }
    let account = match with_current_password(&state, account, &body.password).await {
        Ok(account) => account,
        Err(refused) => return refused,
    };
    if let Err(refused) = check_second_factor(&state, &account, Some(&body.code), None).await {
        return refused;
    }
    if let Err(e) = users::disable_mfa(&state.db, &account.id).await {
        return internal(e);
    }
    match end_other_sessions(&state, &user, &account, false).await {
        Ok(session) => Changed::new(session).into_response(),
        Err(refused) => refused,
    }
}

/// `204`: an administrator turns off a user's MFA (lost device and recovery codes, or a
/// factor someone else enrolled), and ends all of that user's sessions and refresh-token
/// families. Needs the admin's own second factor within five minutes. The account is loaded
/// through its object check (`Account`'s rule lets administrators write every account): 404
/// for an unknown or malformed id; 403 `own_account` for the admin's own id: a stolen admin
/// token must not turn off its owner's second factor without the password and a code, which
/// `/auth/mfa/disable` asks for.
#[secure_handler(auth, roles(Admin), mfa, fresh = "5m", rate_limit("30/min", key = user), audit = "admin.mfa_reset")]
pub(crate) async fn admin_reset(
    admin: Principal<AppRole>,
    State(state): State<AppState>,
    target: Authorized<Account, Write>,
) -> Result<StatusCode, ApiError> {
    if target.id() == admin.subject() {
        secure_core::audit::emit(
            "admin.mfa_reset",
            secure_core::audit::Outcome::Denied,
            Some(admin.subject()),
            "own_account",
        );
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            "Turn off your own second factor with POST /auth/mfa/disable (your password and a code).",
        )
        .with_code("own_account")
        .into());
    }
    if !users::disable_mfa(&state.db, target.id())
        .await
        .map_err(ApiError::internal)?
    {
        return Err(ApiError::NotFound);
    }
    state
        .refresh
        .revoke_subject(target.id())
        .await
        .map_err(ApiError::internal)?;
    state
        .sessions
        .revoke_subject(target.id())
        .await
        .map_err(ApiError::internal)?;
    // The target's own record of what happened (the route's event names the admin).
    secure_core::audit::emit(
        "auth.mfa",
        secure_core::audit::Outcome::Success,
        Some(target.id()),
        "reset_by_admin",
    );
    tracing::info!(target: "notes_api", admin = %admin.subject(), user = %target.id(), "MFA reset");
    Ok(StatusCode::NO_CONTENT)
}
