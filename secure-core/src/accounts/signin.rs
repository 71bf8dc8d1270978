//! Checking what a sign-in presents: the password (dummy hash for unknown names, the
//! per-account throttle, a rehash under newer parameters), then the second factor when the
//! account has one (TOTP, each step once, or a recovery code, each code once).

// The error is the response to send.
#![allow(clippy::result_large_err)]

use std::time::SystemTime;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::Inner;
use super::store::AccountRecord;
use crate::audit::{self, Outcome};
use crate::auth::Amr;
use crate::auth::device::DeviceId;
use crate::auth::mfa::{RecoveryCodeHash, TotpSecret, verify_recovery_code, verify_totp};
use crate::auth::password::{PasswordHash, StoredPassword, Verification};
use crate::error::{ApiError, FixedCode, Problem};
use crate::http::client::ClientAddr;
use crate::ratelimit::{ClientKey, Factor, Rate, RateKey, RateLimit, ThrottleKey};
use crate::redact::{ExposeSecret, SecretString};
use crate::{Validated, sensitive};
use serde::Deserialize;

/// Why a sign-in was refused: a 401 whose `code` tells the client what to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SignInFailure {
    /// Unknown name or wrong password: one answer for both.
    InvalidCredentials,
    /// The password was right and the account has a second factor: send `otp` too.
    MfaRequired,
    /// The `otp` was not a valid TOTP code or unused recovery code.
    InvalidOtp,
    /// The `mfa_token` is not one this service issued, or has expired, or the account's
    /// credentials changed since: sign in with the password again.
    InvalidChallenge,
}

impl SignInFailure {
    pub(super) fn code(self) -> &'static str {
        match self {
            SignInFailure::InvalidCredentials => "invalid_credentials",
            SignInFailure::MfaRequired => "mfa_required",
            SignInFailure::InvalidOtp => "invalid_otp",
            SignInFailure::InvalidChallenge => "invalid_mfa_token",
        }
    }

    fn detail(self) -> &'static str {
        match self {
            SignInFailure::InvalidCredentials => "The user name or password is not right.",
            SignInFailure::MfaRequired => {
                "This account uses two-factor authentication: send the current code as `otp`, with `mfa_token`."
            }
            SignInFailure::InvalidOtp => "The one-time code is not valid.",
            SignInFailure::InvalidChallenge => {
                "The sign-in to complete has expired or is not valid: sign in with the password again."
            }
        }
    }
}

impl SignInFailure {
    /// The 401: its `code`, its fixed detail, the `Bearer` challenge.
    fn problem(self) -> Problem {
        Problem::new(StatusCode::UNAUTHORIZED, self.detail())
            .with_code(self.code())
            .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
    }
}

impl IntoResponse for SignInFailure {
    fn into_response(self) -> Response {
        self.problem().into_response()
    }
}

/// `POST /sign-in`: the user name and password (and `otp` at once, when the client has it),
/// or the `mfa_token` a password answered with and the `otp`. The name gets signup's
/// sanitizers (so `Ada` signs in as `ada`) but looser rules: a malformed name is a wrong
/// sign-in (401), not a hint about signup's rules.
#[sensitive]
#[derive(Deserialize, Validated)]
#[serde(deny_unknown_fields)]
pub(super) struct SignIn {
    #[serde(default)]
    #[validate(trim, lowercase, length(min = 1, max = 64), no_control)]
    username: Option<String>,
    #[sensitive]
    #[serde(default)]
    #[validate(length(min = 1, max = 1024))]
    password: Option<SecretString>,
    /// The challenge of a sign-in whose password was right, for an account with a second
    /// factor: it stands for the password for five minutes.
    #[sensitive]
    #[serde(default)]
    #[validate(length(min = 1, max = 512))]
    mfa_token: Option<SecretString>,
    /// A TOTP code, or one of the recovery codes.
    #[sensitive]
    #[serde(default)]
    #[validate(length(min = 1, max = 64))]
    otp: Option<SecretString>,
    /// The `device_token` an earlier sign-in on this client answered.
    #[sensitive]
    #[serde(default)]
    #[validate(length(min = 1, max = 512))]
    device_token: Option<SecretString>,
}

