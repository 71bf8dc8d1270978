//! Password reset: a single-use token, stored hashed, good for 15 minutes, delivered by the
//! app's [`Notifier`]; the same answer whether the account exists or not; a reset ends every
//! sign-in and gives the owner a device token, so their next sign-in counts apart from an
//! attacker's failures (an owner always has a way in).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

use super::store::CredentialChange;
use super::{Accounts, unix_now};
use crate::audit::{self, Outcome};
use crate::auth::refresh::opaque;
use crate::error::ApiError;
use crate::ratelimit::{ClientKey, Rate, RateKey, RateLimit, Verdict};
use crate::redact::{ExposeSecret, SecretString};
use crate::validate::Valid;
use crate::{Validated, secure_handler, sensitive};

/// How long a reset token works.
pub const RESET_LIFETIME_SECS: i64 = 15 * 60;

/// A password reset to deliver to the account's owner (by e-mail, usually): the link the app
/// builds holds `token`. `Debug` never shows the token.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ResetNotice {
    /// The account.
    pub account_id: String,
    /// Its user name.
    pub username: String,
    /// Where to send it.
    pub email: String,
    /// The token for `POST {prefix}/password-reset/confirm`.
    pub token: SecretString,
    /// When it stops working (Unix seconds).
    pub expires_at: i64,
}

/// Why a notice was not delivered (logged; the client's answer does not change).
#[derive(Debug, thiserror::Error)]
#[error("notification not delivered: {0}")]
pub struct NotifyError(Box<dyn std::error::Error + Send + Sync>);

impl NotifyError {
    /// Wraps the cause.
    pub fn new(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        NotifyError(cause.into())
    }
}

/// Delivers password-reset notices: the app implements it (a mail service, a queue).
/// Called after the answer is sent, so how long delivery takes says nothing to the client.
pub trait Notifier: Send + Sync + 'static {
    /// Delivers `notice` to the account's owner.
    fn password_reset(
        &self,
        notice: ResetNotice,
    ) -> impl Future<Output = Result<(), NotifyError>> + Send;

    /// Whether this notifier is for development only (it writes the link to the log): a
    /// release build refuses to start with it.
    fn development_only(&self) -> bool {
        false
    }
}

/// The development notifier: writes the reset link (`{link}{token}`) to the log, with a
/// warning. A release build refuses to start with it.
#[derive(Debug, Clone)]
pub struct LogNotifier {
    link: String,
}

impl LogNotifier {
    /// Links are `link` followed by the token (`http://localhost:3000/reset#`).
    pub fn new(link: impl Into<String>) -> Self {
        LogNotifier { link: link.into() }
    }
}

impl Notifier for LogNotifier {
    async fn password_reset(&self, notice: ResetNotice) -> Result<(), NotifyError> {
        tracing::warn!(
            target: "secure::accounts",
            username = %notice.username,
            "DEVELOPMENT NOTIFIER: password reset link {}{} (a release build refuses this notifier)",
            self.link,
            notice.token.expose_secret()
        );
        Ok(())
    }

    fn development_only(&self) -> bool {
        true
    }
}

type Delivery<'a> = Pin<Box<dyn Future<Output = Result<(), NotifyError>> + Send + 'a>>;

/// The object-safe twin of [`Notifier`].
pub(super) trait DynNotifier: Send + Sync + 'static {
    fn deliver(&self, notice: ResetNotice) -> Delivery<'_>;
    fn development_only(&self) -> bool;
}

impl<T: Notifier> DynNotifier for T {
    fn deliver(&self, notice: ResetNotice) -> Delivery<'_> {
        Box::pin(self.password_reset(notice))
    }
    fn development_only(&self) -> bool {
        Notifier::development_only(self)
    }
}

/// Whether a notifier may be used by this build: a development one only in a debug build.
pub(super) fn allowed(development_only: bool, release: bool) -> bool {
    !(development_only && release)
}

/// `POST /password-reset`.
#[derive(Deserialize, Validated)]
#[serde(deny_unknown_fields)]
pub(super) struct ResetRequest {
    #[validate(trim, lowercase, length(min = 1, max = 64), no_control)]
    username: String,
}

/// `POST /password-reset/confirm`.
#[sensitive]
#[derive(Deserialize, Validated)]
#[serde(deny_unknown_fields)]
pub(super) struct ResetConfirm {
    #[validate(length(min = 1, max = 256))]
    token: SecretString,
    #[validate(length(min = 1, max = 1024))]
    new_password: SecretString,
}

/// At most 3 reset notices an hour per account name, whoever asks (no mail bombing).
const PER_NAME: RateLimit = RateLimit {
    rate: Rate {
        count: 3,
        period_secs: 3600,
    },
    key: RateKey::User,
};

/// How long after the answer a reset token is written and its notice handed over (random
/// within, milliseconds).
const DELIVERY_DELAY_MS: std::ops::Range<u64> = 50..250;

