//! Access tokens of an outside OpenID Connect provider (Keycloak, Auth0, Entra ID, Okta, Dex):
//! this service as a resource server, beside or instead of its own tokens.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use secure_core::auth::Authenticator;
//! use secure_core::auth::oidc::OidcProvider;
//! # #[derive(Debug, Clone, Copy, PartialEq, Eq, secure_core::auth::Role)]
//! # enum AppRole { Admin }
//!
//! let keycloak = OidcProvider::builder("https://id.example/realms/notes", "notes-api")
//!     .roles_claim(["realm_access", "roles"])
//!     .role("notes-admin", AppRole::Admin)
//!     .discover()
//!     .await?;
//! let auth = Authenticator::from_provider(Arc::new(keycloak));
//! # let _ = auth; Ok(()) }
//! ```
//!
//! What is pinned and what is trusted:
//! * **The issuer.** Discovery (`{issuer}/.well-known/openid-configuration`) must name exactly
//!   the configured issuer, or the provider is refused (at start-up when it answers then, and
//!   never used otherwise). Its `jwks_uri` is the one place keys come from: https only (plain
//!   http only to a loopback address), no redirects, no proxy from the environment, bodies of
//!   at most 256 KiB, 5 s per request; certificates are checked against the platform's roots.
//! * **Each key's algorithm.** Every key of the set is pinned to one algorithm of the
//!   allowlist RS256, PS256, ES256, EdDSA (never HS*, never `none`); a token's `alg` and `kid`
//!   choose only among keys pinned to that algorithm. Keys of other types, other algorithms,
//!   for encryption, or too weak (RSA under 2048 bits) are skipped, never fatal. A token
//!   naming its own key (`jwk`, `jku`, `x5u`, `x5c`) is refused; nothing is fetched because of
//!   a token, except the provider's own set when a `kid` is unknown, at most once per
//!   [`refresh_interval`](OidcProviderBuilder::refresh_interval) (a flood of made-up `kid`s
//!   causes one fetch).
//! * **The claims**, as for the service's own tokens: `iss`, `aud` (the configured audience),
//!   `exp` required; `nbf`, `iat`, `auth_time` not in the future; leeway at most 30 s; each
//!   claim at most once. The subject is the issuer and `sub` (`{issuer}#{sub}`), so two
//!   providers, or a provider and the service's own accounts, never share a user.
//! * **What the token grants**: roles only through the configured mapping (a provider name
//!   maps to one of the app's [`Role`]s; unmapped names are dropped), scopes from `scope` or
//!   `scp` (a token with scopes reaches only routes declaring one, as an API key), a second
//!   factor from `amr` (`mfa`, `otp`) or a configured `acr`, the sign-in time from
//!   `auth_time` (none: never fresh).
//!
//! A compromised provider (or its signing key) can sign in as any of its users with any
//! mapped role: that is what trusting it means. It cannot reach the service's own accounts
//! (different subjects), choose an algorithm or key the set does not pin, or make the service
//! fetch from anywhere but its `jwks_uri`.
//!
//! Keys are cached for the answer's `max-age` (between 1 minute and 1 hour, 5 minutes when it
//! says nothing) and refreshed in the background; a failed refresh keeps the keys it has.
//! When the provider is down at start-up, start-up goes on: requests with its tokens get a
//! fast 503 until its keys are known, retried in the background.

mod claims;
mod fetch;
mod jwks;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant, SystemTime};

use jsonwebtoken::Algorithm;
use reqwest::Url;
use serde::Deserialize;

use super::authenticator::ProviderTokens;
use super::identity::{Amr, Identity};
use super::jwt::header::{self, Origin};
use super::jwt::object::Text;
use super::jwt::{MAX_LEEWAY_SECS, PayloadBuf, TokenError, compact_parts};
use super::rejection::AuthError;
use super::role::Role;
use crate::audit::{self, Outcome};
use claims::ProviderClaims;
use jwks::ProviderKey;

