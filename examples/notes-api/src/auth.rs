//! `/auth/*`: signup, login (password, then TOTP or a recovery code), refresh-token rotation
//! and logout.
//!
//! Against: credential stuffing and brute force (ASVS 2.2.1: 30/min per IP, 5/min per IP and
//! user name), user enumeration by answer or timing (2.2.x: one 401 for unknown users and
//! wrong passwords, after the same Argon2id work, 2.4.1), replayed or stolen refresh tokens
//! (3.5.x: rotation, reuse revokes the family), and a password alone opening an MFA account
//! (2.8.x).

// The error is the response to send, returned as is (as secure-core's own guard does).
#![allow(clippy::result_large_err)]

use std::time::SystemTime;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use secure_core::audit::{self, Outcome};
use secure_core::auth::device::DeviceId;
use secure_core::auth::jwt::AccessTokens;
use secure_core::auth::mfa::{RecoveryCodeHash, verify_recovery_code, verify_totp};
use secure_core::auth::password::{
    PasswordError, PasswordHash, SkipBreachCheck, StoredPassword, Verification,
};
use secure_core::auth::refresh::{IssuedRefreshToken, RefreshError, RefreshToken};
use secure_core::auth::{Amr, Identity};
use secure_core::http::client::ClientAddr;
use secure_core::prelude::*;
use secure_core::ratelimit::{ClientKey, Factor, ThrottleKey};
use secure_core::ratelimit::{RateKey, RateLimit};
use secure_core::secure_handler;
use secure_core::validate::FieldError;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

use crate::db::unix_now;
use crate::problem::LoginFailure;
use crate::users::{self, InsertError, UserRow};
use crate::{AppRole, AppState};

/// `POST /auth/signup`. Unknown keys (`"role": "admin"`) are refused with 422.
#[sensitive]
#[derive(Deserialize, Validated)]
pub(crate) struct Signup {
    #[validate(trim, lowercase, length(min = 3, max = 32), pattern = "[a-z0-9_]+")]
    pub(crate) username: String,
    #[validate(trim, email)]
    pub(crate) email: String,
    #[sensitive]
    #[validate(length(min = 12, max = 128))]
    pub(crate) password: SecretString,
}

/// `POST /auth/login` and `POST /session/login`. The user name gets the same sanitizers as at
/// signup, so `Ada` logs in as `ada`; its rules are looser, so a malformed name is just a
/// wrong login (401), not a hint about the signup rules.
#[sensitive]
#[derive(Deserialize, Validated)]
pub(crate) struct Login {
    #[validate(trim, lowercase, length(min = 1, max = 64), no_control)]
    pub(crate) username: String,
    #[sensitive]
    #[validate(length(min = 1, max = 1024))]
    pub(crate) password: SecretString,
    /// A TOTP code, or one of the recovery codes.
    #[sensitive]
    #[serde(default)]
    #[validate(length(min = 1, max = 64))]
    pub(crate) otp: Option<SecretString>,
    /// The `device_token` an earlier login on this client answered: its attempts are then
    /// throttled apart from everyone else's.
    #[sensitive]
    #[serde(default)]
    #[validate(length(min = 1, max = 512))]
    pub(crate) device_token: Option<SecretString>,
}

/// `POST /auth/refresh` and `POST /auth/logout`.
#[sensitive]
#[derive(Deserialize, Validated)]
pub(crate) struct RefreshRequest {
    #[validate(length(min = 1, max = 256))]
    refresh_token: SecretString,
}

