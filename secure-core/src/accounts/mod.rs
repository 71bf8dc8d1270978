//! Accounts by construction (feature `accounts`): signup, sign-in, refresh and sign-out as a
//! ready [`SecureRouter`] the app merges, each route a `#[secure_handler]` in the policy
//! table, with what an app would otherwise have to remember built in:
//!
//! - **sign-in**: an unknown name is checked against a dummy hash (the same answer, status and
//!   time as a wrong password; OWASP ASVS 2.2.1, 2.4.1); 5 attempts a minute per client
//!   address and name, 30 per address, and the per-account throttle
//!   ([`RateLimiter::account_attempt`]) always on; a hash under older Argon2 parameters is
//!   replaced at a successful sign-in; an account with a second factor needs its TOTP or a
//!   recovery code in the same request (`otp`), each throttled on its own counter; every
//!   outcome audited;
//! - **refresh**: rotating refresh-token families ([`RefreshTokens`]) whose sign-in record
//!   keeps `amr` and `auth_time`, so a refreshed token is never fresher than the sign-in
//!   (`fresh` routes keep working) and a family without its record is refused, never
//!   renewed as "now"; roles are read again from the store at every refresh, so a changed
//!   role reaches the next access token (within one access-token lifetime); a family made
//!   under an older credential version ends;
//! - **sign-out** of one family, or of every sign-in of the account (the credential version
//!   goes up, so families still held elsewhere end at their next refresh).
//!
//! Bearer mode (default) answers token pairs; cookie mode
//! ([`AccountsBuilder::cookie_sessions`]) opens `__Host-session` cookie sessions with CSRF
//! from the same checks. Step-up, password change and the second factor's life (enrol,
//! confirm, new recovery codes, disable) serve both, each `fresh` and each ending every
//! other sign-in through a per-account credential version; an administrator resets another
//! account's second factor when the app names its role ([`AccountsBuilder::admin_role`]).
//!
//! ```text
//! POST {prefix}/signup         public, 10/hour per address   201 {"id"}; 409 taken; 422
//! POST {prefix}/sign-in        public, 30/min per address    200 token pair; 401; 429
//! POST {prefix}/refresh        public, 30/min per address    200 token pair; 401
//! POST {prefix}/sign-out       public, 30/min per address    204 (the family of the token)
//! POST {prefix}/sign-out/all   auth                          204 (every family)
//! ```
//!
//! The token pair is `{"access_token", "refresh_token", "token_type": "Bearer",
//! "expires_in", "device_token"}`: the device token, sent with the client's later sign-ins,
//! gives it a throttle counter of its own, so an attack on the account does not lock its
//! owner out.
//!
//! ```no_run
//! # #[derive(Debug, Clone, Copy, PartialEq, Eq, secure_core::auth::Role)]
//! # enum AppRole { Member }
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use secure_core::accounts::Accounts;
//! use secure_core::config::{Keys, SecurityConfig};
//! use secure_core::policy::SecureRouter;
//! use secure_core::sql::Database;
//!
//! let db = Database::connect("sqlite::memory:").await?;
//! db.migrate().await?;
//! let config = SecurityConfig::new().with_keys(Keys::ephemeral());
//! let accounts = Accounts::builder(db, &config, AppRole::Member).build().await?;
//! let app = SecureRouter::<()>::new()
//!     .merge(accounts.router())
//!     .into_app(config.authenticator(accounts.authenticator()))?;
//! # let _ = app;
//! # Ok(())
//! # }
//! ```

mod admin;
mod breach;
mod cookie;
mod erased;
mod issue;
mod key_routes;
mod keys;
#[cfg(feature = "oidc")]
mod linked;
mod own;
mod reset;
mod routes;
mod signin;
mod store;

use std::fmt;
use std::sync::Arc;

pub use reset::{LogNotifier, Notifier, NotifyError, RESET_LIFETIME_SECS, ResetNotice};
pub use store::{
    AccountRecord, AccountStore, Created, HookFuture, NewAccount, SignInRecord, SignedUp,
    SignupHook, SqlAccountStore,
};

use crate::auth::device::DeviceTokens;
use crate::auth::jwt::{AccessTokens, TokenConfigError};
use crate::auth::mfa::{MfaError, TotpIssuer, TotpSecret};
use crate::auth::password::PasswordHasher;
use crate::auth::refresh::{RefreshTokens, SqlRefreshTokenStore};
use crate::auth::{Authenticator, Role};
use crate::config::SecurityConfig;
use crate::crypto::DataKeys;
use crate::policy::SecureRouter;
use crate::ratelimit::RateLimiter;
use crate::redact::ExposeSecret;
use crate::session::{CsrfKey, SessionManager, SqlSessionStore};
use crate::sql::Database;

/// `iss` and `aud` of the access tokens accounts issue, unless configured.
pub const DEFAULT_TOKEN_NAME: &str = "secure-accounts";

