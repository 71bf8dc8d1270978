//! The signed-in user's own account: re-authentication (step-up), password change, and the
//! second factor's life (enrol, confirm, new recovery codes, disable).
//!
//! Every change of credentials is `fresh` (a sign-in within five minutes; else 401 and
//! `POST {prefix}/reauth`), throttled per user, audited, and ends every other sign-in: the
//! store raises the credential version with the change, every refresh-token family of the
//! account is revoked, and the caller goes on with a new pair that keeps their sign-in time
//! (OWASP ASVS 4.0.3 2.1.5, 2.1.6, 3.3.3, 3.7.1).

// The error is the response to send.
#![allow(clippy::result_large_err)]

use std::time::SystemTime;

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

use super::issue::{TokenPair, identity_of, new_family, started_response};
use super::signin::{self, Factors};
use super::store::{AccountRecord, CredentialChange};
use super::{Accounts, Inner, seal_totp_secret, unix_now};
use crate::auth::mfa::{RecoveryCodes, TotpSecret, verify_totp};
use crate::auth::{Amr, Caller, Carrier};
use crate::error::ApiError;
use crate::redact::{ExposeSecret, SecretString};
use crate::session::StartedSession;
use crate::validate::Valid;
use crate::{Validated, secure_handler, sensitive};

/// `POST /reauth`: the factors again; the user name is the caller's.
#[sensitive]
#[derive(Deserialize, Validated)]
#[serde(deny_unknown_fields)]
pub(super) struct Reauth {
    #[validate(length(min = 1, max = 1024))]
    password: SecretString,
    #[serde(default)]
    #[validate(length(min = 1, max = 64))]
    otp: Option<SecretString>,
    #[serde(default)]
    #[validate(length(min = 1, max = 512))]
    device_token: Option<SecretString>,
}

/// `POST /password`.
#[sensitive]
#[derive(Deserialize, Validated)]
#[serde(deny_unknown_fields)]
pub(super) struct PasswordChange {
    #[validate(length(min = 1, max = 1024))]
    current_password: SecretString,
    #[validate(length(min = 1, max = 1024))]
    new_password: SecretString,
    /// The client's device token: its own throttle counter during an attack on the account.
    #[serde(default)]
    #[validate(length(min = 1, max = 512))]
    device_token: Option<SecretString>,
}

/// `POST /mfa/confirm`.
#[sensitive]
#[derive(Deserialize, Validated)]
#[serde(deny_unknown_fields)]
pub(super) struct Confirm {
    #[validate(length(min = 1, max = 64))]
    otp: SecretString,
}

/// `POST /mfa/disable`.
#[sensitive]
#[derive(Deserialize, Validated)]
#[serde(deny_unknown_fields)]
pub(super) struct Disable {
    #[validate(length(min = 1, max = 1024))]
    password: SecretString,
    #[serde(default)]
    #[validate(length(min = 1, max = 512))]
    device_token: Option<SecretString>,
}

/// What enrolment answers: the secret for the authenticator app, once.
struct Enrolment {
    secret: SecretString,
    otpauth_uri: SecretString,
}

impl Serialize for Enrolment {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Enrolment", 2)?;
        s.serialize_field("secret", self.secret.expose_secret())?;
        s.serialize_field("otpauth_uri", self.otpauth_uri.expose_secret())?;
        s.end()
    }
}

/// How the caller goes on after a change: a new token pair (bearer callers), or their
/// session under a new id (cookie callers).
pub(super) enum Continued {
    Tokens(TokenPair),
    Session(StartedSession),
}

impl IntoResponse for Continued {
    fn into_response(self) -> Response {
        match self {
            Continued::Tokens(pair) => Json(pair).into_response(),
            Continued::Session(started) => started_response(started, None),
        }
    }
}

/// New recovery codes (shown once), and how the caller goes on: `tokens` (a pair) or
/// `csrf_token` (with the renewed session's cookie).
struct WithCodes {
    recovery_codes: Vec<SecretString>,
    continued: Continued,
}

impl IntoResponse for WithCodes {
    fn into_response(self) -> Response {
        let codes: Vec<&str> = self
            .recovery_codes
            .iter()
            .map(|c| c.expose_secret())
            .collect();
        match self.continued {
            Continued::Tokens(pair) => {
                Json(serde_json::json!({ "recovery_codes": codes, "tokens": pair })).into_response()
            }
            Continued::Session(started) => (
                started.cookie,
                Json(serde_json::json!({
                    "recovery_codes": codes,
                    "csrf_token": started.csrf_token.expose_secret(),
                })),
            )
                .into_response(),
        }
    }
}

/// The caller's account; 401 when it is gone.
async fn account_of(inner: &Inner, caller: &Caller) -> Result<AccountRecord, ApiError> {
    inner
        .store
        .by_id(&caller.identity.subject)
        .await?
        .ok_or(ApiError::Unauthorized)
}

