//! The signed-in user's own account: re-authentication (step-up), password change, and what
//! every credential change does to the other sessions.
//!
//! Against (ASVS 4.0.3 3.7.1 re-authentication before sensitive operations; 2.1.5/2.1.6
//! password change with the current password; 3.3.3/3.3.4 other sessions ended on credential
//! change; ASVS 5.0 7.5.1, 7.2.4): a stolen access token or an unattended session changing
//! the credentials. Routes that change credentials declare `fresh = "5m"`: an older sign-in
//! gets 401 and re-authenticates at `POST /auth/reauth`.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use secure_core::auth::{Carrier, Identity};
use secure_core::prelude::*;
use secure_core::secure_handler;
use secure_core::session::{CsrfToken, SessionCookie};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

use crate::auth::{
    Factors, TokenPair, Verified, amr, check_factors, check_password, internal, new_password_hash,
    new_token_family,
};
use crate::db::unix_now;
use crate::users::{self, UserRow};
use crate::{AppRole, AppState};

/// `POST /auth/reauth`: the factors again (the user name is the caller's).
#[sensitive]
#[derive(Deserialize, Validated)]
pub(crate) struct Reauth {
    #[validate(length(min = 1, max = 1024))]
    password: SecretString,
    #[serde(default)]
    #[validate(length(min = 1, max = 64))]
    otp: Option<SecretString>,
    #[serde(default)]
    #[validate(length(min = 1, max = 512))]
    device_token: Option<SecretString>,
}

/// `POST /auth/password`.
#[sensitive]
#[derive(Deserialize, Validated)]
pub(crate) struct PasswordChange {
    #[validate(length(min = 1, max = 1024))]
    current_password: SecretString,
    #[validate(length(min = 12, max = 128))]
    new_password: SecretString,
}

/// How the caller goes on after a change: a new token family (bearer callers) or a new
/// session (cookie callers). Serialises as the token pair, or as `{csrf_token}`.
#[derive(Debug)]
pub(crate) enum Continued {
    Tokens(TokenPair),
    Session {
        cookie: SessionCookie,
        csrf_token: CsrfToken,
    },
}

impl Continued {
    /// The cookie to set, for cookie callers.
    pub(crate) fn cookie(&self) -> Option<SessionCookie> {
        match self {
            Continued::Tokens(_) => None,
            Continued::Session { cookie, .. } => Some(cookie.clone()),
        }
    }
}

impl Serialize for Continued {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Continued::Tokens(pair) => pair.serialize(serializer),
            Continued::Session { csrf_token, .. } => {
                let mut s = serializer.serialize_struct("Session", 1)?;
                s.serialize_field("csrf_token", csrf_token.expose_secret())?;
                s.end()
            }
        }
    }
}

/// `{"session": ..}` plus the cookie for cookie callers: the answer of a change that ended
/// every other session.
#[derive(Debug, Serialize)]
pub(crate) struct Changed {
    session: Continued,
}

impl Changed {
    pub(crate) fn new(session: Continued) -> Self {
        Changed { session }
    }
}

impl IntoResponse for Changed {
    fn into_response(self) -> Response {
        match self.session.cookie() {
            Some(cookie) => (cookie, Json(self)).into_response(),
            None => Json(self).into_response(),
        }
    }
}

/// After a credential change of the caller's account: ends every refresh-token family and
/// every cookie session of the user (a thief's among them), then lets the caller go on with
/// a new family or session that keeps their sign-in time and records `mfa`.
pub(crate) async fn end_other_sessions(
    state: &AppState,
    caller: &Principal<AppRole>,
    account: &UserRow,
    mfa: bool,
) -> Result<Continued, Response> {
    let Some(role) = account.role() else {
        return Err(internal("stored role unknown to this version"));
    };
    state
        .refresh
        .revoke_subject(&account.id)
        .await
        .map_err(internal)?;
    match caller.carrier() {
        Carrier::BearerToken => {
            state
                .sessions
                .revoke_subject(&account.id)
                .await
                .map_err(internal)?;
            let verified = Verified {
                user_id: account.id.clone(),
                role,
                mfa,
                device: None,
            };
            new_token_family(state, &verified, caller.auth_time())
                .await
                .map(Continued::Tokens)
        }
        Carrier::SessionCookie => {
            let who = crate::auth::identity(&account.id, role, mfa, caller.auth_time());
            let started = state.sessions.replace_all(who).await.map_err(internal)?;
            Ok(Continued::Session {
                cookie: started.cookie,
                csrf_token: started.csrf_token,
            })
        }
    }
}

