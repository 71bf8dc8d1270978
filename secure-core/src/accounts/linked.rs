//! Users of an outside OpenID Connect provider as accounts: each issuer and subject is linked
//! to an account of its own, made at its first request (the app's signup hook runs for it),
//! so the app's rows belong to them as to any account.
//!
//! Through the accounts, a provider's token is a delegated credential, as an API key: its
//! identity holds the token's scopes (none when it has none) and reaches only routes that
//! declare one of them, never the account routes, which manage the service's own passwords,
//! second factors and keys. Its roles are the provider's, mapped, under the same rule as a
//! sign-in's (a role of `mfa_required_for` only with a second factor).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use crate::audit::{self, Outcome};
use crate::auth::oidc::OidcProvider;
use crate::auth::{AuthError, Identity, ProviderTokens};

use super::store::NewAccount;

/// Most links kept in memory; past it the map starts again (a link never changes, so a miss
/// is one read).
const MAX_CACHED_LINKS: usize = 100_000;

/// A provider's tokens, their subjects linked to accounts.
pub(super) struct LinkedProvider {
    pub(super) provider: OidcProvider,
    pub(super) accounts: super::Accounts,
}

/// Issuer and subject to account id, for the links seen.
#[derive(Default)]
pub(super) struct LinkCache(Mutex<HashMap<String, String>>);

impl ProviderTokens for LinkedProvider {
    fn issuer(&self) -> &str {
        self.provider.issuer()
    }

    fn authenticate<'a>(
        &'a self,
        token: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Identity, AuthError>> + Send + 'a>> {
        Box::pin(async move {
            // Refusals are audited by the provider.
            let outside = ProviderTokens::authenticate(&self.provider, token).await?;
            let inner = &self.accounts.inner;
            let account_id = match link(inner, &outside.subject).await {
                Ok(id) => id,
                Err(e) => {
                    tracing::error!(target: "secure::accounts", error = %e, "provider account link failed");
                    audit::emit(
                        "auth.token",
                        Outcome::Failure,
                        None,
                        AuthError::Unavailable.reason(),
                    );
                    return Err(AuthError::Unavailable);
                }
            };
            let second_factor = outside.amr.iter().any(|a| a.is_second_factor());
            let roles =
                super::issue::granted_roles(inner, &account_id, &outside.roles, second_factor);
            let mut identity = Identity::new(account_id.as_str(), outside.auth_time)
                .with_roles(roles)
                .with_amr(outside.amr.iter().copied());
            identity.scopes = Some(outside.scopes.unwrap_or_default());
            Ok(identity)
        })
    }
}

/// The account of `subject` (`issuer#sub`, as the provider names its users), made now if it
/// has none.
async fn link(inner: &super::Inner, subject: &str) -> Result<String, crate::error::StoreError> {
    if let Some(id) = inner
        .links
        .0
        .lock()
        .ok()
        .and_then(|m| m.get(subject).cloned())
    {
        return Ok(id);
    }
    let (issuer, sub) = subject
        .split_once('#')
        .ok_or_else(|| crate::error::StoreError::new("provider subject without issuer"))?;
    let id = super::new_id();
    let account = NewAccount {
        id: &id,
        username: subject,
        email: "",
        password_hash: super::NO_PASSWORD,
        roles: &[],
        created_at: super::unix_now(),
    };
    let linked = inner.store.link(issuer, sub, account).await?;
    if linked == id {
        audit::emit(
            "account.link",
            Outcome::Success,
            Some(&linked),
            "provider_user",
        );
    }
    if let Ok(mut map) = inner.links.0.lock() {
        if map.len() >= MAX_CACHED_LINKS {
            map.clear();
        }
        map.insert(subject.to_owned(), linked.clone());
    }
    Ok(linked)
}