/// What a sign-in presents: the password, or the challenge a password earned.
enum Presented<'a> {
    Password(Factors<'a>),
    Challenge {
        token: &'a SecretString,
        otp: &'a SecretString,
        device_token: Option<&'a SecretString>,
    },
}

impl SignIn {
    /// What this sign-in presents; 422 naming the field for a body that is neither form.
    fn presented(&self) -> Result<Presented<'_>, Response> {
        let missing = |field: &str| Err(ApiError::field(field, "missing_field").into_response());
        match (&self.mfa_token, &self.username, &self.password) {
            (Some(token), None, None) => match &self.otp {
                Some(otp) => Ok(Presented::Challenge {
                    token,
                    otp,
                    device_token: self.device_token.as_ref(),
                }),
                None => missing("otp"),
            },
            (Some(_), _, _) => Err(ApiError::field("mfa_token", "invalid_value").into_response()),
            (None, Some(username), Some(password)) => Ok(Presented::Password(Factors {
                username,
                password,
                otp: self.otp.as_ref(),
                device_token: self.device_token.as_ref(),
            })),
            (None, None, _) => missing("username"),
            (None, Some(_), None) => missing("password"),
        }
    }
}

/// How long the challenge of a right password lasts, seconds.
const CHALLENGE_SECS: i64 = 300;
/// What a challenge is sealed for: nothing else opens it.
const CHALLENGE_CONTEXT: &[u8] = b"secure.accounts.mfa_challenge";

/// The 401 `mfa_required` of a right password, with its challenge (`mfa_token`): sealed with
/// the data key, naming the account, its credential version and an expiry.
fn challenge(accounts: &Inner, account: &AccountRecord) -> Response {
    audit::emit(
        "auth.login",
        Outcome::Failure,
        Some(&account.id),
        SignInFailure::MfaRequired.code(),
    );
    let expires = super::unix_now().saturating_add(CHALLENGE_SECS);
    let plain = format!("{}\n{}\n{expires}", account.id, account.credential_version);
    let token = accounts.data_keys.seal(CHALLENGE_CONTEXT, plain.as_bytes());
    SignInFailure::MfaRequired
        .problem()
        .with_member("mfa_token", SecretString::from(token))
        .into_response()
}

/// The account a challenge names, when the challenge is this service's, unexpired, and made
/// under the account's current credentials; otherwise 401 `invalid_mfa_token`.
async fn open_challenge(accounts: &Inner, token: &SecretString) -> Result<AccountRecord, Response> {
    let invalid = || {
        audit::emit(
            "auth.login",
            Outcome::Failure,
            None,
            SignInFailure::InvalidChallenge.code(),
        );
        SignInFailure::InvalidChallenge.into_response()
    };
    let plain = accounts
        .data_keys
        .open(CHALLENGE_CONTEXT, token.expose_secret())
        .map_err(|_| invalid())?;
    let text = std::str::from_utf8(&plain).map_err(|_| invalid())?;
    let mut parts = text.split('\n');
    let (Some(id), Some(version), Some(expires), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    let (Ok(version), Ok(expires)) = (version.parse::<i64>(), expires.parse::<i64>()) else {
        return Err(invalid());
    };
    if expires < super::unix_now() {
        return Err(invalid());
    }
    match accounts.store.by_id(id).await {
        Ok(Some(account)) if account.credential_version == version => Ok(account),
        Ok(_) => Err(invalid()),
        Err(e) => Err(ApiError::from(e).into_response()),
    }
}

/// 5 sign-in attempts a minute per (client address, user name), beside the per-address
/// route limit and the per-account throttle.
const SIGN_IN_LIMIT: RateLimit = RateLimit {
    rate: Rate {
        count: 5,
        period_secs: 60,
    },
    key: RateKey::User,
};
const SIGN_IN_LIMIT_NAME: &str = "secure::accounts::sign_in(ip, username)";

/// What a sign-in presents.
#[derive(Debug, Clone, Copy)]
pub(super) struct Factors<'a> {
    /// The user name as submitted (after the sanitizers), known or not.
    pub(super) username: &'a str,
    pub(super) password: &'a SecretString,
    pub(super) otp: Option<&'a SecretString>,
    pub(super) device_token: Option<&'a SecretString>,
}