/// Default least time between two fetches of the key set for an unknown `kid`.
pub const DEFAULT_REFRESH_INTERVAL: Duration = Duration::from_secs(30);
/// Shortest and longest time the key set is cached, whatever the provider's answer says.
const CACHE_BOUNDS: (Duration, Duration) = (Duration::from_secs(60), Duration::from_secs(3600));
/// How long the key set is cached when the answer does not say.
const DEFAULT_CACHE: Duration = Duration::from_secs(300);
/// Retry delays while the provider cannot be reached: doubling from the first to the last.
const RETRY: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(30));

/// A misconfigured provider: refused at start-up.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum OidcConfigError {
    /// The issuer is not an https URL (or http to a loopback address) without query or
    /// fragment.
    #[error("the issuer must be an https URL without query or fragment (http only to loopback)")]
    Issuer,
    /// The audience is empty.
    #[error("the audience must not be empty")]
    Audience,
    /// More than 30 s of leeway.
    #[error("clock leeway is at most {MAX_LEEWAY_SECS} s")]
    Leeway,
    /// A refresh interval under 1 s.
    #[error("the refresh interval is at least 1 s")]
    RefreshInterval,
    /// `SECURE_OIDC_ROLES` maps to a role the app does not have.
    #[error("SECURE_OIDC_ROLES: `{0}` is not one of the app's roles")]
    UnknownRole(String),
    /// The role claim is empty or one of the claims the rules read themselves.
    #[error("the role claim must be a non-standard claim")]
    RoleClaim,
    /// The provider's discovery document names another issuer.
    #[error("the provider's discovery document names issuer {found:?}, not the configured one")]
    IssuerMismatch {
        /// The issuer the document names.
        found: String,
    },
    /// Keys given by configuration ([`OidcProviderBuilder::with_keys`]) hold no usable key.
    #[error("the key set holds no key usable for RS256, PS256, ES256 or EdDSA signatures")]
    NoUsableKey,
    /// The HTTP client could not be built (no certificate roots on this platform, say).
    #[error("HTTP client: {0}")]
    Client(String),
}

/// An outside provider's tokens, verified with its published keys. Give it to the
/// [`Authenticator`](super::Authenticator) ([`from_provider`](super::Authenticator::from_provider),
/// [`with_provider`](super::Authenticator::with_provider)). Cheap to clone.
#[derive(Clone)]
pub struct OidcProvider {
    inner: Arc<Inner>,
}

/// Configures an [`OidcProvider`]; see [`OidcProvider::builder`].
#[must_use = "call .discover().await to get the OidcProvider"]
pub struct OidcProviderBuilder {
    issuer: String,
    audience: String,
    leeway: Duration,
    refresh_interval: Duration,
    roles_claim: Vec<String>,
    role_map: Vec<(String, &'static str)>,
    mfa_acr: Vec<String>,
    client: Option<reqwest::Client>,
}

struct Inner {
    issuer: String,
    audience: String,
    leeway: u64,
    refresh_interval: Duration,
    roles_claim: Vec<String>,
    role_map: Vec<(String, &'static str)>,
    mfa_acr: Vec<String>,
    /// `None` for keys given by configuration: nothing is fetched.
    client: Option<reqwest::Client>,
    /// The discovered `jwks_uri`, once discovery has succeeded.
    jwks_uri: RwLock<Option<Url>>,
    keys: RwLock<Option<Arc<KeySet>>>,
    /// When a token's unknown `kid` last caused a fetch.
    last_unknown_kid_fetch: Mutex<Option<Instant>>,
    /// One fetch at a time.
    fetching: tokio::sync::Mutex<()>,
    fetches: AtomicU64,
}

struct KeySet {
    keys: Vec<ProviderKey>,
    expires: Instant,
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

/// Why a refresh failed: logged, and for start-up, a mismatch refuses the provider.
#[derive(Debug)]
enum RefreshError {
    Mismatch(String),
    Other(String),
}

impl OidcProvider {
    /// Starts a configuration: the provider's issuer (exactly as its tokens' `iss`) and the
    /// audience this service accepts (`aud`).
    pub fn builder(issuer: impl Into<String>, audience: impl Into<String>) -> OidcProviderBuilder {
        OidcProviderBuilder {
            issuer: issuer.into(),
            audience: audience.into(),
            leeway: super::jwt::DEFAULT_LEEWAY,
            refresh_interval: DEFAULT_REFRESH_INTERVAL,
            roles_claim: Vec::new(),
            role_map: Vec::new(),
            mfa_acr: Vec::new(),
            client: None,
        }
    }