/// The accounts of a service: its store, its token issuers, its limiter. Cheap to clone.
#[derive(Clone)]
pub struct Accounts {
    inner: Arc<Inner>,
}

struct Inner {
    store: Box<dyn erased::Store>,
    tokens: AccessTokens,
    refresh: RefreshTokens<SqlRefreshTokenStore>,
    hasher: PasswordHasher,
    limiter: Arc<RateLimiter>,
    devices: DeviceTokens,
    data_keys: DataKeys,
    /// The role wire name every signup gets.
    default_role: &'static str,
    /// Whether a stored role name is one of the app's.
    known_role: fn(&str) -> bool,
    prefix: String,
    open_signup: bool,
    totp: TotpIssuer,
    admin_role: Option<&'static str>,
    /// Bearer mode: token pairs at sign-in, refresh and sign-out routes.
    bearer: bool,
    /// Cookie mode: sessions with CSRF, when enabled.
    sessions: Option<SessionManager<SqlSessionStore>>,
    /// Password reset, when the app gave a notifier.
    notifier: Option<Arc<dyn reset::DynNotifier>>,
    /// Role wire names given only to sign-ins that presented the second factor.
    mfa_roles: Vec<&'static str>,
    /// The breached-password check of new passwords, when the app gave one.
    breached: Option<Arc<dyn breach::DynBreached>>,
    /// API keys, when the app enabled them.
    api_keys: Option<keys::KeyConfig>,
    key_cache: keys::KeyCache,
    /// Outside providers whose users are linked to accounts.
    #[cfg(feature = "oidc")]
    providers: Vec<crate::auth::oidc::OidcProvider>,
    #[cfg(feature = "oidc")]
    links: linked::LinkCache,
}

/// What the password hash of an account without a password holds (a service account, a
/// provider's user): not a PHC string, so no password verifies; sign-in and reset treat the
/// account as they treat an unknown name.
const NO_PASSWORD: &str = "!none";

/// How long an API key's record is used from memory by default.
const DEFAULT_KEY_CACHE: std::time::Duration = std::time::Duration::from_secs(30);
/// The longest a key's record may be used from memory.
const MAX_KEY_CACHE: std::time::Duration = std::time::Duration::from_secs(300);

/// How often ended refresh-token families, sessions, sign-in records and reset tokens are
/// deleted (the first time when the accounts are built).
const PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(60 * 60);

/// Deletes what has ended, every [`PURGE_EVERY`], for as long as the accounts exist: an app
/// has no timer to remember. Outside a tokio runtime there is none.
fn spawn_purge(inner: &Arc<Inner>) {
    if tokio::runtime::Handle::try_current().is_err() {
        return;
    }
    let accounts = Arc::downgrade(inner);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(PURGE_EVERY);
        loop {
            every.tick().await;
            let Some(inner) = accounts.upgrade() else {
                break;
            };
            inner.purge().await;
        }
    });
}

impl Inner {
    /// One purge; a store that fails is logged and tried again next time.
    async fn purge(&self) {
        let warn = |what: &str, e: crate::error::StoreError| {
            tracing::warn!(target: "secure::accounts", error = %e, "{what} purge failed");
        };
        if let Err(e) = self.refresh.purge_expired().await {
            warn("refresh-token", e);
        }
        if let Some(sessions) = &self.sessions
            && let Err(e) = sessions.purge_expired().await
        {
            warn("session", e);
        }
        // A sign-in record outlives its family by nothing it could serve.
        let lifetime = i64::try_from(self.refresh.family_lifetime().as_secs()).unwrap_or(i64::MAX);
        if let Err(e) = self
            .store
            .purge_sign_ins(unix_now().saturating_sub(lifetime))
            .await
        {
            warn("sign-in record", e);
        }
    }

    /// Ends every sign-in of account `id`: its refresh-token families and its sessions.
    async fn end_every_sign_in(&self, id: &str) -> Result<(), crate::error::StoreError> {
        self.refresh.revoke_subject(id).await?;
        if let Some(sessions) = &self.sessions {
            sessions.revoke_subject(id).await?;
        }
        Ok(())
    }
}

impl fmt::Debug for Accounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Accounts")
            .field("prefix", &self.inner.prefix)
            .field("default_role", &self.inner.default_role)
            .field("open_signup", &self.inner.open_signup)
            .finish_non_exhaustive()
    }
}

