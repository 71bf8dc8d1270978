//! [`SecurityConfig`]: what [`SecureRouter::into_router`](crate::policy::SecureRouter) puts in
//! front of the handlers.

use crate::auth::Authenticator;
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
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl SecurityConfig {
    /// Defaults: no authenticator (every `auth` route answers 500 and logs why), an in-memory
    /// rate limiter, 64 KiB bodies.
    pub fn new() -> Self {
        SecurityConfig {
            authenticator: None,
            rate_limiter: RateLimiter::new(),
            body_limit: DEFAULT_BODY_LIMIT,
        }
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
