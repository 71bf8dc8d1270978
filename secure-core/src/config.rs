//! [`SecurityConfig`]: what [`SecureRouter::into_router`](crate::policy::SecureRouter) puts in
//! front of the handlers.

use crate::auth::Authenticator;
use crate::http::cors::CorsConfig;
use crate::http::headers::SecurityHeaders;
use crate::ratelimit::RateLimiter;

/// The default request body limit: 64 KiB (JSON APIs rarely need more; larger bodies are a
/// denial-of-service lever, OWASP API4). Override per route with `body_limit = ".."`.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

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
    pub(crate) rate_limiter: RateLimiter,
    pub(crate) body_limit: usize,
    pub(crate) headers: SecurityHeaders,
    pub(crate) cors: Option<CorsConfig>,
}

/// A security setting that cannot be used, found when it is built (at start-up): the message
/// names the directive, header or origin at fault. Never a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A Content-Security-Policy directive is unknown, malformed or unsafe.
    #[error("Content-Security-Policy directive `{directive}`: {reason}")]
    Csp {
        /// The directive at fault.
        directive: String,
        /// Why it is refused.
        reason: String,
    },
    /// A response header cannot be set as asked.
    #[error("security header `{name}`: {reason}")]
    Header {
        /// The header at fault.
        name: String,
        /// Why it is refused.
        reason: String,
    },
    /// The CORS settings are unsafe or malformed.
    #[error("CORS: {0}")]
    Cors(String),
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl SecurityConfig {
    /// Defaults: no authenticator (every `auth` route answers 500 and logs why), an in-memory
    /// rate limiter, 64 KiB bodies, the API security headers ([`SecurityHeaders::api`]) and
    /// no CORS (same-origin only).
    pub fn new() -> Self {
        SecurityConfig {
            authenticator: None,
            rate_limiter: RateLimiter::new(),
            body_limit: DEFAULT_BODY_LIMIT,
            headers: SecurityHeaders::api(),
            cors: None,
        }
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

    /// The rate limiter: trusted proxies, IPv6 grouping, the per-IP default limit.
    pub fn rate_limiter(mut self, limiter: RateLimiter) -> Self {
        self.rate_limiter = limiter;
        self
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
