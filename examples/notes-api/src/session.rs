//! `/session/*`: cookie sessions for browsers. Login checks the same credentials as
//! `/auth/login` (and shares its 5/min per (IP, user name) budget); the answer sets the
//! `__Host-session` cookie and carries the CSRF token that unsafe requests must echo in
//! `X-CSRF-Token`.
//!
//! Against (ASVS 3.2-3.4, 4.2.2): session fixation (a fresh id at every login), stolen or
//! lingering sessions (`__Host-`, `HttpOnly`, `SameSite=Strict`, server-side logout), and
//! cross-site request forgery (the token, checked by secure-core on every unsafe request).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use secure_core::auth::Carrier;
use secure_core::http::client::ClientAddr;
use secure_core::prelude::*;
use secure_core::secure_handler;
use secure_core::session::CsrfToken;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use crate::auth::{Login, check_login, identity, internal};
use crate::db::unix_now;
use crate::{AppRole, AppState};

/// `200 {csrf_token, device_token}`. `Serialize` writes the tokens on purpose: the page
/// needs the first, and sends the second with its next sign-ins.
#[derive(Debug)]
pub(crate) struct SessionStarted {
    csrf_token: CsrfToken,
    device_token: Option<SecretString>,
}

impl SessionStarted {
    pub(crate) fn new(csrf_token: CsrfToken, device_token: Option<SecretString>) -> Self {
        SessionStarted {
            csrf_token,
            device_token,
        }
    }
}

impl Serialize for SessionStarted {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("SessionStarted", 2)?;
        s.serialize_field("csrf_token", self.csrf_token.expose_secret())?;
        if let Some(device) = &self.device_token {
            s.serialize_field("device_token", device.expose_secret())?;
        }
        s.end()
    }
}

/// A new session with a fresh id (a session the browser already had is ended: no fixation).
#[secure_handler(public, rate_limit("30/min", key = ip))]
pub(crate) async fn session_login(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    body: Valid<Json<Login>>,
) -> Response {
    let verified = match check_login(&state, client, &body).await {
        Ok(verified) => verified,
        Err(refused) => return refused,
    };
    let who = identity(&verified.user_id, verified.role, verified.mfa, unix_now());
    match state.sessions.login(&headers, who).await {
        Ok(started) => (
            started.cookie,
            Json(SessionStarted {
                csrf_token: started.csrf_token,
                device_token: Some(
                    state
                        .devices
                        .issue(&verified.user_id, verified.device.as_ref()),
                ),
            }),
        )
            .into_response(),
        Err(e) => internal(e),
    }
}

/// `204` and a `Set-Cookie` that clears the cookie; the session is deleted server-side.
/// Needs the session cookie (and, being a POST, the CSRF token): a bearer caller gets 400,
/// since it has no session to end (it logs out at `/auth/logout`).
#[secure_handler(auth)]
pub(crate) async fn session_logout(
    user: Principal<AppRole>,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Response {
    if user.carrier() != Carrier::SessionCookie {
        return ApiError::BadRequest(
            "This ends cookie sessions; tokens are revoked at /auth/logout.",
        )
        .into_response();
    }
    match state.sessions.logout(&headers).await {
        Ok(clear) => (StatusCode::NO_CONTENT, clear, ()).into_response(),
        Err(e) => internal(e),
    }
}
