//! What an administrator does to another account: turn its second factor off (a user who
//! lost their device and their recovery codes). The route needs the role the app names as
//! its administrators' ([`AccountsBuilder::admin_role`](super::AccountsBuilder::admin_role)),
//! a second factor and a fresh sign-in; it is not served when no role is named.

use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use serde::Deserialize;

use super::Accounts;
use super::store::CredentialChange;
use crate::audit::{self, Outcome};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::policy::{Access, RoutePolicy, SecureHandler};
use crate::validate::Valid;
use crate::{Validated, secure_handler};

/// An account id in a path: what [`new_id`](super::new_id) makes.
#[derive(Debug, Deserialize, Validated)]
pub(super) struct AccountId {
    #[validate(length(equal = 22), pattern = "[A-Za-z0-9_-]+")]
    id: String,
}

/// `204`: the account's second factor is off and every sign-in of it ends; it signs in with
/// its password alone and enrols again. `404` for an id no account has; `403` for the
/// caller's own account (that takes the password: `mfa/disable`). Audited twice: the route's
/// event with the administrator as subject, `account.mfa_reset` with the account.
#[secure_handler(auth, mfa, fresh = "5m", rate_limit("30/min", key = user), audit = "account.admin_mfa_reset")]
pub(super) async fn reset_second_factor(
    State(accounts): State<Accounts>,
    Extension(caller): Extension<Caller>,
    target: Valid<Path<AccountId>>,
) -> Result<StatusCode, ApiError> {
    let inner = &accounts.inner;
    let id = target.id.as_str();
    if id == caller.identity.subject {
        // One's own second factor goes through `mfa/disable`, which takes the password.
        return Err(ApiError::Forbidden);
    }
    if inner
        .store
        .change_credentials(id, CredentialChange::NoSecondFactor)
        .await?
        .is_none()
    {
        return Err(ApiError::NotFound);
    }
    inner.end_every_sign_in(id).await?;
    audit::emit("account.mfa_reset", Outcome::Success, Some(id), "by_admin");
    Ok(StatusCode::NO_CONTENT)
}

/// A secure handler that also needs one of `roles`: what the app configured, added to what
/// the handler declared (it only narrows who may call).
#[derive(Debug, Clone)]
pub(super) struct WithRoles<H> {
    pub(super) handler: H,
    pub(super) roles: Vec<&'static str>,
}

impl<S, H: SecureHandler<S>> SecureHandler<S> for WithRoles<H> {
    fn policy(&self) -> RoutePolicy {
        let mut policy = self.handler.policy();
        match &mut policy.access {
            Access::Auth { roles, .. } => roles.extend(self.roles.iter().copied()),
            // Only `auth` handlers are wrapped; anything else would be widened: deny it.
            _ => return RoutePolicy::denied(policy.handler),
        }
        policy
    }

    fn call(
        self,
        parts: Parts,
        body: axum::body::Body,
        state: S,
    ) -> impl Future<Output = Response> + Send {
        self.handler.call(parts, body, state)
    }
}