/// Who a sign-in proved to be, and how.
#[derive(Debug)]
pub(super) struct Verified {
    pub(super) account: AccountRecord,
    pub(super) amr: Vec<Amr>,
    pub(super) device: Option<DeviceId>,
}

/// A sign-in: by password, the per-(address, name) limit, the account by name, then
/// [`verify`] (a right password for an account with a second factor and no `otp` answers a
/// challenge); by challenge, the account it names and its second factor. Audited on
/// success; each refusal is audited where it is decided.
pub(super) async fn sign_in(
    accounts: &Inner,
    client: ClientAddr,
    body: &SignIn,
) -> Result<Verified, Response> {
    let timer = crate::observe::Timer::start();
    let result = steps(accounts, client, body).await;
    // The refusal's fixed code (`invalid_credentials`, `mfa_required`, `busy`, ...): a
    // closed set, as a label must be.
    timer.sign_in(match &result {
        Ok(_) => "signed_in",
        Err(r) => match r.extensions().get::<FixedCode>() {
            Some(FixedCode(code)) => code,
            None if r.status() == StatusCode::TOO_MANY_REQUESTS => "rate_limited",
            None if r.status().is_client_error() => "bad_request",
            None => "error",
        },
    });
    result
}

async fn steps(accounts: &Inner, client: ClientAddr, body: &SignIn) -> Result<Verified, Response> {
    let verified = match body.presented()? {
        Presented::Password(factors) => {
            limit(accounts, client, factors.username).await?;
            let account = accounts
                .store
                .by_username(factors.username)
                .await
                .map_err(|e| ApiError::from(e).into_response())?;
            verify(accounts, account, factors, true).await?
        }
        Presented::Challenge {
            token,
            otp,
            device_token,
        } => {
            let account = open_challenge(accounts, token).await?;
            limit(accounts, client, &account.username).await?;
            let device = accounts.devices.verify_secret(device_token, &account.id);
            check_second_factor(accounts, &account, Some(otp), device.as_ref()).await?;
            Verified {
                account,
                amr: vec![Amr::Pwd, Amr::Otp],
                device,
            }
        }
    };
    audit::emit(
        "auth.login",
        Outcome::Success,
        Some(&verified.account.id),
        "login_ok",
    );
    Ok(verified)
}

/// 5 sign-in attempts a minute per (client address, user name).
async fn limit(accounts: &Inner, client: ClientAddr, username: &str) -> Result<(), Response> {
    // `no_control` keeps a newline out of user names, so the pair is unambiguous.
    let key = ClientKey::User(format!("{}\n{username}", client.key()).into_boxed_str());
    accounts
        .limiter
        .decide(SIGN_IN_LIMIT_NAME, SIGN_IN_LIMIT, &key)
        .await
        .into_result(None)
        // The answer carries the route's own limit fields; this one's show on its 429.
        .map(drop)
}

/// The factors against `account` (`None`: no account has the name; checked against the
/// dummy hash all the same): the password, then the second factor when the account has one,
/// each under the account throttle, on the client's own counter when it proves a device it
/// signed in from before.
pub(super) async fn verify(
    accounts: &Inner,
    account: Option<AccountRecord>,
    factors: Factors<'_>,
    challenge_without_otp: bool,
) -> Result<Verified, Response> {
    let device = account
        .as_ref()
        .and_then(|a| accounts.devices.verify_secret(factors.device_token, &a.id));
    let account = check_password(
        accounts,
        account,
        factors.username,
        factors.password,
        device.as_ref(),
    )
    .await?;
    let mut amr = vec![Amr::Pwd];
    if account.has_second_factor() {
        if challenge_without_otp && factors.otp.is_none() {
            return Err(challenge(accounts, &account));
        }
        check_second_factor(accounts, &account, factors.otp, device.as_ref()).await?;
        amr.push(Amr::Otp);
    }
    Ok(Verified {
        account,
        amr,
        device,
    })
}

