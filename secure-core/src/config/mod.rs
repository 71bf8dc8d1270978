//! [`SecurityConfig`]: what [`SecureRouter::into_app`](crate::policy::SecureRouter::into_app) puts in
//! front of the handlers, built in code or read from `SECURE_*` variables
//! ([`SecurityConfig::from_env`]).

mod env;
mod keys;

use std::sync::Arc;
use std::time::Duration;

pub use env::{Profile, VARIABLES};
#[cfg(feature = "accounts")]
pub(crate) use keys::AccessTokenKeys;
pub use keys::{Keys, MIN_KEY_BYTES};

use crate::auth::Authenticator;
use crate::auth::password::HashLimit;
pub use crate::error::ConfigError;
use crate::http::client::ClientAddresses;
use crate::http::connection::ConnectionLimits;
use crate::http::cors::CorsConfig;
use crate::http::headers::SecurityHeaders;
use crate::ratelimit::RateLimiter;

/// The default request body limit: 64 KiB (JSON APIs rarely need more; larger bodies are a
/// denial-of-service lever, OWASP API4). Override per route with `body_limit = ".."`.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// The default time a request may take, body upload and handler together: 30 s. A slow
/// client (slowloris) or a stuck handler holds a connection and memory until then; after it
/// the request is answered 408 and its work dropped.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

use crate::extract::DEFAULT_JSON_MAX_DEPTH;

/// The security stack's settings.
///
/// ```
/// use secure_core::config::SecurityConfig;
///
/// let config = SecurityConfig::new().body_limit(16 * 1024);
/// assert_eq!(config.body_limit_bytes(), 16 * 1024);
/// ```
#[derive(Debug)]
pub struct SecurityConfig {
    pub(crate) authenticator: Option<Authenticator>,
    pub(crate) rate_limiter: Arc<RateLimiter>,
    pub(crate) clients: Arc<ClientAddresses>,
    pub(crate) body_limit: usize,
    pub(crate) headers: SecurityHeaders,
    pub(crate) cors: Option<CorsConfig>,
    pub(crate) request_timeout: Option<Duration>,
    pub(crate) json_max_depth: usize,
    pub(crate) keys: Option<Keys>,
    pub(crate) hash_limit: HashLimit,
    pub(crate) connections: ConnectionLimits,
    pub(crate) oidc: Option<OidcSettings>,
}