/// After `change` is stored (with a raised credential version): every refresh-token family
/// and every session of the account end, and the caller goes on, keeping their sign-in time,
/// with `amr`: a new pair for a bearer caller, a new session for a cookie caller.
async fn changed(
    inner: &Inner,
    caller: &Caller,
    account: &AccountRecord,
    change: CredentialChange<'_>,
    amr: Vec<Amr>,
) -> Result<Continued, Response> {
    let store_error = |e: crate::error::StoreError| ApiError::from(e).into_response();
    let Some(version) = inner
        .store
        .change_credentials(&account.id, change)
        .await
        .map_err(store_error)?
    else {
        return Err(ApiError::Unauthorized.into_response());
    };
    // The caller's new sign-in is recorded under the new version.
    let account = AccountRecord {
        credential_version: version,
        ..account.clone()
    };
    let auth_time = caller.identity.auth_time;
    match (&inner.sessions, caller.carrier) {
        (Some(sessions), Carrier::SessionCookie) => {
            inner
                .refresh
                .revoke_subject(&account.id)
                .await
                .map_err(store_error)?;
            // Every session ends; this client's goes on under a new one.
            let identity = identity_of(inner, &account, &amr, auth_time);
            sessions
                .replace_all(identity)
                .await
                .map(Continued::Session)
                .map_err(|e| ApiError::from(e).into_response())
        }
        _ => {
            inner
                .end_every_sign_in(&account.id)
                .await
                .map_err(store_error)?;
            new_family(inner, &account, amr, auth_time)
                .await
                .map(Continued::Tokens)
        }
    }
}

/// `200` a new token pair, signed in now (for routes declared `fresh`): the password, and the
/// second factor when the account has one, under the same throttle as a sign-in. Refreshing
/// an older family never makes it fresh; this does.
#[secure_handler(auth, rate_limit("10/min", key = user), audit = "account.reauth")]
pub(super) async fn reauth(
    State(accounts): State<Accounts>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Valid<Json<Reauth>>,
) -> Response {
    let inner = &accounts.inner;
    let account = match account_of(inner, &caller).await {
        Ok(account) => account,
        Err(refused) => return refused.into_response(),
    };
    let username = account.username.clone();
    let factors = Factors {
        username: &username,
        password: &body.password,
        otp: body.otp.as_ref(),
        device_token: body.device_token.as_ref(),
    };
    let verified = match signin::verify(inner, Some(account), factors, false).await {
        Ok(verified) => verified,
        Err(refused) => return refused,
    };
    let now = unix_now();
    match (&inner.sessions, caller.carrier) {
        // The same session under a new id, signed in now (ASVS 3.2.1).
        (Some(sessions), Carrier::SessionCookie) => {
            let renewed = sessions
                .renew(&headers, |identity| {
                    identity.auth_time = now;
                    identity.amr = verified.amr.clone();
                })
                .await;
            match renewed {
                Ok(started) => started_response(started, None),
                Err(e) => ApiError::from(e).into_response(),
            }
        }
        _ => match new_family(inner, &verified.account, verified.amr, now).await {
            Ok(pair) => Json(pair).into_response(),
            Err(refused) => refused,
        },
    }
}

/// `200` a new pair: the password changed. Needs the current one (throttled like a sign-in)
/// and a sign-in within five minutes; the new one is held to the password rules (422 on
/// `new_password`). Every other sign-in ends.
#[secure_handler(auth, fresh = "5m", rate_limit("10/min", key = user), audit = "account.password_change")]
pub(super) async fn change_password(
    State(accounts): State<Accounts>,
    Extension(caller): Extension<Caller>,
    body: Valid<Json<PasswordChange>>,
) -> Result<Response, ApiError> {
    let inner = &accounts.inner;
    let account = account_of(inner, &caller).await?;
    let account = match signin::verify_password(
        inner,
        account,
        &body.current_password,
        body.device_token.as_ref(),
    )
    .await
    {
        Ok(account) => account,
        Err(refused) => return Ok(refused),
    };
    let hash = inner
        .hash_new_password(&body.new_password)
        .await
        .map_err(|e| e.on_field("new_password"))?;
    let change = CredentialChange::Password(hash.as_phc_str());
    Ok(
        match changed(
            inner,
            &caller,
            &account,
            change,
            caller.identity.amr.clone(),
        )
        .await
        {
            Ok(continued) => continued.into_response(),
            Err(refused) => refused,
        },
    )
}

/// 409 when the second factor is already on (turn it off first) or still off.
fn conflict(detail: &'static str) -> Response {
    ApiError::Conflict(detail).into_response()
}

/// `200 {"secret", "otpauth_uri"}`: a new TOTP secret for the authenticator app, kept sealed
/// until `POST /mfa/confirm` proves the app has it. 409 when the second factor is on.
#[secure_handler(auth, fresh = "5m", rate_limit("10/min", key = user), audit = "account.mfa_enroll")]
pub(super) async fn enroll(
    State(accounts): State<Accounts>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    let inner = &accounts.inner;
    let account = account_of(inner, &caller).await?;
    if account.has_second_factor() {
        return Ok(conflict(
            "Two-factor authentication is already on: turn it off first.",
        ));
    }
    let enrolment = inner
        .totp
        .enroll(&account.username)
        .map_err(ApiError::internal)?;
    let sealed = seal_totp_secret(&inner.data_keys, &account.id, enrolment.secret());
    inner.store.set_pending_totp(&account.id, &sealed).await?;
    let body = Enrolment {
        secret: enrolment.secret().to_base32(),
        otpauth_uri: enrolment.otpauth_uri().clone(),
    };
    Ok(Json(body).into_response())
}