impl RefreshRequest {
    fn token(&self) -> RefreshToken {
        RefreshToken::from_client(self.refresh_token.expose_secret())
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct Created {
    id: String,
}

/// The login answer. Its `Debug` is redacted (the fields are secret types); `Serialize` writes
/// the tokens on purpose: this response is how the client receives them.
#[derive(Debug)]
pub(crate) struct TokenPair {
    access_token: SecretString,
    refresh_token: RefreshToken,
    expires_in: u64,
    /// After a sign-in: the device token to send with this client's next sign-ins.
    pub(crate) device_token: Option<SecretString>,
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

/// A 500 whose cause goes to the log only, under the request id.
pub(crate) fn internal(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Response {
    ApiError::internal(e).into_response()
}

/// `201 {"id"}`. A taken user name answers 409: signup cannot help revealing that a name
/// exists (the new account could not have it otherwise); the 10/hour limit bounds how fast
/// anyone can ask. E-mail addresses are not unique, so they reveal nothing.
#[secure_handler(public, rate_limit("10/hour", key = ip), audit = "user.signup")]
pub(crate) async fn signup(State(state): State<AppState>, body: Valid<Json<Signup>>) -> Response {
    let hash = match new_password_hash(&state, "password", &body.password).await {
        Ok(hash) => hash,
        Err(refused) => return refused,
    };
    match users::insert(
        &state.db,
        &body.username,
        &body.email,
        &hash,
        AppRole::Member,
    )
    .await
    {
        Ok(id) => (StatusCode::CREATED, Json(Created { id })).into_response(),
        Err(InsertError::Taken) => ApiError::Conflict("That user name is taken.").into_response(),
        Err(InsertError::Db(e)) => internal(e),
    }
}

/// Hashes a new password (signup, password change) under the password rules: a rule it
/// breaks is a 422 on `field` (NFKC can change the length the extractor counted), a full
/// hasher a 503.
pub(crate) async fn new_password_hash(
    state: &AppState,
    field: &'static str,
    password: &SecretString,
) -> Result<PasswordHash, Response> {
    match state.hasher.hash(password, &SkipBreachCheck).await {
        Ok(hash) => Ok(hash),
        Err(e @ (PasswordError::TooShort { .. } | PasswordError::TooLong { .. })) => {
            let mut errors = ValidationErrors::new();
            errors.push(FieldError::new(field, e.code()));
            Err(ApiError::Validation(errors).into_response())
        }
        Err(PasswordError::Busy(busy)) => Err(busy.into_response()),
        Err(e) => Err(internal(e)),
    }
}

/// `200 {access_token, refresh_token, token_type, expires_in, device_token}`. Two limits:
/// 30/min per client IP (declared, in the policy table), and 5/min per (client IP, user name)
/// shared with `POST /session/login` (see [`count_login_attempt`]); and the per-account
/// throttle ([`check_factors`]).
#[secure_handler(public, rate_limit("30/min", key = ip))]
pub(crate) async fn login(
    State(state): State<AppState>,
    client: ClientAddr,
    body: Valid<Json<Login>>,
) -> Response {
    let verified = match check_login(&state, client, &body).await {
        Ok(verified) => verified,
        Err(refused) => return refused,
    };
    match new_token_family(&state, &verified, unix_now()).await {
        Ok(mut pair) => {
            pair.device_token = Some(
                state
                    .devices
                    .issue(&verified.user_id, verified.device.as_ref()),
            );
            Json(pair).into_response()
        }
        Err(refused) => refused,
    }
}

/// A new refresh-token family for a user who proved `verified`'s factors at `auth_time`, and
/// its first access token.
pub(crate) async fn new_token_family(
    state: &AppState,
    verified: &Verified,
    auth_time: i64,
) -> Result<TokenPair, Response> {
    let issued = state
        .refresh
        .issue(&verified.user_id)
        .await
        .map_err(internal)?;
    users::record_family(
        &state.db,
        &issued.family_id,
        &verified.user_id,
        verified.mfa,
        auth_time,
    )
    .await
    .map_err(internal)?;
    token_pair(
        &state.tokens,
        &verified.user_id,
        verified.role,
        verified.mfa,
        auth_time,
        issued,
    )
}

/// `200` a new pair. A token used twice revokes its family and answers 401 (the store and
/// `RefreshTokens::rotate` do that, and audit it).
#[secure_handler(public, rate_limit("30/min", key = ip))]
pub(crate) async fn refresh(
    State(state): State<AppState>,
    body: Valid<Json<RefreshRequest>>,
) -> Response {
    let issued = match state.refresh.rotate(&body.token()).await {
        Ok(issued) => issued,
        Err(RefreshError::Store(e)) => return internal(e),
        Err(refused) => return refused.into_response(),
    };
    let user = match users::by_id(&state.db, &issued.subject).await {
        Ok(Some(user)) => user,
        // The account is gone: its tokens die with it.
        Ok(None) => return RefreshError::Invalid.into_response(),
        Err(e) => return internal(e),
    };
    let Some(role) = user.role() else {
        return internal("stored role unknown to this version");
    };
    // The family remembers whether its login used a second factor, and when it happened.
    let (mfa, auth_time) = match users::family(&state.db, &issued.family_id).await {
        Ok(Some(found)) => found,
        Ok(None) => (false, unix_now()),
        Err(e) => return internal(e),
    };
    match token_pair(&state.tokens, &user.id, role, mfa, auth_time, issued) {
        Ok(pair) => Json(pair).into_response(),
        Err(refused) => refused,
    }
}

/// `204`: the refresh-token family is revoked (idempotent: an unknown token is no error).
/// Holding a refresh token is enough to revoke it, whoever's it is: the holder could use it.
#[secure_handler(auth)]
pub(crate) async fn logout(
    _user: Principal<AppRole>,
    State(state): State<AppState>,
    body: Valid<Json<RefreshRequest>>,
) -> Result<StatusCode, ApiError> {
    state
        .refresh
        .revoke(&body.token())
        .await
        .map_err(ApiError::internal)?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) fn amr(mfa: bool) -> Vec<Amr> {
    if mfa {
        vec![Amr::Pwd, Amr::Otp]
    } else {
        vec![Amr::Pwd]
    }
}

/// The identity a login proves.
pub(crate) fn identity(user_id: &str, role: AppRole, mfa: bool, auth_time: i64) -> Identity {
    Identity::new(user_id, auth_time)
        .with_roles([role.as_str()])
        .with_amr(amr(mfa))
}

fn token_pair(
    tokens: &AccessTokens,
    user_id: &str,
    role: AppRole,
    mfa: bool,
    auth_time: i64,
    issued: IssuedRefreshToken,
) -> Result<TokenPair, Response> {
    let access = tokens
        .issue(&identity(user_id, role, mfa, auth_time))
        .map_err(internal)?;
    Ok(TokenPair {
        access_token: SecretString::from(access),
        refresh_token: issued.token,
        expires_in: tokens.lifetime().as_secs(),
        device_token: None,
    })
}

/// Who a login proved to be.
#[derive(Debug)]
pub(crate) struct Verified {
    pub(crate) user_id: String,
    pub(crate) role: AppRole,
    pub(crate) mfa: bool,
    /// The device the client proved with a device token, if any.
    pub(crate) device: Option<DeviceId>,
}

/// The per-(client IP, user name) login limit, shared by both login routes.
const LOGIN_LIMIT: RateLimit = RateLimit {
    rate: secure_core::ratelimit::Rate {
        count: 5,
        period_secs: 60,
    },
    key: RateKey::User,
};
const LOGIN_LIMIT_NAME: &str = "notes_api::login(ip, username)";

/// Counts one attempt against 5/min per (client IP, user name): `#[secure_handler]` keys
/// limits by IP, user or nothing, and the user name is in the body, so the pair is counted
/// here, with the framework's limiter, client-IP rules (trusted proxies, IPv6 /56) and store
/// (memory, or Redis shared by every instance). Unknown user names count like known ones.
async fn count_login_attempt(
    state: &AppState,
    client: ClientAddr,
    username: &str,
) -> Result<(), Response> {
    let limiter = &state.limiter;
    let ip = client.key();
    // `no_control` keeps a newline out of user names, so the pair is unambiguous.
    let key = ClientKey::User(format!("{ip}\n{username}").into_boxed_str());
    // A refusal (429, or 503 when a store fails closed) is audited by `into_result`.
    limiter
        .decide(LOGIN_LIMIT_NAME, LOGIN_LIMIT, &key)
        .await
        .into_result(None)
        .map(|_| ())
}

/// What a sign-in or a re-authentication presents.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Factors<'a> {
    /// The user name as submitted (after the login sanitizers), known or not.
    pub(crate) username: &'a str,
    pub(crate) password: &'a SecretString,
    pub(crate) otp: Option<&'a SecretString>,
    pub(crate) device_token: Option<&'a SecretString>,
}

/// Checks the password of `user` (`None`: no account has the name; it is checked against the
/// dummy hash, so both cost the same and answer the same 401), then, when the account has
/// MFA, the second factor. Both steps go through the per-account throttle, password attempts
/// keyed by the submitted name and second-factor attempts by the account, each on the
/// client's own counter when it proves a device it signed in from before.
pub(crate) async fn check_factors(
    state: &AppState,
    user: Option<UserRow>,
    factors: Factors<'_>,
) -> Result<(UserRow, Option<DeviceId>), Response> {
    let device = user
        .as_ref()
        .and_then(|u| state.devices.verify_secret(factors.device_token, &u.id));
    let user = check_password(
        state,
        user,
        factors.username,
        factors.password,
        device.as_ref(),
    )
    .await?;
    if user.mfa_enabled() {
        check_second_factor(state, &user, factors.otp, device.as_ref()).await?;
    }
    Ok((user, device))
}

/// The password step of [`check_factors`]: the account throttle (keyed by `username` as
/// submitted), Argon2id, a rehash when the stored hash is outdated.
pub(crate) async fn check_password(
    state: &AppState,
    user: Option<UserRow>,
    username: &str,
    password: &SecretString,
    device: Option<&DeviceId>,
) -> Result<UserRow, Response> {
    let subject = user.as_ref().map(|u| u.id.as_str());
    let key = ThrottleKey::new(Factor::Password, username, device);
    state.limiter.account_attempt(&key, subject).await?;
    let hash = match &user {
        Some(user) => match PasswordHash::parse(&user.password_hash) {
            Ok(hash) => Some(hash),
            Err(e) => {
                // A corrupt row: logged, then treated like an unknown user.
                tracing::error!(target: "notes_api", subject = %user.id, error = %e, "stored password hash unreadable");
                None
            }
        },
        None => None,
    };
    let stored = match (&user, &hash) {
        (Some(user), Some(hash)) => Some(StoredPassword::new(&user.id, hash)),
        _ => None,
    };
    let verdict = state
        .hasher
        .verify(password, stored)
        .await
        .map_err(IntoResponse::into_response)?;
    let Verification::Valid { rehash } = verdict else {
        return Err(LoginFailure::InvalidCredentials.into_response());
    };
    let Some(user) = user else {
        return Err(LoginFailure::InvalidCredentials.into_response());
    };
    state.limiter.account_success(&key).await;
    if let Some(rehash) = rehash {
        // Outdated parameters: store a fresh hash; the login goes on either way.
        match rehash.run(&state.hasher, password).await {
            Ok(fresh) => {
                if let Err(e) = users::set_password_hash(&state.db, &user.id, &fresh).await {
                    tracing::error!(target: "notes_api", subject = %user.id, error = %e, "rehash not stored");
                }
            }
            Err(e) => {
                tracing::error!(target: "notes_api", subject = %user.id, error = %e, "rehash failed")
            }
        }
    }
    Ok(user)
}

/// The second-factor step of [`check_factors`]: a TOTP or recovery code, under the account
/// throttle (keyed by the account id). A missing code is `mfa_required` (not counted).
pub(crate) async fn check_second_factor(
    state: &AppState,
    user: &UserRow,
    otp: Option<&SecretString>,
    device: Option<&DeviceId>,
) -> Result<(), Response> {
    let Some(otp) = otp else {
        return Err(refuse_login(user, LoginFailure::MfaRequired));
    };
    let key = ThrottleKey::new(Factor::SecondFactor, &user.id, device);
    state.limiter.account_attempt(&key, Some(&user.id)).await?;
    if !second_factor(state, user, otp).await? {
        return Err(refuse_login(user, LoginFailure::InvalidOtp));
    }
    state.limiter.account_success(&key).await;
    Ok(())
}

/// A sign-in: the per-(IP, user name) limit, then [`check_factors`].
pub(crate) async fn check_login(
    state: &AppState,
    client: ClientAddr,
    attempt: &Login,
) -> Result<Verified, Response> {
    count_login_attempt(state, client, &attempt.username).await?;
    let user = users::by_username(&state.db, &attempt.username)
        .await
        .map_err(internal)?;
    let factors = Factors {
        username: &attempt.username,
        password: &attempt.password,
        otp: attempt.otp.as_ref(),
        device_token: attempt.device_token.as_ref(),
    };
    let (user, device) = check_factors(state, user, factors).await?;
    let Some(role) = user.role() else {
        return Err(internal("stored role unknown to this version"));
    };
    // Only now is the login a success; a right password alone was audited as a step.
    audit::emit("auth.login", Outcome::Success, Some(&user.id), "login_ok");
    Ok(Verified {
        mfa: user.mfa_enabled(),
        user_id: user.id.clone(),
        role,
        device,
    })
}

/// Six digits are a TOTP code (each step accepted once); anything else is tried as a
/// recovery code (each code accepted once). `false` for a code that is not accepted.
pub(crate) async fn second_factor(
    state: &AppState,
    user: &UserRow,
    otp: &SecretString,
) -> Result<bool, Response> {
    let code = otp.expose_secret();
    let digits = code.bytes().filter(|b| *b != b' ');
    let is_totp = digits.clone().count() == 6 && digits.clone().all(|b| b.is_ascii_digit());
    if is_totp {
        totp(state, user, code).await
    } else {
        recovery(state, user, otp).await
    }
}

/// The login's outcome for the audit log, then its answer.
fn refuse_login(user: &UserRow, failure: LoginFailure) -> Response {
    audit::emit(
        "auth.login",
        Outcome::Failure,
        Some(&user.id),
        failure.code(),
    );
    failure.into_response()
}

async fn totp(state: &AppState, user: &UserRow, code: &str) -> Result<bool, Response> {
    let Some(stored) = &user.totp_secret else {
        return Ok(false);
    };
    let secret = users::open_totp_secret(state.data_keys(), &user.id, stored).map_err(internal)?;
    let last = user.totp_last_step.and_then(|s| u64::try_from(s).ok());
    let step = match verify_totp(&user.id, &secret, code, last, SystemTime::now()) {
        Ok(step) => step,
        Err(e) if e.audit_reason().is_some() => return Ok(false),
        Err(e) => return Err(internal(e)),
    };
    let step = i64::try_from(step).map_err(internal)?;
    if users::advance_totp_step(&state.db, &user.id, step)
        .await
        .map_err(internal)?
    {
        Ok(true)
    } else {
        // Another login used this code between our check and our write.
        audit::emit("auth.mfa", Outcome::Failure, Some(&user.id), "otp_replay");
        Ok(false)
    }
}

async fn recovery(state: &AppState, user: &UserRow, code: &SecretString) -> Result<bool, Response> {
    let rows = users::recovery_codes(&state.db, &user.id)
        .await
        .map_err(internal)?;
    let mut ids = Vec::with_capacity(rows.len());
    let mut hashes = Vec::with_capacity(rows.len());
    for (id, stored) in rows {
        match RecoveryCodeHash::parse(&stored) {
            Ok(hash) => {
                ids.push(id);
                hashes.push(hash);
            }
            Err(e) => {
                tracing::error!(target: "notes_api", subject = %user.id, error = %e, "stored recovery code unreadable")
            }
        }
    }
    let Ok(index) = verify_recovery_code(&user.id, code, &hashes) else {
        return Ok(false);
    };
    let Some(id) = ids.get(index) else {
        return Ok(false);
    };
    if users::use_recovery_code(&state.db, id, &user.id)
        .await
        .map_err(internal)?
    {
        Ok(true)
    } else {
        audit::emit(
            "auth.mfa",
            Outcome::Failure,
            Some(&user.id),
            "recovery_code_reused",
        );
        Ok(false)
    }
}
