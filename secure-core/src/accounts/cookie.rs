//! Cookie mode: the same sign-in opening a `__Host-session` cookie session (a new id at every
//! sign-in: no fixation; CSRF on unsafe requests), and its sign-out.

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::issue::{identity_of, started_response};
use super::signin::{self, SignIn};
use super::{Accounts, unix_now};
use crate::audit::{self, Outcome};
use crate::auth::{Caller, Carrier};
use crate::error::ApiError;
use crate::http::client::ClientAddr;
use crate::secure_handler;
use crate::validate::Valid;

/// `200 {"csrf_token", "device_token"}` and the session cookie; the refusals of the bearer
/// sign-in, and 403 for a request a browser says comes from another site (`Sec-Fetch-Site`).
/// A session the browser already had is ended.
#[secure_handler(public, rate_limit("30/min", key = ip))]
pub(super) async fn sign_in(
    State(accounts): State<Accounts>,
    client: ClientAddr,
    headers: HeaderMap,
    body: Valid<Json<SignIn>>,
) -> Response {
    let inner = &accounts.inner;
    let Some(sessions) = &inner.sessions else {
        return ApiError::NotFound.into_response();
    };
    // Login CSRF: another site must not sign the browser in (to the attacker's account).
    // There is no session yet to bind a token to, so the browser's own word decides.
    let cross_site = headers
        .get_all("sec-fetch-site")
        .iter()
        .any(|site| !matches!(site.as_bytes(), b"same-origin" | b"none"));
    if cross_site {
        audit::emit("auth.login", Outcome::Denied, None, "cross_site_request");
        return ApiError::Forbidden.into_response();
    }
    let verified = match signin::sign_in(inner, client, &body).await {
        Ok(verified) => verified,
        Err(refused) => return refused,
    };
    let identity = identity_of(inner, &verified.account, &verified.amr, unix_now());
    match sessions.login(&headers, identity).await {
        Ok(started) => {
            let device = inner
                .devices
                .issue(&verified.account.id, verified.device.as_ref());
            started_response(started, Some(device))
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// `204` and a `Set-Cookie` that clears the cookie; the session is deleted server-side. A
/// bearer caller gets 400: it has no session (it signs out at `sign-out`).
#[secure_handler(auth)]
pub(super) async fn sign_out(
    State(accounts): State<Accounts>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(sessions) = &accounts.inner.sessions else {
        return Err(ApiError::NotFound);
    };
    if caller.carrier != Carrier::SessionCookie {
        return Err(ApiError::BadRequest(
            "This ends cookie sessions; refresh tokens end at sign-out.",
        ));
    }
    let clear = sessions.logout(&headers).await?;
    Ok((StatusCode::NO_CONTENT, clear, ()).into_response())
}