    /// The configured issuer.
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// Whether the provider's keys are known (until then, its tokens get a 503).
    pub fn keys_known(&self) -> bool {
        self.inner.current().is_some()
    }

    /// How many times the key set has been fetched: for monitoring, and for tests that show
    /// made-up `kid`s cause no flood of fetches.
    pub fn jwks_fetches(&self) -> u64 {
        self.inner.fetches.load(Ordering::Relaxed)
    }

    /// Verifies a token of this provider and gives the identity it carries. Never panics,
    /// whatever `token` holds.
    ///
    /// `Err(None)`: the provider's keys are not known yet (a 503); `Err(Some(e))`: refused.
    pub async fn verify(&self, token: &str) -> Result<Identity, Option<TokenError>> {
        let inner = &self.inner;
        let (head, payload, signature) = compact_parts(token).map_err(Some)?;
        let (alg, kid) = header::inspect(head, Origin::Provider, |alg, kid| {
            let alg = jwks::allowed(alg).ok_or(TokenError::Algorithm)?;
            Ok((alg, kid.map(str::to_owned)))
        })
        .map_err(Some)?;
        let message = &token.as_bytes()[..head.len() + 1 + payload.len()];
        let mut keys = inner.current().ok_or(None)?;
        if let Some(kid) = &kid
            && !keys.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
        {
            inner.refresh_for_unknown_kid().await;
            keys = inner.current().ok_or(None)?;
        }
        let verified = keys.verify(alg, kid.as_deref(), signature, message)?;
        if !verified {
            return Err(Some(TokenError::Signature));
        }
        let mut buf = PayloadBuf::default();
        let json = buf.decode(payload).map_err(Some)?;
        let claims = ProviderClaims::from_json(json, inner.roles_claim.first().map(String::as_str))
            .map_err(|_| Some(TokenError::Claims))?;
        inner.identity(claims).map_err(Some)
    }
}

impl KeySet {
    /// Whether a key pinned to `alg` (the one `kid` names, or any without one) signed
    /// `message`. A `kid` naming a key of another algorithm is refused.
    fn verify(
        &self,
        alg: Algorithm,
        kid: Option<&str>,
        signature: &str,
        message: &[u8],
    ) -> Result<bool, Option<TokenError>> {
        let mut candidates = self
            .keys
            .iter()
            .filter(|k| kid.is_none_or(|kid| k.kid.as_deref() == Some(kid)))
            .peekable();
        if candidates.peek().is_none() {
            return Err(Some(TokenError::Header));
        }
        let mut pinned = candidates.filter(|k| k.alg == alg).peekable();
        if pinned.peek().is_none() {
            return Err(Some(TokenError::Algorithm));
        }
        for key in pinned {
            match jsonwebtoken::crypto::verify(signature, message, &key.decoding, alg) {
                Ok(true) => return Ok(true),
                Ok(false) => {}
                Err(_) => return Err(Some(TokenError::Malformed)),
            }
        }
        Ok(false)
    }
}

impl Inner {
    fn current(&self) -> Option<Arc<KeySet>> {
        self.keys.read().ok().and_then(|k| k.clone())
    }