/// The caller's account row; 401 when it is gone.
pub(crate) async fn account_of(
    state: &AppState,
    caller: &Principal<AppRole>,
) -> Result<UserRow, Response> {
    match users::by_id(&state.db, caller.subject()).await {
        Ok(Some(account)) => Ok(account),
        Ok(None) => Err(ApiError::Unauthorized.into_response()),
        Err(e) => Err(internal(e)),
    }
}

/// `account`, once `password` proved to be its current password (under the per-account
/// throttle, like a login's).
pub(crate) async fn with_current_password(
    state: &AppState,
    account: UserRow,
    password: &SecretString,
) -> Result<UserRow, Response> {
    let username = account.username.clone();
    check_password(state, Some(account), &username, password, None).await
}

/// `200`: a sign-in made now, for routes declared `fresh`. Takes the password, and the
/// second factor when the account has one, under the same per-account throttle as login.
/// Bearer callers get a new token pair (a new family, `auth_time` now; refreshing an older
/// family never makes it fresh); cookie callers keep their session under a new id with
/// `auth_time` now, and get its new CSRF token.
#[secure_handler(auth, rate_limit("10/min", key = user), audit = "auth.reauth")]
pub(crate) async fn reauth(
    caller: Principal<AppRole>,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Valid<Json<Reauth>>,
) -> Response {
    let account = match account_of(&state, &caller).await {
        Ok(account) => account,
        Err(refused) => return refused,
    };
    let username = account.username.clone();
    let factors = Factors {
        username: &username,
        password: &body.password,
        otp: body.otp.as_ref(),
        device_token: body.device_token.as_ref(),
    };
    let (account, device) = match check_factors(&state, Some(account), factors).await {
        Ok(checked) => checked,
        Err(refused) => return refused,
    };
    let Some(role) = account.role() else {
        return internal("stored role unknown to this version");
    };
    let mfa = account.mfa_enabled();
    let now = unix_now();
    match caller.carrier() {
        Carrier::BearerToken => {
            let verified = Verified {
                user_id: account.id.clone(),
                role,
                mfa,
                device,
            };
            match new_token_family(&state, &verified, now).await {
                Ok(pair) => Json(pair).into_response(),
                Err(refused) => refused,
            }
        }
        Carrier::SessionCookie => renew_session(&state, &headers, mfa, now).await,
    }
}

/// The cookie caller's session under a new id, signed in at `now` (ASVS 3.2.1: a new id at
/// every change of authentication).
async fn renew_session(state: &AppState, headers: &HeaderMap, mfa: bool, now: i64) -> Response {
    let change = |identity: &mut Identity| {
        identity.auth_time = now;
        identity.amr = amr(mfa);
    };
    match state.sessions.renew(headers, change).await {
        Ok(started) => (
            started.cookie,
            Json(crate::session::SessionStarted::new(
                started.csrf_token,
                None,
            )),
        )
            .into_response(),
        Err(e) => internal(e),
    }
}

/// `200 {session}`: the password changed. Needs the current password (throttled like a
/// login) and a sign-in within five minutes; the new one follows the signup rules. Every other
/// session and refresh-token family of the account ends.
#[secure_handler(auth, fresh = "5m", rate_limit("10/min", key = user), audit = "password.change")]
pub(crate) async fn change_password(
    caller: Principal<AppRole>,
    State(state): State<AppState>,
    body: Valid<Json<PasswordChange>>,
) -> Response {
    let account = match account_of(&state, &caller).await {
        Ok(account) => account,
        Err(refused) => return refused,
    };
    let account = match with_current_password(&state, account, &body.current_password).await {
        Ok(account) => account,
        Err(refused) => return refused,
    };
    let hash = match new_password_hash(&state, "new_password", &body.new_password).await {
        Ok(hash) => hash,
        Err(refused) => return refused,
    };
    if let Err(e) = users::set_password_hash(&state.db, &account.id, &hash).await {
        return internal(e);
    }
    let mfa = caller.mfa();
    match end_other_sessions(&state, &caller, &account, mfa).await {
        Ok(session) => Changed::new(session).into_response(),
        Err(refused) => refused,
    }
}