impl Accounts {
    /// Accounts on `db` (its tables made by [`Database::migrate`]), with the keys, limiter
    /// and hashing bound of `config`; every signup gets `default_role`.
    pub fn builder<R: Role>(
        db: Database,
        config: &SecurityConfig,
        default_role: R,
    ) -> AccountsBuilder {
        AccountsBuilder {
            store: Box::new(SqlAccountStore::new(db.clone())),
            db,
            keys: config
                .keys()
                .map(|k| (k.access_token_keys(), k.data_keys(), k.csrf_key())),
            generated_keys: config.keys().is_some_and(|k| k.is_ephemeral()),
            limiter: config.limiter(),
            hasher: PasswordHasher::new().with_limit(config.hash_limit()),
            default_role: default_role.as_str(),
            known_role: |name| R::parse(name).is_some(),
            prefix: "/auth".to_owned(),
            open_signup: true,
            token_name: DEFAULT_TOKEN_NAME,
            admin_role: None,
            bearer: true,
            cookie: false,
            notifier: None,
            mfa_roles: Vec::new(),
            breached: None,
            api_keys: None,
            access_lifetime: None,
            refresh_lifetimes: None,
            session_timeouts: None,
            #[cfg(feature = "oidc")]
            providers: Vec::new(),
        }
    }

    /// The account routes under the configured prefix, for any app state.
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> SecureRouter<S> {
        let routes = routes::routes(&self.inner).with_state(self.clone());
        SecureRouter::new().nest(&self.inner.prefix, routes)
    }

    /// The authenticator that accepts these accounts' access tokens: give it to
    /// [`SecurityConfig::authenticator`].
    pub fn authenticator(&self) -> Authenticator {
        let mut authenticator = Authenticator::new(self.inner.tokens.clone());
        if let Some(sessions) = &self.inner.sessions {
            authenticator = authenticator.with_sessions(Arc::new(sessions.clone()));
        }
        if self.inner.api_keys.is_some() {
            authenticator = authenticator.with_api_keys(Arc::new(keys::KeySource(self.clone())));
        }
        #[cfg(feature = "oidc")]
        for provider in &self.inner.providers {
            authenticator = authenticator.with_provider(Arc::new(linked::LinkedProvider {
                provider: provider.clone(),
                accounts: self.clone(),
            }));
        }
        authenticator
    }

    /// The access-token issuer (its lifetime, issuer and audience).
    pub fn tokens(&self) -> &AccessTokens {
        &self.inner.tokens
    }

    /// Creates an account with `roles` under signup's rules (the name sanitised and checked,
    /// the address checked, the password policy): an app's own way in, such as a command
    /// that makes the first administrator. Returns the new id.
    pub async fn create_account<R: Role>(
        &self,
        username: &str,
        email: &str,
        password: crate::redact::SecretString,
        roles: &[R],
    ) -> Result<AccountId, CreateAccountError> {
        let signup = crate::validate::Valid::new(routes::Signup {
            username: username.to_owned(),
            email: email.to_owned(),
            password,
        })
        .map_err(CreateAccountError::Invalid)?;
        let roles = self.known_roles(roles)?;
        routes::create(&self.inner, &signup, &roles)
            .await
            .map(AccountId)
    }