/// `200 {"recovery_codes", "tokens"}`: the code from the app confirms the pending secret;
/// the second factor is on, ten recovery codes are shown once, and every other sign-in ends
/// (the caller's new pair records the second factor). 422 `invalid_otp` for a wrong code,
/// 409 without a pending enrolment.
#[secure_handler(auth, fresh = "5m", rate_limit("10/min", key = user), audit = "account.mfa_confirm")]
pub(super) async fn confirm(
    State(accounts): State<Accounts>,
    Extension(caller): Extension<Caller>,
    body: Valid<Json<Confirm>>,
) -> Result<Response, ApiError> {
    let inner = &accounts.inner;
    let account = account_of(inner, &caller).await?;
    if account.has_second_factor() {
        return Ok(conflict("Two-factor authentication is already on."));
    }
    let Some(pending) = &account.totp_pending else {
        return Ok(conflict("Start with POST mfa/enroll."));
    };
    let secret: TotpSecret = match signin::open_totp(inner, &account, pending) {
        Ok(secret) => secret,
        Err(refused) => return Ok(refused),
    };
    let Ok(step) = verify_totp(
        &account.id,
        &secret,
        body.otp.expose_secret(),
        None,
        SystemTime::now(),
    ) else {
        return Err(ApiError::field("otp", "invalid_otp"));
    };
    let confirmed_step = i64::try_from(step).map_err(ApiError::internal)?;
    let (codes, hashes) = new_codes();
    let change = CredentialChange::SecondFactor {
        totp_secret: pending,
        confirmed_step,
        recovery_codes: &hashes,
    };
    let done = changed(inner, &caller, &account, change, vec![Amr::Pwd, Amr::Otp]).await;
    Ok(with_codes(&codes, done))
}

/// `200 {"recovery_codes", "tokens"}`: ten new recovery codes replace the unused ones; every
/// other sign-in ends. Only from a sign-in that presented the second factor (`mfa`), so a
/// token from before enrolment cannot. 409 when the second factor is off.
#[secure_handler(auth, mfa, fresh = "5m", rate_limit("10/min", key = user), audit = "account.mfa_recovery_codes")]
pub(super) async fn new_recovery_codes(
    State(accounts): State<Accounts>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    let inner = &accounts.inner;
    let account = account_of(inner, &caller).await?;
    if !account.has_second_factor() {
        return Ok(conflict("Two-factor authentication is off."));
    }
    let (codes, hashes) = new_codes();
    let change = CredentialChange::RecoveryCodes(&hashes);
    let done = changed(
        inner,
        &caller,
        &account,
        change,
        caller.identity.amr.clone(),
    )
    .await;
    Ok(with_codes(&codes, done))
}

/// Ten new recovery codes and their stored hashes.
fn new_codes() -> (RecoveryCodes, Vec<String>) {
    let codes = RecoveryCodes::generate();
    let hashes = codes
        .hashes()
        .iter()
        .map(|h| h.to_stored_string())
        .collect();
    (codes, hashes)
}

/// The codes (shown once) and how the caller goes on, once their change is stored.
fn with_codes(codes: &RecoveryCodes, done: Result<Continued, Response>) -> Response {
    match done {
        Ok(continued) => WithCodes {
            recovery_codes: codes.codes().to_vec(),
            continued,
        }
        .into_response(),
        Err(refused) => refused,
    }
}

/// `200` a new pair: the second factor is off (secret and recovery codes gone) after the
/// current password, from a sign-in that presented the second factor (`mfa`: a token from
/// before enrolment cannot turn it off); every other sign-in ends. 409 when it is already
/// off.
#[secure_handler(auth, mfa, fresh = "5m", rate_limit("10/min", key = user), audit = "account.mfa_disable")]
pub(super) async fn disable(
    State(accounts): State<Accounts>,
    Extension(caller): Extension<Caller>,
    body: Valid<Json<Disable>>,
) -> Response {
    let inner = &accounts.inner;
    let account = match account_of(inner, &caller).await {
        Ok(account) => account,
        Err(refused) => return refused.into_response(),
    };
    if !account.has_second_factor() {
        return conflict("Two-factor authentication is off.");
    }
    let account =
        match signin::verify_password(inner, account, &body.password, body.device_token.as_ref())
            .await
        {
            Ok(account) => account,
            Err(refused) => return refused,
        };
    match changed(
        inner,
        &caller,
        &account,
        CredentialChange::NoSecondFactor,
        vec![Amr::Pwd],
    )
    .await
    {
        Ok(continued) => continued.into_response(),
        Err(refused) => refused,
    }
}