/// `202`, the same answer whether or not an account has the name: when one has, a token is
/// stored (hashed) and its notice handed to the notifier after the answer.
#[secure_handler(public, rate_limit("10/hour", key = ip), audit = "account.password_reset_requested")]
pub(super) async fn request(
    State(accounts): State<Accounts>,
    body: Valid<Json<ResetRequest>>,
) -> Result<Response, ApiError> {
    let inner = &accounts.inner;
    let answer = (
        StatusCode::ACCEPTED,
        Json(serde_json::json!({
            "detail": "If an account has this name, a reset link is on its way to its owner."
        })),
    )
        .into_response();
    let Some(notifier) = &inner.notifier else {
        return Err(ApiError::NotFound);
    };
    let key = ClientKey::User(format!("reset\n{}", body.username).into_boxed_str());
    let verdict = inner
        .limiter
        .decide("secure::accounts::password_reset(username)", PER_NAME, &key)
        .await;
    // A store that cannot decide: nothing is sent either (fail closed, quietly).
    let within = matches!(&verdict, Verdict::Decided(decision) if decision.allowed);
    if !within {
        // Over the per-name budget: the same answer, and nothing sent.
        audit::emit(
            "account.password_reset",
            Outcome::Denied,
            None,
            "per_name_limit",
        );
        return Ok(answer);
    }
    let account = inner.store.by_username(&body.username).await?;
    // The token's write and the delivery come after the answer, and a moment later still, so
    // that they do not compete with sending it; an unknown name takes the same path up to
    // there: a known name costs the client no more time than an unknown one.
    let accounts = accounts.clone();
    let notifier = Arc::clone(notifier);
    tokio::spawn(async move {
        let settle = rand::random_range(DELIVERY_DELAY_MS);
        tokio::time::sleep(std::time::Duration::from_millis(settle)).await;
        // No reset for an account without a password (a service account, a provider's user).
        let Some(account) = account.filter(|a| a.password_hash != super::NO_PASSWORD) else {
            return;
        };
        let (token, token_hash) = opaque::generate();
        let expires_at = unix_now().saturating_add(RESET_LIFETIME_SECS);
        let subject = account.id.clone();
        if let Err(e) = accounts
            .inner
            .store
            .create_reset(&token_hash, &account.id, expires_at)
            .await
        {
            tracing::error!(target: "secure::accounts", subject = %subject, error = %e, "password reset token not stored: no notice sent");
            return;
        }
        let notice = ResetNotice {
            account_id: account.id,
            username: account.username,
            email: account.email,
            token,
            expires_at,
        };
        if let Err(e) = notifier.deliver(notice).await {
            tracing::error!(target: "secure::accounts", subject = %subject, error = %e, "password reset notice not delivered");
        }
    });
    Ok(answer)
}

/// `200 {"device_token"}`: the password is the new one, every sign-in of the account ended;
/// the device token lets the owner's next sign-in count apart from anyone else's failures.
/// `400` for a token that is unknown, used or expired; `422` on `new_password` (the token is
/// then still good).
#[secure_handler(public, rate_limit("10/min", key = ip), audit = "account.password_reset")]
pub(super) async fn confirm(
    State(accounts): State<Accounts>,
    body: Valid<Json<ResetConfirm>>,
) -> Result<Response, ApiError> {
    let inner = &accounts.inner;
    let invalid = || ApiError::BadRequest("The reset link is not valid, or no longer.");
    let token = body.token.expose_secret();
    if !opaque::well_formed(token) {
        return Err(invalid());
    }
    // The rules first: a refused password leaves the token usable.
    let hash = inner
        .hash_new_password(&body.new_password)
        .await
        .map_err(|e| e.on_field("new_password"))?;
    let Some(id) = inner
        .store
        .use_reset(&opaque::hash(token), unix_now())
        .await?
    else {
        audit::emit(
            "account.password_reset",
            Outcome::Failure,
            None,
            "invalid_token",
        );
        return Err(invalid());
    };
    if inner
        .store
        .change_credentials(&id, CredentialChange::Password(hash.as_phc_str()))
        .await?
        .is_none()
    {
        return Err(invalid());
    }
    inner.end_every_sign_in(&id).await?;
    audit::emit(
        "account.password_reset",
        Outcome::Success,
        Some(&id),
        "password_reset",
    );
    let device = inner.devices.issue(&id, None);
    Ok(Json(DeviceBody {
        device_token: device,
    })
    .into_response())
}

struct DeviceBody {
    device_token: SecretString,
}

impl Serialize for DeviceBody {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("DeviceBody", 1)?;
        s.serialize_field("device_token", self.device_token.expose_secret())?;
        s.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_release_build_refuses_the_development_notifier() {
        assert!(!allowed(true, true));
        assert!(allowed(true, false));
        assert!(allowed(false, true));
        assert!(Notifier::development_only(&LogNotifier::new("x")));
    }
}