    /// The wire names of `roles`, each one the accounts know.
    fn known_roles<R: Role>(&self, roles: &[R]) -> Result<Vec<&'static str>, CreateAccountError> {
        let roles: Vec<&'static str> = roles.iter().map(|r| r.as_str()).collect();
        match roles.iter().find(|r| !(self.inner.known_role)(r)) {
            Some(unknown) => Err(CreateAccountError::UnknownRole((*unknown).to_owned())),
            None => Ok(roles),
        }
    }

    /// Creates a service account: an account for a machine, with these roles and no password
    /// (a sign-in with its name fails as an unknown name's does, and it gets no reset), whose
    /// API keys the app makes with [`issue_api_key`](Self::issue_api_key). `name` follows the
    /// user-name rules; the app's signup hook runs for it. Returns the new id.
    pub async fn create_service_account<R: Role>(
        &self,
        name: &str,
        roles: &[R],
    ) -> Result<AccountId, CreateAccountError> {
        let valid = crate::validate::Valid::new(routes::ServiceName {
            name: name.to_owned(),
        })
        .map_err(CreateAccountError::Invalid)?;
        let roles = self.known_roles(roles)?;
        let id = routes::insert(&self.inner, &valid.name, "", NO_PASSWORD, &roles).await?;
        crate::audit::emit(
            "account.service_account",
            crate::audit::Outcome::Success,
            Some(&id),
            "created",
        );
        Ok(AccountId(id))
    }

    /// Makes an API key for account `owner` (a service account, or a user's) from the app's
    /// side, as a command or an administrators' tool does: the key, to show this once. The
    /// same keys as `POST api-keys` makes; `name` 1 to 64 characters, 1 to 16 `scopes`,
    /// `expires_in_days` 1 to 365 or none.
    pub async fn issue_api_key<S: crate::auth::Scope>(
        &self,
        owner: &AccountId,
        name: &str,
        scopes: &[S],
        expires_in_days: Option<u32>,
    ) -> Result<crate::redact::SecretString, IssueKeyError> {
        let config = self.inner.api_keys.ok_or(IssueKeyError::KeysOff)?;
        let body = crate::validate::Valid::new(key_routes::NewKey {
            name: name.to_owned(),
            scopes: scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            expires_in_days,
        })
        .map_err(IssueKeyError::Invalid)?;
        if let Some(unknown) = body.scopes.iter().find(|s| !(config.known_scope)(s)) {
            return Err(IssueKeyError::UnknownScope(unknown.clone()));
        }
        if self
            .inner
            .store
            .by_id(owner.as_str())
            .await
            .map_err(IssueKeyError::Store)?
            .is_none()
        {
            return Err(IssueKeyError::NoSuchAccount);
        }
        let (key, _) = key_routes::make_key(&self.inner, config, owner.as_str(), &body)
            .await
            .map_err(IssueKeyError::Store)?;
        Ok(key)
    }

    /// Gives account `id` these roles (`false`: no such account). Its refresh-token families
    /// carry them from their next refresh (within one access-token lifetime); its cookie
    /// sessions, which hold the roles of their sign-in, end, so a demoted administrator
    /// keeps no session with the old role.
    pub async fn set_roles<R: Role>(
        &self,
        id: &AccountId,
        roles: &[R],
    ) -> Result<bool, SetRolesError> {
        let id = id.as_str();
        let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        if let Some(unknown) = roles.iter().find(|r| !(self.inner.known_role)(r)) {
            return Err(SetRolesError::UnknownRole((*unknown).to_owned()));
        }
        if !self
            .inner
            .store
            .set_roles(id, &roles)
            .await
            .map_err(SetRolesError::Store)?
        {
            return Ok(false);
        }
        self.inner.key_cache.forget_owner(id);
        if let Some(sessions) = &self.inner.sessions {
            sessions
                .revoke_subject(id)
                .await
                .map_err(SetRolesError::Store)?;
        }
        crate::audit::emit(
            "account.roles",
            crate::audit::Outcome::Success,
            Some(id),
            "set",
        );
        Ok(true)
    }

    /// Seals every stored TOTP secret (confirmed and pending) under the current data key:
    /// after `SECURE_DATA_KEY` changed, with the old key still configured as
    /// `SECURE_DATA_KEY_PREVIOUS`, so that the old key can then be dropped. Each value is
    /// replaced only if its row still holds it (a concurrent enrolment wins); safe to run
    /// again, and while the service serves.
    pub async fn reseal_secrets(&self) -> Result<Resealed, crate::error::StoreError> {
        let inner = &self.inner;
        let mut done = Resealed::default();
        for (id, sealed) in inner.store.sealed_secrets().await? {
            if !inner.data_keys.needs_reseal(&sealed) {
                done.current += 1;
                continue;
            }
            let Ok(secret) = signin::open_sealed_totp(&inner.data_keys, &id, &sealed) else {
                tracing::error!(target: "secure::accounts", subject = %id, "sealed TOTP secret opens with no configured data key");
                done.unreadable += 1;
                continue;
            };
            let resealed = seal_totp_secret(&inner.data_keys, &id, &secret);
            if inner.store.replace_sealed(&id, &sealed, &resealed).await? {
                done.resealed += 1;
            }
        }
        Ok(done)
    }
}

/// What [`Accounts::reseal_secrets`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Resealed {
    /// Secrets sealed again under the current data key.
    pub resealed: u64,
    /// Secrets already under it.
    pub current: u64,
    /// Secrets no configured key opens, left as they are: those accounts need their second
    /// factor reset (an administrator's `mfa/reset`), or the key they were sealed with.
    pub unreadable: u64,
}

/// Why [`Accounts::set_roles`] refused.
#[derive(Debug)]
#[non_exhaustive]
pub enum SetRolesError {
    /// A role the accounts were not built with.
    UnknownRole(String),
    /// The store failed.
    Store(crate::error::StoreError),
}

impl fmt::Display for SetRolesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetRolesError::UnknownRole(role) => write!(
                f,
                "role {role:?} is not a role of the type given to Accounts::builder"
            ),
            SetRolesError::Store(e) => write!(f, "store: {e}"),
        }
    }
}

impl std::error::Error for SetRolesError {}

/// Why [`Accounts::issue_api_key`] refused.
#[derive(Debug)]
#[non_exhaustive]
pub enum IssueKeyError {
    /// The accounts were built without `api_keys`.
    KeysOff,
    /// The name, scopes or lifetime broke the rules of `POST api-keys` (the fields are
    /// listed).
    Invalid(crate::validate::ValidationErrors),
    /// A scope of another type than the one `api_keys` was given.
    UnknownScope(String),
    /// No account has the owner's id.
    NoSuchAccount,
    /// The store failed.
    Store(crate::error::StoreError),
}

impl fmt::Display for IssueKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IssueKeyError::KeysOff => {
                f.write_str("API keys are not enabled (AccountsBuilder::api_keys)")
            }
            IssueKeyError::Invalid(errors) => {
                f.write_str("not accepted:")?;
                for e in errors.iter() {
                    write!(f, " {} ({})", e.field(), e.code())?;
                }
                Ok(())
            }
            IssueKeyError::UnknownScope(s) => {
                write!(f, "scope {s:?} is not one of the keys' scopes")
            }
            IssueKeyError::NoSuchAccount => f.write_str("no such account"),
            IssueKeyError::Store(e) => write!(f, "store: {e}"),
        }
    }
}