    /// The claim rules, then the identity the claims carry.
    fn identity(&self, c: ProviderClaims<'_>) -> Result<Identity, TokenError> {
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let earliest = now.saturating_sub_unsigned(self.leeway);
        let latest = now.saturating_add_unsigned(self.leeway);
        let exp = c.exp.ok_or(TokenError::Claims)?;
        if exp < earliest {
            return Err(TokenError::Expired);
        }
        if [c.nbf, c.iat, c.auth_time]
            .iter()
            .any(|t| t.is_some_and(|t| t > latest))
        {
            return Err(TokenError::NotYetValid);
        }
        match &c.iss {
            Some(iss) if iss.0 == self.issuer => {}
            _ => return Err(TokenError::Issuer),
        }
        if !c
            .aud
            .as_ref()
            .is_some_and(|aud| aud.contains(&self.audience))
        {
            return Err(TokenError::Audience);
        }
        let sub = match &c.sub {
            Some(sub) if !sub.is_empty() && sub.len() <= 255 => sub,
            _ => return Err(TokenError::Claims),
        };
        let mut roles: Vec<String> = Vec::new();
        if let Some(value) = &c.roles {
            for name in claims::strings_at(value, &self.roles_claim[1..]) {
                for (from, to) in &self.role_map {
                    if from == name && !roles.iter().any(|r| r == to) {
                        roles.push((*to).to_owned());
                    }
                }
            }
        }
        let mut amr = Vec::new();
        for Text(method) in c.amr.iter().flatten() {
            let method = match &**method {
                "pwd" => Amr::Pwd,
                "otp" => Amr::Otp,
                "mfa" => Amr::Mfa,
                _ => continue,
            };
            if !amr.contains(&method) {
                amr.push(method);
            }
        }
        if c.acr
            .as_ref()
            .is_some_and(|acr| self.mfa_acr.iter().any(|a| *a == acr.0))
            && !amr.contains(&Amr::Mfa)
        {
            amr.push(Amr::Mfa);
        }
        let mut identity =
            Identity::new(format!("{}#{}", self.issuer, sub), c.auth_time.unwrap_or(0))
                .with_roles(roles)
                .with_amr(amr);
        identity.scopes = c.scopes();
        Ok(identity)
    }

    /// A fetch for a token whose `kid` the set does not have: at most once per interval, one
    /// at a time (the others wait for it and then look again).
    async fn refresh_for_unknown_kid(&self) {
        {
            let Ok(mut last) = self.last_unknown_kid_fetch.lock() else {
                return;
            };
            if last.is_some_and(|at| at.elapsed() < self.refresh_interval) {
                return;
            }
            *last = Some(Instant::now());
        }
        if let Err(error) = self.refresh().await {
            tracing::warn!(issuer = %self.issuer, error = ?error, "provider keys not refreshed");
        }
    }

    /// Discovery (until it has succeeded once), then the key set.
    async fn refresh(&self) -> Result<(), RefreshError> {
        let Some(client) = &self.client else {
            return Ok(());
        };
        let _one = self.fetching.lock().await;
        let known = self.jwks_uri.read().ok().and_then(|u| u.clone());
        let jwks_uri = match known {
            Some(uri) => uri,
            None => {
                let uri = self.discover(client).await?;
                if let Ok(mut slot) = self.jwks_uri.write() {
                    *slot = Some(uri.clone());
                }
                uri
            }
        };
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let fetched = fetch::get(client, &jwks_uri)
            .await
            .map_err(|e| RefreshError::Other(format!("key set: {e}")))?;
        let parsed =
            jwks::parse(&fetched.body).map_err(|e| RefreshError::Other(format!("key set: {e}")))?;
        if parsed.keys.is_empty() {
            return Err(RefreshError::Other(format!(
                "key set has no usable key ({} skipped)",
                parsed.skipped
            )));
        }
        if parsed.skipped > 0 {
            tracing::info!(issuer = %self.issuer, skipped = parsed.skipped, "provider keys skipped: not usable for signatures of the allowlist");
        }
        let cache = fetched
            .max_age
            .unwrap_or(DEFAULT_CACHE)
            .clamp(CACHE_BOUNDS.0, CACHE_BOUNDS.1);
        let set = Arc::new(KeySet {
            keys: parsed.keys,
            expires: Instant::now() + cache,
        });
        if let Ok(mut slot) = self.keys.write() {
            *slot = Some(set);
        }
        Ok(())
    }