/// The account's current password alone (a password change, turning the second factor
/// off), under the same throttle as a sign-in's, honouring the client's device token.
pub(super) async fn verify_password(
    accounts: &Inner,
    account: AccountRecord,
    password: &SecretString,
    device_token: Option<&SecretString>,
) -> Result<AccountRecord, Response> {
    let device = accounts.devices.verify_secret(device_token, &account.id);
    let username = account.username.clone();
    check_password(
        accounts,
        Some(account),
        &username,
        password,
        device.as_ref(),
    )
    .await
}

/// The password: the account throttle (keyed by the name as submitted), Argon2id (against
/// the dummy hash when no account has the name, or its stored hash is unreadable), a rehash
/// when the stored hash is outdated.
async fn check_password(
    accounts: &Inner,
    account: Option<AccountRecord>,
    username: &str,
    password: &SecretString,
    device: Option<&DeviceId>,
) -> Result<AccountRecord, Response> {
    let subject = account.as_ref().map(|a| a.id.as_str());
    // A turn first: a busy hasher answers 503 without counting an attempt.
    let turn = accounts
        .hasher
        .turn()
        .await
        .map_err(IntoResponse::into_response)?;
    let key = ThrottleKey::new(Factor::Password, username, device);
    accounts.limiter.account_attempt(&key, subject).await?;
    let hash = account
        .as_ref()
        // An account without a password (a service account, a provider's user) signs in as
        // an unknown name does: against the dummy hash.
        .filter(|a| a.password_hash != super::NO_PASSWORD)
        .and_then(|a| match PasswordHash::parse(&a.password_hash) {
            Ok(hash) => Some(hash),
            Err(e) => {
                tracing::error!(target: "secure::accounts", subject = %a.id, error = %e, "stored password hash unreadable");
                None
            }
        });
    let stored = match (&account, &hash) {
        (Some(account), Some(hash)) => Some(StoredPassword::new(&account.id, hash)),
        _ => None,
    };
    let verdict = accounts.hasher.verify_on(turn, password, stored).await;
    let (Verification::Valid { rehash }, Some(account)) = (verdict, account) else {
        return Err(SignInFailure::InvalidCredentials.into_response());
    };
    accounts.limiter.account_success(&key).await;
    if let Some(rehash) = rehash {
        // Outdated parameters: store a fresh hash; the sign-in goes on either way.
        match rehash.run(&accounts.hasher, password).await {
            Ok(fresh) => {
                if let Err(e) = accounts
                    .store
                    .rehash_password(&account.id, fresh.as_phc_str())
                    .await
                {
                    tracing::error!(target: "secure::accounts", subject = %account.id, error = %e, "rehash not stored");
                }
            }
            Err(e) => {
                tracing::error!(target: "secure::accounts", subject = %account.id, error = %e, "rehash failed");
            }
        }
    }
    Ok(account)
}

/// The second factor, under the account throttle keyed by the account id. A missing code is
/// `mfa_required` (not counted).
pub(super) async fn check_second_factor(
    accounts: &Inner,
    account: &AccountRecord,
    otp: Option<&SecretString>,
    device: Option<&DeviceId>,
) -> Result<(), Response> {
    let Some(otp) = otp else {
        return Err(refuse(account, SignInFailure::MfaRequired));
    };
    let code = otp.expose_secret();
    let digits = code.bytes().filter(|b| *b != b' ');
    let is_totp = digits.clone().count() == 6 && digits.clone().all(|b| b.is_ascii_digit());
    // What the check reads is read first: a secret that does not open or a store that fails
    // answers 500 without counting an attempt.
    let expected = if is_totp {
        Expected::Totp(match &account.totp_secret {
            Some(stored) => Some(open_totp(accounts, account, stored)?),
            None => None,
        })
    } else {
        Expected::Recovery(recovery_hashes(accounts, account).await?)
    };
    let key = ThrottleKey::new(Factor::SecondFactor, &account.id, device);
    accounts
        .limiter
        .account_attempt(&key, Some(&account.id))
        .await?;
    let accepted = match expected {
        Expected::Totp(Some(secret)) => totp(accounts, account, &secret, code).await?,
        Expected::Totp(None) => false,
        Expected::Recovery((ids, hashes)) => {
            recovery(accounts, account, otp, &ids, &hashes).await?
        }
    };
    if !accepted {
        return Err(refuse(account, SignInFailure::InvalidOtp));
    }
    accounts.limiter.account_success(&key).await;
    Ok(())
}