impl std::error::Error for IssueKeyError {}

/// Why [`Accounts::create_account`] or [`Accounts::create_service_account`] refused.
#[derive(Debug)]
#[non_exhaustive]
pub enum CreateAccountError {
    /// The user name or address broke signup's rules (the fields are listed).
    Invalid(crate::validate::ValidationErrors),
    /// The password broke the password rules.
    Password(crate::auth::password::PasswordError),
    /// Another account has the user name.
    Taken,
    /// A role the accounts were not built with.
    UnknownRole(String),
    /// The store failed.
    Store(crate::error::StoreError),
}

impl fmt::Display for CreateAccountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CreateAccountError::Invalid(errors) => {
                f.write_str("not accepted:")?;
                for e in errors.iter() {
                    write!(f, " {} ({})", e.field(), e.code())?;
                }
                Ok(())
            }
            CreateAccountError::Password(e) => write!(f, "password: {e}"),
            CreateAccountError::Taken => f.write_str("that user name is taken"),
            CreateAccountError::UnknownRole(role) => write!(
                f,
                "role {role:?} is not a role of the type given to Accounts::builder"
            ),
            CreateAccountError::Store(e) => write!(f, "store: {e}"),
        }
    }
}

impl std::error::Error for CreateAccountError {}

/// Why [`AccountsBuilder::build`] refused.
#[derive(Debug)]
#[non_exhaustive]
pub enum AccountsError {
    /// The configuration has no keys: `SecurityConfig::from_env` or `with_keys`.
    NoKeys,
    /// The access-token settings were refused.
    Tokens(TokenConfigError),
    /// The path prefix is not `/` followed by path segments.
    Prefix(String),
    /// The name authenticator apps show was refused.
    Totp(MfaError),
    /// A role given to the builder (`admin_role`, `mfa_required_for`) is not one of the
    /// roles accounts are built with.
    UnknownRole(&'static str),
    /// A lifetime or timeout was refused (zero).
    Lifetimes(crate::error::ConfigError),
    /// The API keys' prefix is not 2 to 16 lowercase letters or digits.
    KeyPrefix(&'static str),
    /// Neither bearer tokens nor cookie sessions: nobody could sign in.
    NoMode,
    /// A development notifier (it logs reset links) in a release build.
    DevelopmentNotifier,
    /// Secrets stored sealed do not open with the configured data keys.
    DataKeys {
        /// How many of the sample did not open.
        failed: usize,
        /// How many were sampled.
        sampled: usize,
        /// The keys were generated for this process (no `SECURE_DATA_KEY`).
        generated: bool,
    },
    /// The store could not be read for the data-key check.
    Store(crate::error::StoreError),
}

impl fmt::Display for AccountsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccountsError::NoKeys => f.write_str(
                "accounts need the configuration's keys: SecurityConfig::from_env() or with_keys(..)",
            ),
            AccountsError::Tokens(e) => write!(f, "accounts' access tokens: {e}"),
            AccountsError::Totp(e) => write!(f, "accounts' TOTP issuer name: {e}"),
            AccountsError::DataKeys {
                failed,
                sampled,
                generated: true,
            } => write!(
                f,
                "{failed} of {sampled} sealed secrets sampled from the accounts do not open: this run's keys were generated (no SECURE_DATA_KEY), \
                 and an earlier run sealed them with its own; set SECURE_DATA_KEY (and keep it), or start on a new database"
            ),
            AccountsError::DataKeys {
                failed, sampled, ..
            } => write!(
                f,
                "{failed} of {sampled} sealed secrets sampled from the accounts do not open with the configured data keys: \
                 the data key changed without the previous one; set SECURE_DATA_KEY_PREVIOUS to the key they were sealed with"
            ),
            AccountsError::Store(e) => write!(f, "accounts' store, read for the data-key check: {e}"),
            AccountsError::DevelopmentNotifier => f.write_str(
                "accounts' password reset uses a development notifier (it logs reset links) in a release build: give it the app's Notifier",
            ),
            AccountsError::NoMode => f.write_str(
                "accounts with neither bearer tokens nor cookie sessions: enable one (bearer_tokens, cookie_sessions)",
            ),
            AccountsError::UnknownRole(role) => write!(
                f,
                "accounts' role {role:?} (admin_role, mfa_required_for) is not a role of the type given to Accounts::builder"
            ),
            AccountsError::Lifetimes(e) => write!(f, "accounts' lifetimes: {e}"),
            AccountsError::KeyPrefix(prefix) => write!(
                f,
                "accounts' API key prefix {prefix:?} must be 2 to 16 lowercase letters or digits"
            ),
            AccountsError::Prefix(p) => write!(
                f,
                "accounts' path prefix {p:?} must start with `/` and not end with one"
            ),
        }
    }
}

