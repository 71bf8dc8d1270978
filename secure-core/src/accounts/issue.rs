//! What a sign-in or a change of credentials answers: a token pair (a new refresh-token
//! family with its sign-in record, and an access token), or a session's cookie and CSRF
//! token; and the identity both carry.

// The error is the response to send.
#![allow(clippy::result_large_err)]

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

use super::store::{AccountRecord, SignInRecord};
use super::{Inner, unix_now};
use crate::auth::refresh::{IssuedRefreshToken, RefreshToken};
use crate::auth::{Amr, Identity};
use crate::error::ApiError;
use crate::redact::{ExposeSecret, SecretString};
use crate::session::{CsrfToken, StartedSession};

/// The token pair. `Debug` is redacted (the fields are secret types); `Serialize` writes the
/// tokens on purpose: this answer is how the client receives them.
#[derive(Debug)]
pub(super) struct TokenPair {
    access_token: SecretString,
    refresh_token: RefreshToken,
    expires_in: u64,
    pub(super) device_token: Option<SecretString>,
}

impl Serialize for TokenPair {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("TokenPair", 5)?;
        s.serialize_field("access_token", self.access_token.expose_secret())?;
        s.serialize_field("refresh_token", self.refresh_token.expose_secret())?;
        s.serialize_field("token_type", "Bearer")?;
        s.serialize_field("expires_in", &self.expires_in)?;
        if let Some(device) = &self.device_token {
            s.serialize_field("device_token", device.expose_secret())?;
        }
        s.end()
    }
}

/// A new refresh-token family for `account`, its sign-in record, and its first access token.
pub(super) async fn new_family(
    inner: &Inner,
    account: &AccountRecord,
    amr: Vec<Amr>,
    auth_time: i64,
) -> Result<TokenPair, Response> {
    let issued = inner
        .refresh
        .issue(&account.id)
        .await
        .map_err(|e| ApiError::from(e).into_response())?;
    let record = SignInRecord {
        family_id: issued.family_id.clone(),
        user_id: account.id.clone(),
        amr,
        auth_time,
        credential_version: account.credential_version,
    };
    inner
        .store
        .record_sign_in(&record, unix_now())
        .await
        .map_err(|e| ApiError::from(e).into_response())?;
    token_pair(inner, account, &record, issued)
}

/// The identity `account` signs in as: its current roles (those this version knows), the
/// sign-in's `amr` and `auth_time`.
pub(super) fn identity_of(
    inner: &Inner,
    account: &AccountRecord,
    amr: &[Amr],
    auth_time: i64,
) -> Identity {
    let roles = granted_roles(inner, &account.id, &account.roles, amr.contains(&Amr::Otp));
    Identity::new(account.id.as_str(), auth_time)
        .with_roles(roles)
        .with_amr(amr.iter().copied())
}

/// Of `subject`'s stored roles, those a caller gets: the ones this version knows (an unknown
/// one is logged and left out), and none that needs a second factor unless the caller
/// presented one.
pub(super) fn granted_roles<'a>(
    inner: &Inner,
    subject: &str,
    roles: &'a [String],
    second_factor: bool,
) -> Vec<&'a str> {
    roles
        .iter()
        .map(String::as_str)
        .filter(|name| {
            let known = (inner.known_role)(name);
            if !known {
                tracing::error!(target: "secure::accounts", subject = %subject, role = %name, "stored role unknown to this version: left out");
            }
            known && (second_factor || !inner.mfa_roles.contains(name))
        })
        .collect()
}

/// The pair for `account` under the sign-in `record`.
pub(super) fn token_pair(
    inner: &Inner,
    account: &AccountRecord,
    record: &SignInRecord,
    issued: IssuedRefreshToken,
) -> Result<TokenPair, Response> {
    let identity = identity_of(inner, account, &record.amr, record.auth_time);
    let access = inner
        .tokens
        .issue(&identity)
        .map_err(|e| ApiError::internal(e).into_response())?;
    Ok(TokenPair {
        access_token: SecretString::from(access),
        refresh_token: issued.token,
        expires_in: inner.tokens.lifetime().as_secs(),
        device_token: None,
    })
}

/// A session's answer: its CSRF token (for `X-CSRF-Token`), and after a sign-in the device
/// token. The cookie goes in `Set-Cookie`.
pub(super) struct SessionBody {
    pub(super) csrf_token: CsrfToken,
    pub(super) device_token: Option<SecretString>,
}

impl Serialize for SessionBody {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("SessionBody", 2)?;
        s.serialize_field("csrf_token", self.csrf_token.expose_secret())?;
        if let Some(device) = &self.device_token {
            s.serialize_field("device_token", device.expose_secret())?;
        }
        s.end()
    }
}

/// A started or renewed session as an answer: the cookie, and the body.
pub(super) fn started_response(started: StartedSession, device: Option<SecretString>) -> Response {
    (
        started.cookie,
        Json(SessionBody {
            csrf_token: started.csrf_token,
            device_token: device,
        }),
    )
        .into_response()
}