fn refuse(account: &AccountRecord, failure: SignInFailure) -> Response {
    audit::emit(
        "auth.login",
        Outcome::Failure,
        Some(&account.id),
        failure.code(),
    );
    failure.into_response()
}

fn internal(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Response {
    ApiError::internal(e).into_response()
}

/// What a stored TOTP secret is sealed to: this purpose and this account, so a sealed value
/// copied to another row does not open.
pub(super) fn totp_context(user_id: &str) -> Vec<u8> {
    let mut context = b"secure.accounts.totp\0".to_vec();
    context.extend_from_slice(user_id.as_bytes());
    context
}

/// Only a sealed secret is read: a plain one written into the database is refused.
pub(super) fn open_totp(
    accounts: &Inner,
    account: &AccountRecord,
    stored: &str,
) -> Result<TotpSecret, Response> {
    open_sealed_totp(&accounts.data_keys, &account.id, stored).map_err(internal)
}

/// The TOTP secret sealed for account `id`'s row; why not, for the log.
pub(super) fn open_sealed_totp(
    keys: &crate::crypto::DataKeys,
    id: &str,
    stored: &str,
) -> Result<TotpSecret, String> {
    let plain = keys
        .open(&totp_context(id), stored)
        .map_err(|e| format!("stored TOTP secret unreadable: {e}"))?;
    let text = std::str::from_utf8(&plain).map_err(|_| "stored TOTP secret not text".to_owned())?;
    TotpSecret::from_base32(&SecretString::from(text))
        .map_err(|_| "stored TOTP secret malformed".to_owned())
}

/// What a second-factor code is checked against, read before the attempt is counted.
enum Expected {
    Totp(Option<TotpSecret>),
    Recovery((Vec<String>, Vec<RecoveryCodeHash>)),
}

async fn totp(
    accounts: &Inner,
    account: &AccountRecord,
    secret: &TotpSecret,
    code: &str,
) -> Result<bool, Response> {
    let last = account.totp_last_step.and_then(|s| u64::try_from(s).ok());
    let step = match verify_totp(&account.id, secret, code, last, SystemTime::now()) {
        Ok(step) => step,
        Err(e) if e.audit_reason().is_some() => return Ok(false),
        Err(e) => return Err(internal(e)),
    };
    let step = i64::try_from(step).map_err(internal)?;
    let won = accounts
        .store
        .advance_totp_step(&account.id, step)
        .await
        .map_err(internal)?;
    Ok(first_use(won, account, "otp_replay"))
}

/// Whether this request used the code first: another one may have used it between the
/// check and the write. The loser is audited with `reason`.
fn first_use(won: bool, account: &AccountRecord, reason: &'static str) -> bool {
    if !won {
        audit::emit("auth.mfa", Outcome::Failure, Some(&account.id), reason);
    }
    won
}

/// The account's unused recovery codes: their ids and hashes (unreadable ones logged, left
/// out).
async fn recovery_hashes(
    accounts: &Inner,
    account: &AccountRecord,
) -> Result<(Vec<String>, Vec<RecoveryCodeHash>), Response> {
    let rows = accounts
        .store
        .recovery_codes(&account.id)
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
                tracing::error!(target: "secure::accounts", subject = %account.id, error = %e, "stored recovery code unreadable");
            }
        }
    }
    Ok((ids, hashes))
}

async fn recovery(
    accounts: &Inner,
    account: &AccountRecord,
    code: &SecretString,
    ids: &[String],
    hashes: &[RecoveryCodeHash],
) -> Result<bool, Response> {
    let Ok(index) = verify_recovery_code(&account.id, code, hashes) else {
        return Ok(false);
    };
    let Some(id) = ids.get(index) else {
        return Ok(false);
    };
    let won = accounts
        .store
        .use_recovery_code(&account.id, id)
        .await
        .map_err(internal)?;
    Ok(first_use(won, account, "recovery_code_reused"))
}