impl std::error::Error for AccountsError {}

/// The settings of [`Accounts`], from [`Accounts::builder`].
pub struct AccountsBuilder {
    store: Box<dyn erased::Store>,
    db: Database,
    keys: Option<(crate::config::AccessTokenKeys, DataKeys, CsrfKey)>,
    /// Keys generated for this process: what an earlier one sealed cannot open.
    generated_keys: bool,
    limiter: Arc<RateLimiter>,
    hasher: PasswordHasher,
    default_role: &'static str,
    known_role: fn(&str) -> bool,
    prefix: String,
    open_signup: bool,
    token_name: &'static str,
    admin_role: Option<&'static str>,
    bearer: bool,
    cookie: bool,
    notifier: Option<Arc<dyn reset::DynNotifier>>,
    mfa_roles: Vec<&'static str>,
    breached: Option<Arc<dyn breach::DynBreached>>,
    api_keys: Option<keys::KeyConfig>,
    access_lifetime: Option<std::time::Duration>,
    refresh_lifetimes: Option<(std::time::Duration, std::time::Duration)>,
    session_timeouts: Option<(std::time::Duration, std::time::Duration)>,
    #[cfg(feature = "oidc")]
    providers: Vec<crate::auth::oidc::OidcProvider>,
}

impl fmt::Debug for AccountsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountsBuilder")
            .field("prefix", &self.prefix)
            .field("default_role", &self.default_role)
            .finish_non_exhaustive()
    }
}

impl AccountsBuilder {
    /// Another store than [`SqlAccountStore`] on the builder's database: an app's own users
    /// table behind [`AccountStore`].
    pub fn store(mut self, store: impl AccountStore) -> Self {
        self.store = Box::new(store);
        self
    }

    /// The path the routes are under (default `/auth`).
    pub fn prefix(mut self, prefix: &str) -> Self {
        prefix.clone_into(&mut self.prefix);
        self
    }

    /// Whether anyone may sign up (default `true`). Closed: the signup route is not served
    /// (accounts are made by the app, such as an administrator's command).
    pub fn open_signup(mut self, open: bool) -> Self {
        self.open_signup = open;
        self
    }

    /// Argon2id parameters other than OWASP's (tests pass cheaper ones); the configuration's
    /// bound on hashes at once still applies.
    pub fn password_hasher(mut self, hasher: PasswordHasher) -> Self {
        let limit = self.hasher.limit();
        self.hasher = hasher.with_limit(limit);
        self
    }

    /// Bearer mode (default on): `sign-in`, `refresh` and `sign-out` answer and take token
    /// pairs.
    pub fn bearer_tokens(mut self, on: bool) -> Self {
        self.bearer = on;
        self
    }

    /// Cookie mode (default off): `session/sign-in` opens a `__Host-session` cookie session
    /// (a new id at every sign-in, CSRF on unsafe requests) and `session/sign-out` ends it;
    /// credential changes by a cookie caller renew its session and end every other.
    pub fn cookie_sessions(mut self, on: bool) -> Self {
        self.cookie = on;
        self
    }

    /// Password reset through `notifier` (which delivers the link to the owner): serves
    /// `password-reset` and `password-reset/confirm`. Without it they are not served.
    /// [`LogNotifier`] only in a debug build: a release build refuses to start with it.
    pub fn password_reset(mut self, notifier: impl Notifier) -> Self {
        self.notifier = Some(Arc::new(notifier));
        self
    }

    /// The role of the administrators: it serves
    /// `POST {prefix}/admin/accounts/{id}/mfa/reset` to callers holding it (with a second
    /// factor and a fresh sign-in). Without it that route is not served.
    pub fn admin_role<R: Role>(mut self, role: R) -> Self {
        self.admin_role = Some(role.as_str());
        self
    }

    /// `iss` and `aud` of the access tokens, and the issuer authenticator apps show (default
    /// [`DEFAULT_TOKEN_NAME`]).
    pub fn token_name(mut self, name: &'static str) -> Self {
        self.token_name = name;
        self
    }

    /// Roles a sign-in gets only when it presented the second factor: an account holding one
    /// signs in without it as if it lacked the role (it can still enrol), so no route that
    /// names the role, with `mfa` declared or not, is reached on a password alone.
    pub fn mfa_required_for<R: Role>(mut self, roles: &[R]) -> Self {
        self.mfa_roles = roles.iter().map(|r| r.as_str()).collect();
        self
    }

    /// Checks every new password (signup, change, reset) against breached or common ones
    /// (ASVS 2.1.7): 422 `breached` on the password; 503 when the check cannot run. Without
    /// it only the length rules apply.
    pub fn breached_passwords(
        mut self,
        check: impl crate::auth::password::BreachedPasswords + 'static,
    ) -> Self {
        self.breached = Some(Arc::new(check));
        self
    }

