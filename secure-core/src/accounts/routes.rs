//! The account routes: request bodies, handlers, and the token pair they answer.

// The error is the response to send.
#![allow(clippy::result_large_err)]

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::issue::{new_family, token_pair};
use super::signin::{self, SignIn};
use super::store::{Created, NewAccount};
use super::{Accounts, CreateAccountError, Inner, new_id, unix_now};
use crate::audit::{self, Outcome};
use crate::auth::Caller;
use crate::auth::refresh::{IssuedRefreshToken, RefreshError, RefreshToken};
use crate::error::ApiError;
use crate::http::client::ClientAddr;
use crate::policy::SecureRouter;
use crate::redact::{ExposeSecret, SecretString};
use crate::routing::post;
use crate::validate::Valid;
use crate::{Validated, secure_handler, sensitive};

/// The routes of the modes `inner` has, before their state and prefix.
pub(super) fn routes(inner: &Inner) -> SecureRouter<Accounts> {
    let mut router = SecureRouter::new()
        .route("/sign-out/all", post(sign_out_all))
        .route("/reauth", post(super::own::reauth))
        .route("/password", post(super::own::change_password))
        .route("/mfa/enroll", post(super::own::enroll))
        .route("/mfa/confirm", post(super::own::confirm))
        .route("/mfa/recovery-codes", post(super::own::new_recovery_codes))
        .route("/mfa/disable", post(super::own::disable));
    if inner.bearer {
        router = router
            .route("/sign-in", post(sign_in))
            .route("/refresh", post(refresh))
            .route("/sign-out", post(sign_out));
    }
    if inner.sessions.is_some() {
        router = router
            .route("/session/sign-in", post(super::cookie::sign_in))
            .route("/session/sign-out", post(super::cookie::sign_out));
    }
    if let Some(role) = inner.admin_role {
        router = router.route(
            "/admin/accounts/{id}/mfa/reset",
            post(super::admin::WithRoles {
                handler: super::admin::reset_second_factor,
                roles: vec![role],
            }),
        );
    }
    if inner.notifier.is_some() {
        router = router
            .route("/password-reset", post(super::reset::request))
            .route("/password-reset/confirm", post(super::reset::confirm));
    }
    if inner.open_signup {
        router = router.route("/signup", post(signup));
    }
    if inner.api_keys.is_some() {
        router = router
            .route(
                "/api-keys",
                crate::routing::get(super::key_routes::list).post(super::key_routes::create),
            )
            .route(
                "/api-keys/{id}",
                crate::routing::delete(super::key_routes::revoke),
            );
    }
    router
}

/// `POST /signup`. Unknown members (`"roles": ["admin"]`) are refused with 422.
#[sensitive]
#[derive(Deserialize, Validated)]
#[serde(deny_unknown_fields)]
pub(super) struct Signup {
    #[validate(trim, lowercase, length(min = 3, max = 32), pattern = "[a-z0-9_]+")]
    pub(super) username: String,
    #[validate(trim, email)]
    pub(super) email: String,
    #[sensitive]
    #[validate(length(min = 1, max = 1024))]
    pub(super) password: SecretString,
}

/// A service account's name: the user-name rules.
#[derive(Deserialize, Validated)]
pub(super) struct ServiceName {
    #[validate(trim, lowercase, length(min = 3, max = 32), pattern = "[a-z0-9_]+")]
    pub(super) name: String,
}

/// `POST /refresh` and `POST /sign-out`.
#[sensitive]
#[derive(Deserialize, Validated)]
#[serde(deny_unknown_fields)]
pub(super) struct RefreshBody {
    #[validate(length(min = 1, max = 256))]
    refresh_token: SecretString,
}

impl RefreshBody {
    fn token(&self) -> RefreshToken {
        RefreshToken::from_client(self.refresh_token.expose_secret())
    }
}

#[derive(Debug, Serialize)]
struct CreatedBody {
    id: String,
}

/// `201 {"id"}`. A taken name answers 409: signup cannot help revealing that a name exists
/// (the new account could not have it otherwise); 10 an hour per address bounds how fast
/// anyone can ask. Addresses are not unique, so they reveal nothing.
#[secure_handler(public, rate_limit("10/hour", key = ip), audit = "account.signup")]
async fn signup(
    State(accounts): State<Accounts>,
    body: Valid<Json<Signup>>,
) -> Result<Response, ApiError> {
    let inner = &accounts.inner;
    match create(inner, &body, &[inner.default_role]).await {
        Ok(id) => Ok((StatusCode::CREATED, Json(CreatedBody { id })).into_response()),
        Err(CreateAccountError::Taken) => Err(ApiError::Conflict("That user name is taken.")),
        Err(CreateAccountError::Password(e)) => Err(e.into()),
        Err(CreateAccountError::Store(e)) => Err(e.into()),
        // Signup's roles are the configured default; its body was validated.
        Err(e) => Err(ApiError::internal(e)),
    }
}