    async fn discover(&self, client: &reqwest::Client) -> Result<Url, RefreshError> {
        let base = self.issuer.trim_end_matches('/');
        let url = Url::parse(&format!("{base}/.well-known/openid-configuration"))
            .map_err(|e| RefreshError::Other(format!("discovery URL: {e}")))?;
        let fetched = fetch::get(client, &url)
            .await
            .map_err(|e| RefreshError::Other(format!("discovery: {e}")))?;
        let doc: Discovery = serde_json::from_slice(&fetched.body)
            .map_err(|e| RefreshError::Other(format!("discovery: {e}")))?;
        if doc.issuer != self.issuer {
            return Err(RefreshError::Mismatch(doc.issuer));
        }
        let jwks_uri =
            Url::parse(&doc.jwks_uri).map_err(|e| RefreshError::Other(format!("jwks_uri: {e}")))?;
        if !fetch::allowed_url(&jwks_uri) {
            return Err(RefreshError::Other(format!(
                "jwks_uri {jwks_uri} is neither https nor http on a loopback address"
            )));
        }
        Ok(jwks_uri)
    }
}

/// Keeps the keys fresh: retries until they are known, then refreshes them when they expire.
/// Ends when the provider is dropped.
async fn keep_fresh(inner: Weak<Inner>) {
    let mut retry = RETRY.0;
    loop {
        let delay = {
            let Some(inner) = inner.upgrade() else { return };
            match inner.current() {
                Some(set) if set.expires > Instant::now() => {
                    set.expires.saturating_duration_since(Instant::now())
                }
                _ => match inner.refresh().await {
                    Ok(()) => {
                        retry = RETRY.0;
                        continue;
                    }
                    Err(error) => {
                        tracing::warn!(issuer = %inner.issuer, error = ?error, retry_secs = retry.as_secs(), "provider keys not fetched");
                        let delay = retry;
                        retry = (retry * 2).min(RETRY.1);
                        delay
                    }
                },
            }
        };
        tokio::time::sleep(delay).await;
    }
}

impl OidcProviderBuilder {
    /// Clock leeway for `exp`, `nbf`, `iat` and `auth_time`: at most 30 s (default 5 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Least time between two fetches of the key set caused by tokens naming an unknown `kid`
    /// (a provider's new key is picked up at most this late): at least 1 s, default 30 s.
    pub fn refresh_interval(mut self, interval: Duration) -> Self {
        self.refresh_interval = interval;
        self
    }

    /// Where the token's roles are: a path of member names, as Keycloak's
    /// `["realm_access", "roles"]`, Entra ID's `["roles"]` or `["groups"]`, or an Auth0
    /// namespaced claim `["https://notes.example/roles"]`. Each is mapped with
    /// [`role`](Self::role).
    pub fn roles_claim<S: Into<String>>(mut self, path: impl IntoIterator<Item = S>) -> Self {
        self.roles_claim = path.into_iter().map(Into::into).collect();
        self
    }

    /// The app's `role` for the provider's role (or group) `name`. Names without a mapping
    /// are dropped.
    pub fn role<R: Role>(mut self, name: impl Into<String>, role: R) -> Self {
        self.role_map.push((name.into(), role.as_str()));
        self
    }

    /// An `acr` value that means a sign-in with a second factor (Keycloak's level `2`, say),
    /// beside `amr` containing `mfa` or `otp`.
    pub fn mfa_acr(mut self, acr: impl Into<String>) -> Self {
        self.mfa_acr.push(acr.into());
        self
    }

    /// The HTTP client for discovery and keys (to trust a private certificate authority, say).
    /// Redirects should stay off. Default: rustls, the platform's roots, no redirects, 5 s.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Checks the configuration, fetches the discovery document and the keys, and keeps them
    /// fresh in the background (on the current Tokio runtime).
    ///
    /// A discovery document naming another issuer is an error. A provider that cannot be
    /// reached is not: it is logged, retried in the background, and until its keys are known
    /// its tokens get a 503.
    pub async fn discover(self) -> Result<OidcProvider, OidcConfigError> {
        let inner = Arc::new(self.into_inner(true)?);
        match inner.refresh().await {
            Ok(()) => {}
            Err(RefreshError::Mismatch(found)) => {
                return Err(OidcConfigError::IssuerMismatch { found });
            }
            Err(RefreshError::Other(error)) => {
                tracing::warn!(issuer = %inner.issuer, %error, "provider not reachable at start-up: its tokens get 503 until its keys are fetched");
            }
        }
        tokio::spawn(keep_fresh(Arc::downgrade(&inner)));
        Ok(OidcProvider { inner })
    }