    /// API keys for machine clients, scoped by the app's `S`: serves `api-keys` (create,
    /// shown once; list; revoke) to signed-in users, and the authenticator accepts
    /// `Authorization: Bearer <prefix>_<random>_<checksum>` as the owner with the key's scopes,
    /// on routes that declare one of them (`scopes(..)`); account routes declare none, so a key
    /// never reaches them. `prefix` is 2 to 16 lowercase letters or digits.
    pub fn api_keys<S: crate::auth::Scope>(mut self, prefix: &'static str) -> Self {
        self.api_keys = Some(keys::KeyConfig {
            prefix,
            known_scope: |name| S::parse(name).is_some(),
            rate: crate::ratelimit::Rate {
                count: 600,
                period_secs: 60,
            },
            cache_for: DEFAULT_KEY_CACHE,
        });
        self
    }

    /// Also accepts the access tokens of an outside OpenID Connect provider (feature `oidc`):
    /// each of its users is linked to an account of its own at the first request
    /// (`issuer#sub` as its name, no password), so the app's rows belong to them as to any
    /// account. Such a token acts as a scoped credential: it reaches the routes declaring one
    /// of its scopes, never the account routes; its roles are the provider's, mapped, a role
    /// of [`mfa_required_for`](Self::mfa_required_for) only with a second factor.
    #[cfg(feature = "oidc")]
    pub fn provider(mut self, provider: crate::auth::oidc::OidcProvider) -> Self {
        self.providers.push(provider);
        self
    }

    /// How many requests each API key may make (default 600 a minute), on the limiter's
    /// store: a key over it gets 429 with `Retry-After`. Give it after `api_keys`.
    pub fn api_key_rate(mut self, rate: crate::ratelimit::Rate) -> Self {
        if let Some(config) = &mut self.api_keys {
            config.rate = rate;
        }
        self
    }

    /// How long a key's record is used from memory instead of the store (default 30 s, at
    /// most 5 minutes; zero reads the store on every request). A revocation, or a change of
    /// the owner's roles, made on this instance applies at once; made on another instance, it
    /// applies here within this time (as a role change reaches access tokens within their
    /// lifetime). Give it after `api_keys`.
    pub fn api_key_cache(mut self, ttl: std::time::Duration) -> Self {
        if let Some(config) = &mut self.api_keys {
            config.cache_for = ttl.min(MAX_KEY_CACHE);
        }
        self
    }

    /// The access tokens' lifetime (default 15 minutes, at most an hour): how long a demoted
    /// role or a revoked family's last token lives.
    pub fn access_token_lifetime(mut self, lifetime: std::time::Duration) -> Self {
        self.access_lifetime = Some(lifetime);
        self
    }

    /// A refresh token's lifetime and its family's absolute one (defaults: 14 and 30 days).
    pub fn refresh_lifetimes(
        mut self,
        token: std::time::Duration,
        family: std::time::Duration,
    ) -> Self {
        self.refresh_lifetimes = Some((token, family));
        self
    }

    /// A cookie session's idle and absolute timeouts (the session manager's defaults
    /// otherwise).
    pub fn session_timeouts(
        mut self,
        idle: std::time::Duration,
        absolute: std::time::Duration,
    ) -> Self {
        self.session_timeouts = Some((idle, absolute));
        self
    }