/// An outside provider as `SECURE_OIDC_*` name it (see
/// [`SecurityConfig::oidc_provider`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OidcSettings {
    pub(crate) issuer: String,
    pub(crate) audience: String,
    pub(crate) roles_claim: Vec<String>,
    /// Provider role name, app role wire name.
    pub(crate) roles: Vec<(String, String)>,
    pub(crate) mfa_acr: Vec<String>,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl SecurityConfig {
    /// Defaults: no authenticator (every `auth` route answers 500 and logs why), an in-memory
    /// rate limiter, 64 KiB bodies, a 30 s request timeout, JSON nested at most 32 deep, the
    /// API security headers ([`SecurityHeaders::api`]), no CORS (same-origin only) and no
    /// keys.
    pub fn new() -> Self {
        SecurityConfig {
            authenticator: None,
            rate_limiter: Arc::new(RateLimiter::new()),
            clients: Arc::new(ClientAddresses::new()),
            body_limit: DEFAULT_BODY_LIMIT,
            headers: SecurityHeaders::api(),
            cors: None,
            request_timeout: Some(DEFAULT_REQUEST_TIMEOUT),
            json_max_depth: DEFAULT_JSON_MAX_DEPTH,
            keys: None,
            hash_limit: HashLimit::default(),
            connections: ConnectionLimits::new(),
            oidc: None,
        }
    }

    /// How many password hashes run at once and how long a login waits for a turn (default
    /// [`HashLimit::default`]: one per CPU, one second). Give it to the hasher:
    /// `PasswordHasher::new().with_limit(config.hash_limit())`.
    pub fn hash_limit(&self) -> HashLimit {
        self.hash_limit
    }

    /// Sets [`hash_limit`](SecurityConfig::hash_limit).
    pub fn with_hash_limit(mut self, limit: HashLimit) -> Self {
        self.hash_limit = limit;
        self
    }

    /// The keys read by [`from_env`](SecurityConfig::from_env) (or set with
    /// [`with_keys`](SecurityConfig::with_keys)): build the access tokens and the session
    /// manager from them.
    pub fn keys(&self) -> Option<&Keys> {
        self.keys.as_ref()
    }

    /// The outside OpenID Connect provider `SECURE_OIDC_*` configure, if they do: its
    /// builder, with the role mapping of `SECURE_OIDC_ROLES` checked against the app's roles
    /// `R` (an unknown app role is an error). Discover it (`.discover().await`) and give it
    /// to the authenticator, or to the accounts (`AccountsBuilder::provider`).
    ///
    /// ```
    /// use secure_core::auth::Role;
    /// use secure_core::config::{Profile, SecurityConfig};
    ///
    /// #[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
    /// enum AppRole { Admin }
    ///
    /// let config = SecurityConfig::from_vars(
    ///     [
    ///         ("SECURE_OIDC_ISSUER", "https://id.example/realms/notes"),
    ///         ("SECURE_OIDC_AUDIENCE", "notes-api"),
    ///         ("SECURE_OIDC_ROLES_CLAIM", "realm_access.roles"),
    ///         ("SECURE_OIDC_ROLES", "notes-admin=admin"),
    ///     ],
    ///     Profile::Debug,
    /// )
    /// .unwrap();
    /// assert!(config.oidc_provider::<AppRole>().unwrap().is_ok());
    /// ```
    #[cfg(feature = "oidc")]
    pub fn oidc_provider<R: crate::auth::Role>(
        &self,
    ) -> Option<Result<crate::auth::oidc::OidcProviderBuilder, crate::auth::oidc::OidcConfigError>>
    {
        let settings = self.oidc.as_ref()?;
        let mut builder =
            crate::auth::oidc::OidcProvider::builder(&settings.issuer, &settings.audience)
                .roles_claim(settings.roles_claim.iter().cloned());
        for (from, to) in &settings.roles {
            let Some(role) = R::parse(to) else {
                return Some(Err(crate::auth::oidc::OidcConfigError::UnknownRole(
                    to.clone(),
                )));
            };
            builder = builder.role(from.clone(), role);
        }
        for acr in &settings.mfa_acr {
            builder = builder.mfa_acr(acr.clone());
        }
        Some(Ok(builder))
    }

    /// Uses `keys` (see [`keys`](SecurityConfig::keys)).
    pub fn with_keys(mut self, keys: Keys) -> Self {
        self.keys = Some(keys);
        self
    }

    /// How long a request may take, body upload and handler together, before it is answered
    /// 408 (default [`DEFAULT_REQUEST_TIMEOUT`]).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = Some(timeout);
        self
    }

    /// No request timeout: for routes that stream on purpose. Slow clients then hold
    /// connections for as long as they like; put a proxy timeout in front.
    pub fn without_request_timeout(mut self) -> Self {
        self.request_timeout = None;
        self
    }

    /// The request timeout, if any.
    pub fn request_timeout_duration(&self) -> Option<Duration> {
        self.request_timeout
    }

    /// How deep JSON bodies may nest arrays and objects (default [`DEFAULT_JSON_MAX_DEPTH`],
    /// at most [`MAX_JSON_DEPTH`](crate::extract::MAX_JSON_DEPTH)); deeper bodies answer 400.
    pub fn json_max_depth(mut self, depth: usize) -> Self {
        self.json_max_depth = depth.clamp(1, crate::extract::MAX_JSON_DEPTH);
        self
    }

    /// The JSON nesting limit.
    pub fn json_max_depth_levels(&self) -> usize {
        self.json_max_depth
    }

    /// The security headers set on every response (default: [`SecurityHeaders::api`]).
    pub fn security_headers(mut self, headers: SecurityHeaders) -> Self {
        self.headers = headers;
        self
    }

    /// Lets the origins of `cors` call the API from browsers. Without it there is no CORS
    /// layer at all: browsers allow same-origin calls only.
    pub fn cors(mut self, cors: CorsConfig) -> Self {
        self.cors = Some(cors);
        self
    }

    /// How `auth` routes authenticate callers.
    pub fn authenticator(mut self, authenticator: Authenticator) -> Self {
        self.authenticator = Some(authenticator);
        self
    }

    /// The rate limiter: the per-IP default limit, the per-account throttle, a shared store.
    pub fn rate_limiter(mut self, limiter: RateLimiter) -> Self {
        self.rate_limiter = Arc::new(limiter);
        self
    }

    /// How client addresses are found: trusted proxies and their header, IPv6 grouping
    /// (default [`ClientAddresses::new`]: the socket peer, /56). The rate limits, the
    /// connection cap per address and the audit events all count this client.
    pub fn client_addresses(mut self, clients: ClientAddresses) -> Self {
        self.clients = Arc::new(clients);
        self
    }

    /// The limiter the app will use (a shared handle): put it in the app state for handlers
    /// that count on their own, such as a login's per-account throttle
    /// ([`RateLimiter::account_attempt`]). The same counters, the same store.
    pub fn limiter(&self) -> Arc<RateLimiter> {
        Arc::clone(&self.rate_limiter)
    }

    /// The limits on connections [`serve`](crate::serve::serve) applies: header read and idle
    /// timeouts, connections per client address and in all (default
    /// [`ConnectionLimits::new`]).
    pub fn connection_limits(mut self, limits: ConnectionLimits) -> Self {
        self.connections = limits;
        self
    }

    /// The connection limits.
    pub fn connections(&self) -> ConnectionLimits {
        self.connections
    }

    /// The body limit of routes without their own `body_limit`.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// The body limit of routes without their own.
    pub fn body_limit_bytes(&self) -> usize {
        self.body_limit
    }
}