    /// A provider whose keys are given here (a JWKS document, as the provider publishes it):
    /// no discovery, no fetch, ever; a new provider key needs a new configuration. For
    /// networks that cannot reach the provider, and for benchmarks. The same rules pin each
    /// key to its algorithm and skip the unusable ones.
    ///
    /// ```
    /// use secure_core::auth::oidc::{OidcConfigError, OidcProvider};
    ///
    /// let secret_only = br#"{"keys":[{"kty":"oct","k":"c2VjcmV0","alg":"HS256"}]}"#;
    /// let refused = OidcProvider::builder("https://id.example", "notes-api").with_keys(secret_only);
    /// assert_eq!(refused.unwrap_err(), OidcConfigError::NoUsableKey);
    /// ```
    pub fn with_keys(self, jwks: &[u8]) -> Result<OidcProvider, OidcConfigError> {
        let inner = self.into_inner(false)?;
        let parsed = jwks::parse(jwks).map_err(|_| OidcConfigError::NoUsableKey)?;
        if parsed.keys.is_empty() {
            return Err(OidcConfigError::NoUsableKey);
        }
        if let Ok(mut slot) = inner.keys.write() {
            *slot = Some(Arc::new(KeySet {
                keys: parsed.keys,
                expires: Instant::now() + CACHE_BOUNDS.1,
            }));
        }
        Ok(OidcProvider {
            inner: Arc::new(inner),
        })
    }

    /// The checked configuration; `fetching`: whether keys are fetched (an HTTP client).
    fn into_inner(self, fetching: bool) -> Result<Inner, OidcConfigError> {
        let issuer = Url::parse(&self.issuer).map_err(|_| OidcConfigError::Issuer)?;
        if !fetch::allowed_url(&issuer) || issuer.query().is_some() || issuer.fragment().is_some() {
            return Err(OidcConfigError::Issuer);
        }
        if self.audience.is_empty() {
            return Err(OidcConfigError::Audience);
        }
        if self.leeway > Duration::from_secs(MAX_LEEWAY_SECS) {
            return Err(OidcConfigError::Leeway);
        }
        if self.refresh_interval < Duration::from_secs(1) {
            return Err(OidcConfigError::RefreshInterval);
        }
        match self.roles_claim.first() {
            None if !self.role_map.is_empty() => return Err(OidcConfigError::RoleClaim),
            Some(first)
                if self.roles_claim.iter().any(String::is_empty)
                    || claims::STANDARD.contains(&first.as_str()) =>
            {
                return Err(OidcConfigError::RoleClaim);
            }
            _ => {}
        }
        let client = match (self.client, fetching) {
            (Some(client), _) => Some(client),
            (None, true) => Some(fetch::default_client().map_err(OidcConfigError::Client)?),
            (None, false) => None,
        };
        Ok(Inner {
            issuer: self.issuer,
            audience: self.audience,
            leeway: self.leeway.as_secs(),
            refresh_interval: self.refresh_interval,
            roles_claim: self.roles_claim,
            role_map: self.role_map,
            mfa_acr: self.mfa_acr,
            client,
            jwks_uri: RwLock::new(None),
            keys: RwLock::new(None),
            last_unknown_kid_fetch: Mutex::new(None),
            fetching: tokio::sync::Mutex::new(()),
            fetches: AtomicU64::new(0),
        })
    }
}

impl ProviderTokens for OidcProvider {
    fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    fn authenticate<'a>(
        &'a self,
        token: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Identity, AuthError>> + Send + 'a>> {
        Box::pin(async move {
            match self.verify(token).await {
                Ok(identity) => Ok(identity),
                Err(None) => {
                    audit::emit(
                        "auth.token",
                        Outcome::Failure,
                        None,
                        "provider_keys_unknown",
                    );
                    Err(AuthError::Unavailable)
                }
                Err(Some(error)) => {
                    audit::emit("auth.token", Outcome::Failure, None, error.reason());
                    Err(if error == TokenError::Expired {
                        AuthError::Expired
                    } else {
                        AuthError::Invalid
                    })
                }
            }
        })
    }
}

impl fmt::Debug for OidcProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcProvider")
            .field("issuer", &self.inner.issuer)
            .field("audience", &self.inner.audience)
            .field("keys_known", &self.keys_known())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for OidcProviderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcProviderBuilder")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}