    /// The accounts, or what the configuration lacks. Also checks that the configured data
    /// keys open a sample of the secrets stored sealed (a changed `SECURE_DATA_KEY` without
    /// `SECURE_DATA_KEY_PREVIOUS` stops start-up here, not each user's next sign-in), and,
    /// inside a tokio runtime, starts the hourly purge of ended refresh-token families,
    /// sessions, sign-in records and reset tokens (it stops when the accounts are dropped).
    pub async fn build(self) -> Result<Accounts, AccountsError> {
        let (access_key, data_keys, csrf_key) = self.keys.ok_or(AccountsError::NoKeys)?;
        if !self.bearer && !self.cookie {
            return Err(AccountsError::NoMode);
        }
        if let Some(notifier) = &self.notifier
            && !reset::allowed(notifier.development_only(), !cfg!(debug_assertions))
        {
            return Err(AccountsError::DevelopmentNotifier);
        }
        let prefix_ok = self.prefix.starts_with('/')
            && self.prefix.len() > 1
            && !self.prefix.ends_with('/')
            && !self.prefix.contains(['{', '}', '*']);
        if !prefix_ok {
            return Err(AccountsError::Prefix(self.prefix));
        }
        if let Some(role) = self
            .admin_role
            .iter()
            .chain(&self.mfa_roles)
            .find(|r| !(self.known_role)(r))
        {
            return Err(AccountsError::UnknownRole(role));
        }
        if let Some(config) = self.api_keys {
            let ok = (2..=16).contains(&config.prefix.len())
                && config
                    .prefix
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
            if !ok {
                return Err(AccountsError::KeyPrefix(config.prefix));
            }
        }
        let totp = TotpIssuer::new(self.token_name).map_err(AccountsError::Totp)?;
        let mut tokens = access_key.builder(self.token_name, self.token_name);
        if let Some(lifetime) = self.access_lifetime {
            tokens = tokens.lifetime(lifetime);
        }
        let tokens = tokens.build().map_err(AccountsError::Tokens)?;
        let mut refresh = RefreshTokens::new(SqlRefreshTokenStore::new(self.db.clone()));
        if let Some((token, family)) = self.refresh_lifetimes {
            refresh = refresh
                .with_lifetimes(token, family)
                .map_err(AccountsError::Lifetimes)?;
        }
        let sessions = match (self.cookie, self.session_timeouts) {
            (false, _) => None,
            (true, None) => Some(SessionManager::new(SqlSessionStore::new(self.db), csrf_key)),
            (true, Some((idle, absolute))) => Some(
                SessionManager::new(SqlSessionStore::new(self.db), csrf_key)
                    .with_timeouts(idle, absolute)
                    .map_err(AccountsError::Lifetimes)?,
            ),
        };
        check_data_keys(self.store.as_ref(), &data_keys, self.generated_keys).await?;
        let accounts = Accounts {
            inner: Arc::new(Inner {
                store: self.store,
                tokens,
                refresh,
                bearer: self.bearer,
                sessions,
                notifier: self.notifier,
                hasher: self.hasher,
                limiter: self.limiter,
                devices: DeviceTokens::new(data_keys.clone()),
                data_keys,
                default_role: self.default_role,
                known_role: self.known_role,
                prefix: self.prefix,
                open_signup: self.open_signup,
                totp,
                admin_role: self.admin_role,
                mfa_roles: self.mfa_roles,
                breached: self.breached,
                api_keys: self.api_keys,
                key_cache: keys::KeyCache::default(),
                #[cfg(feature = "oidc")]
                providers: self.providers,
                #[cfg(feature = "oidc")]
                links: linked::LinkCache::default(),
            }),
        };
        spawn_purge(&accounts.inner);
        Ok(accounts)
    }
}

/// Opens a sample of the stored sealed secrets with `keys`: all must open.
async fn check_data_keys(
    store: &dyn erased::Store,
    keys: &DataKeys,
    generated: bool,
) -> Result<(), AccountsError> {
    let sample = store.sealed_sample().await.map_err(AccountsError::Store)?;
    let failed = sample
        .iter()
        .filter(|(id, sealed)| keys.open(&signin::totp_context(id), sealed).is_err())
        .count();
    if failed > 0 {
        return Err(AccountsError::DataKeys {
            failed,
            sampled: sample.len(),
            generated,
        });
    }
    Ok(())
}

/// An account's id, its tokens' subject: 22 base64url characters (16 random bytes, from
/// [`new_id`]), so an id seen says nothing about the others. A type of its own, so that an
/// account id is not taken for a note's or a string from anywhere.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AccountId(String);

impl AccountId {
    /// `text`, when it has the form of an account id (whether an account has it is the
    /// store's to say).
    ///
    /// ```
    /// use secure_core::accounts::{AccountId, new_id};
    ///
    /// let id = new_id();
    /// assert_eq!(AccountId::parse(&id).map(|a| a.to_string()), Some(id));
    /// assert!(AccountId::parse("1 OR 1=1").is_none());
    /// assert!(AccountId::parse("AAAAAAAAAAAAAAAAAAAAA=").is_none());
    /// ```
    pub fn parse(text: &str) -> Option<Self> {
        let well_formed = text.len() == 22
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        well_formed.then(|| AccountId(text.to_owned()))
    }

    /// The account a caller signed in as with these accounts' tokens or sessions (`None` for
    /// a subject of another form, such as another issuer's).
    pub fn of<R: Role>(caller: &crate::auth::Principal<R>) -> Option<Self> {
        Self::parse(caller.subject())
    }

    /// The id as stored and as the tokens' `sub`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({})", self.0)
    }
}

/// A new account id: 16 random bytes, base64url (22 characters), so an id seen says nothing
/// about the others.
pub fn new_id() -> String {
    crate::auth::refresh::opaque::identifier()
}

/// A TOTP secret sealed for `user_id`'s row (`totp_secret`): with the service's data key,
/// bound to this purpose and this account, so a value copied to another row does not open.
/// Sign-in reads only sealed secrets.
pub fn seal_totp_secret(keys: &DataKeys, user_id: &str, secret: &TotpSecret) -> String {
    keys.seal(
        &signin::totp_context(user_id),
        secret.to_base32().expose_secret().as_bytes(),
    )
}

/// Seconds since the Unix epoch, on the clock the refresh tokens use.
fn unix_now() -> i64 {
    use crate::auth::refresh::Clock as _;
    crate::auth::refresh::SystemClock.now()
}