/// A new account from signup's checked fields, with `roles`: its id.
pub(super) async fn create(
    inner: &Inner,
    new: &Signup,
    roles: &[&str],
) -> Result<String, CreateAccountError> {
    let hash = inner
        .hash_new_password(&new.password)
        .await
        .map_err(CreateAccountError::Password)?;
    insert(inner, &new.username, &new.email, hash.as_phc_str(), roles).await
}

/// Stores a new account under a new id (its name and address already checked): the id, or
/// `Taken` when the name is.
pub(super) async fn insert(
    inner: &Inner,
    username: &str,
    email: &str,
    password_hash: &str,
    roles: &[&str],
) -> Result<String, CreateAccountError> {
    let id = new_id();
    let made = inner
        .store
        .create(NewAccount {
            id: &id,
            username,
            email,
            password_hash,
            roles,
            created_at: unix_now(),
        })
        .await
        .map_err(CreateAccountError::Store)?;
    match made {
        Created::Created => Ok(id),
        Created::Taken => Err(CreateAccountError::Taken),
    }
}

/// `200` a token pair and a device token; `401` with `code` `invalid_credentials`,
/// `mfa_required` or `invalid_otp`; `429` when a limit or the account throttle refuses.
#[secure_handler(public, rate_limit("30/min", key = ip))]
async fn sign_in(
    State(accounts): State<Accounts>,
    client: ClientAddr,
    body: Valid<Json<SignIn>>,
) -> Response {
    let inner = &accounts.inner;
    let verified = match signin::sign_in(inner, client, &body).await {
        Ok(verified) => verified,
        Err(refused) => return refused,
    };
    let auth_time = unix_now();
    let result = new_family(inner, &verified.account, verified.amr, auth_time).await;
    match result {
        Ok(mut pair) => {
            pair.device_token = Some(
                inner
                    .devices
                    .issue(&verified.account.id, verified.device.as_ref()),
            );
            Json(pair).into_response()
        }
        Err(refused) => refused,
    }
}

/// `200` a new pair. The roles are read again; `amr` and `auth_time` are the sign-in's. A
/// token used twice revokes its family; a family without its sign-in record, of an account
/// that is gone, or made before the account's credentials changed, is revoked too: all
/// answer the same 401.
#[secure_handler(public, rate_limit("30/min", key = ip))]
async fn refresh(State(accounts): State<Accounts>, body: Valid<Json<RefreshBody>>) -> Response {
    let inner = &accounts.inner;
    let issued = match inner.refresh.rotate(&body.token()).await {
        Ok(issued) => issued,
        Err(refused) => return ApiError::from(refused).into_response(),
    };
    let account = match inner.store.by_id(&issued.subject).await {
        Ok(Some(account)) => account,
        Ok(None) => return ended(inner, &issued, "account_gone").await,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let record = match inner.store.sign_in(&issued.family_id).await {
        Ok(Some(record)) if record.user_id == account.id => record,
        // Never "signed in now": a token is never made fresher than its sign-in.
        Ok(_) => return ended(inner, &issued, "sign_in_record_missing").await,
        Err(e) => return ApiError::from(e).into_response(),
    };
    if record.credential_version != account.credential_version {
        return ended(inner, &issued, "credentials_changed").await;
    }
    match token_pair(inner, &account, &record, issued) {
        Ok(pair) => Json(pair).into_response(),
        Err(refused) => refused,
    }
}

/// The family of `issued` ends (its newest token revoked with it): audited, then the same 401
/// as any refused refresh token.
async fn ended(inner: &Inner, issued: &IssuedRefreshToken, reason: &'static str) -> Response {
    audit::emit(
        "auth.refresh",
        Outcome::Failure,
        Some(&issued.subject),
        reason,
    );
    if let Err(e) = inner.refresh.revoke(&issued.token).await {
        return ApiError::from(e).into_response();
    }
    ApiError::from(RefreshError::Revoked).into_response()
}

/// `204`: the token's family is revoked (idempotent: an unknown token is no error). Holding a
/// refresh token is enough to end it, whoever's it is: the holder could use it.
#[secure_handler(public, rate_limit("30/min", key = ip))]
async fn sign_out(
    State(accounts): State<Accounts>,
    body: Valid<Json<RefreshBody>>,
) -> Result<StatusCode, ApiError> {
    accounts.inner.refresh.revoke(&body.token()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `204`: every sign-in of the caller's account ends (this one too): its families and
/// sessions are revoked, and the
/// credential version goes up so that none made meanwhile survives its next refresh.
/// Access tokens already issued live out their lifetime.
#[secure_handler(auth, audit = "account.sign_out_all")]
async fn sign_out_all(
    State(accounts): State<Accounts>,
    Extension(caller): Extension<Caller>,
) -> Result<StatusCode, ApiError> {
    let subject = &caller.identity.subject;
    accounts.inner.store.end_sign_ins(subject).await?;
    accounts.inner.end_every_sign_in(subject).await?;
    Ok(StatusCode::NO_CONTENT)
}
