//! Rate limits (OWASP API4: unrestricted resource consumption; ASVS 2.2.1 against credential
//! stuffing and brute force).
//!
//! - **Per route**: `#[secure_handler(rate_limit("5/min", key = ip | user | global))]` lets
//!   each key burst 5 requests, then one every 12 s (GCRA, governor).
//! - **Per client IP, everywhere**: a default limit (300/min unless configured, or disabled)
//!   applied to every request by [`DefaultLimitLayer`].
//! - **Client address**: the request context's [`ClientAddr`] (the peer, or a trusted
//!   proxy's hop, IPv6 grouped by /56: [`crate::http::client`]), its `key()`.
//! - **Responses**: 429 problem+json with `Retry-After`, and the `RateLimit` /
//!   `RateLimit-Policy` fields of draft-ietf-httpapi-ratelimit-headers-09 on refusals and
//!   successes alike ([`headers`]).
//! - **Memory**: idle keys are evicted periodically ([`memory`]); [`RateLimiter::key_count`]
//!   says how many are held.
//!
//! - **Per account** ([`account`]): failed sign-in attempts counted per account and factor,
//!   whatever the client address, with a back-off and an hourly ceiling
//!   ([`RateLimiter::account_attempt`]).
//! - **Several instances**: with a [`RateLimitStore`] ([`RateLimiter::store`], or
//!   `RateLimiter::redis` with the `redis` feature) every decision is the store's, so the
//!   instances sharing it enforce one limit together. The stack and
//!   [`DefaultLimitLayer`] `.await` the decision in the request's future; without a
//!   store, the decision is made in memory (`memory::MemoryLimiter`, governor) and nothing
//!   is awaited.

pub mod account;
mod accounts;
mod backend;
pub mod headers;
mod layer;
mod limit;
pub mod memory;
#[cfg(feature = "redis")]
pub mod redis_store;
mod routes;
pub mod store;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

pub use account::{AccountThrottle, AccountThrottled, Factor, ThrottleKey};
use accounts::Accounts;
use backend::Backend;
pub use headers::{Decision, RATELIMIT, RATELIMIT_POLICY, RateLimitHeaders};
pub use layer::{DefaultLimitFuture, DefaultLimitLayer, DefaultLimitService};
pub use limit::{Rate, RateKey, RateLimit};
#[cfg(feature = "redis")]
pub use redis_store::RedisStore;
use routes::RouteLimits;
pub use routes::SLOTS;
pub use store::{
    RateLimitStore, ReadyFuture, Scope, StoreDecision, StoreFuture, ThrottleFuture, ThrottleOp,
};

use crate::audit;
use crate::error::{Problem, StoreError};
use crate::http::client::ClientAddr;
use crate::observe;

/// The key a request counts under on one route.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ClientKey {
    /// The client address (IPv6 cut to its prefix).
    Ip(IpAddr),
    /// The authenticated subject.
    User(Box<str>),
    /// Everyone.
    Global,
}

/// The rate limiters of every route, the per-IP default limit and the per-account throttle.
/// Who the client is, [`ClientAddresses`](crate::http::client::ClientAddresses) says.
///
/// ```
/// use std::time::Duration;
/// use secure_core::ratelimit::RateLimiter;
///
/// let limiter = RateLimiter::new().default_limit(600, Duration::from_secs(60));
/// # drop(limiter);
/// ```
pub struct RateLimiter {
    routes: RouteLimits,
    accounts: Accounts,
    backend: Backend,
}

/// What a limit decided for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The limiter (or its store) decided.
    Decided(Decision),
    /// The store could not decide and the limiter fails open: the request passes uncounted.
    Unchecked,
    /// The store could not decide and the limiter fails closed: answer 503.
    Unavailable,
}

impl Verdict {
    /// The `RateLimit` fields for the response when the request may proceed; otherwise the
    /// response to send (429, or 503 when the store is unavailable), with its audit event.
    // The error is the response to send, returned straight from the handler.
    #[allow(clippy::result_large_err)]
    pub fn into_result(self, subject: Option<&str>) -> Result<RateLimitHeaders, Response> {
        match self {
            Verdict::Decided(d) if d.allowed => Ok(d.headers()),
            Verdict::Decided(d) => {
                audit::emit(
                    "rate_limit",
                    audit::Outcome::Denied,
                    subject,
                    "rate_limited",
                );
                Err(d.too_many_requests())
            }
            Verdict::Unchecked => Ok(RateLimitHeaders::none()),
            Verdict::Unavailable => {
                audit::emit(
                    "rate_limit",
                    audit::Outcome::Failure,
                    subject,
                    "store_unavailable",
                );
                Err(Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The service is temporarily unavailable: try again later.",
                )
                .into_response())
            }
        }
    }
}

/// Store failures are logged at most once per [`STORE_LOG_EVERY`], with the number
/// suppressed meanwhile: a Redis outage must not become one log line per request.
pub const STORE_LOG_EVERY: Duration = Duration::from_secs(10);

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("default", &self.routes.default)
            .field("sweep_interval", &self.routes.sweep_interval)
            .field("store", &self.backend.store.is_some())
            .field("fail_open", &self.backend.fail_open)
            .finish_non_exhaustive()
    }
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self::new()
    }
}

/// The default per-IP limit: 300 requests a minute (a burst of 300, then 5 a second).
pub const DEFAULT_LIMIT: RateLimit = RateLimit {
    rate: Rate {
        count: 300,
        period_secs: 60,
    },
    key: RateKey::Ip,
};

/// Marks a request the default limit has counted, so a second layer does not count it again.
#[derive(Debug, Clone, Copy)]
struct DefaultCounted;

impl RateLimiter {
    /// A default of 300 requests a minute per client address, idle keys swept every minute.
    pub fn new() -> Self {
        RateLimiter {
            routes: RouteLimits::new(Some(DEFAULT_LIMIT)),
            accounts: Accounts::new(),
            backend: Backend::memory(),
        }
    }

    /// The per-account throttle's settings ([`AccountThrottle::default`] unless set).
    pub fn account_throttle(mut self, throttle: AccountThrottle) -> Self {
        self.accounts.settings = throttle;
        self
    }

    /// Counts a sign-in attempt on `key` as a failure before it is checked, or refuses it
    /// (429 `account_throttled` with `Retry-After`, audited with `subject` when the caller
    /// knows the account's id). Call [`account_success`](Self::account_success) when the
    /// attempt succeeds. With a store the counter is the store's; when it cannot answer,
    /// 503 (or, failing open, the attempt goes ahead uncounted). See [`account`].
    // The error is the response to send, returned straight from the handler.
    #[allow(clippy::result_large_err)]
    pub async fn account_attempt(
        &self,
        key: &ThrottleKey,
        subject: Option<&str>,
    ) -> Result<(), Response> {
        self.accounts.attempt(&self.backend, key, subject).await
    }

    /// Forgives the attempt on `key` that just succeeded: its back-off starts over. A store
    /// failure here is logged and otherwise ignored (the sign-in already succeeded).
    pub async fn account_success(&self, key: &ThrottleKey) {
        self.accounts.success(&self.backend, key).await;
    }

    /// Account throttle counters held in memory (without a store).
    pub fn account_counter_count(&self) -> usize {
        self.accounts.len()
    }

    /// Decides every limit (per route and the per-IP default) in `store`, shared with the
    /// other instances using it, instead of in this process's memory.
    pub fn store(mut self, store: impl RateLimitStore) -> Self {
        self.backend.store = Some(Arc::new(store));
        self
    }

    /// Decides every limit in Redis ([`RedisStore`]): several instances, one limit.
    #[cfg(feature = "redis")]
    pub fn redis(self, store: RedisStore) -> Self {
        self.store(store)
    }

    /// When the store cannot answer (down, unreachable, slower than its timeout), let requests
    /// through uncounted instead of refusing them with a 503. Either way the failure is logged
    /// (target `secure::ratelimit`, at most once per [`STORE_LOG_EVERY`]).
    ///
    /// The default is to fail closed: limits guard logins and costly endpoints against
    /// brute force and exhaustion (OWASP API4, ASVS 2.2.1), and an attacker who can make the
    /// store unreachable (by flooding it, for one) must not switch them off. Failing open
    /// trades that for availability; choose it only where an unlimited burst during an outage
    /// is harmless.
    pub fn fail_open(mut self) -> Self {
        self.backend.fail_open = true;
        self
    }

    /// The limit every client address has across all routes: `count` requests per `period`.
    pub fn default_limit(mut self, count: u32, period: Duration) -> Self {
        self.routes.set_default(Some(RateLimit {
            rate: Rate {
                count,
                period_secs: period.as_secs().max(1),
            },
            key: RateKey::Ip,
        }));
        self
    }

    /// No limit across routes (the per-route limits still apply).
    pub fn without_default_limit(mut self) -> Self {
        self.routes.set_default(None);
        self
    }

    /// How often idle keys are evicted (every minute unless set).
    pub fn sweep_interval(mut self, interval: Duration) -> Self {
        self.routes.sweep_interval = interval;
        self
    }

    /// The key a request counts under: the client address, the subject (the address for
    /// anonymous callers, so they cannot exhaust each other's budget), or one global key.
    pub fn key_for(&self, parts: &Parts, key: RateKey, subject: Option<&str>) -> ClientKey {
        match (key, subject) {
            (RateKey::Global, _) => ClientKey::Global,
            (RateKey::User, Some(subject)) => ClientKey::User(subject.into()),
            (RateKey::User | RateKey::Ip, _) => {
                ClientKey::Ip(ClientAddr::of(&parts.extensions).key())
            }
        }
    }

    /// Makes `route`'s limiters now (when an app is assembled), so the first request finds
    /// them ready.
    pub(crate) fn prepare(&self, route: &'static str, limit: RateLimit) {
        self.routes.prepare(route, limit);
    }

    /// Counts one request of `key` against `route`'s limit, in this process's memory (a
    /// configured store is not asked: see [`decide`](Self::decide)).
    pub fn check(&self, route: &'static str, limit: RateLimit, key: &ClientKey) -> Decision {
        let decision = self.routes.check(route, limit, key);
        if !decision.allowed {
            observe::rate_limited(route, key);
        }
        decision
    }

    /// Counts one request of `key` against `route`'s limit: in the store when there is one,
    /// else in memory (as [`check`](Self::check), with nothing awaited).
    pub async fn decide(&self, route: &'static str, limit: RateLimit, key: &ClientKey) -> Verdict {
        match &self.backend.store {
            None => Verdict::Decided(self.check(route, limit, key)),
            Some(store) => {
                let answer = stored(store.decide(Scope::Route(route), key, limit)).await;
                counted(route, key, self.backend.verdict("route", limit, answer))
            }
        }
    }

    /// Whether the limits can be decided now: the store answers (Redis: `PING`, within
    /// its timeout), or there is none. For a readiness probe: an instance whose store is
    /// down refuses limited requests (503) unless it fails open.
    pub async fn ready(&self) -> Result<(), StoreError> {
        match &self.backend.store {
            None => Ok(()),
            Some(store) => observe::store("rate_limits", "ready", store.ready()).await,
        }
    }

    /// Whether decisions are a store's (awaited) rather than made in memory.
    pub(crate) fn has_store(&self) -> bool {
        self.backend.store.is_some()
    }

    /// Counts one request of the client address `ip` against the default limit, in the store
    /// when there is one (`None` when there is no default limit).
    pub async fn decide_default(&self, ip: IpAddr) -> Option<Verdict> {
        let Some(store) = &self.backend.store else {
            return self.check_default(ip).map(Verdict::Decided);
        };
        let limit = self.routes.default?;
        let key = ClientKey::Ip(ip);
        let answer = stored(store.decide(Scope::Default, &key, limit)).await;
        Some(counted(
            "default",
            &key,
            self.backend.verdict("default", limit, answer),
        ))
    }

    /// Counts one request of the client address `ip` against the default limit (`None` when
    /// there is none), in this process's memory.
    pub fn check_default(&self, ip: IpAddr) -> Option<Decision> {
        let decision = self.routes.check_default(ip)?;
        if !decision.allowed {
            observe::rate_limited("default", &ClientKey::Ip(ip));
        }
        Some(decision)
    }

    /// Evicts every idle key now (what the periodic sweep does).
    pub fn evict_idle(&self) {
        self.routes.evict_idle();
    }

    /// Keys held, over every route and the default limit.
    pub fn key_count(&self) -> usize {
        self.routes.key_count()
    }
}

/// A store's answer to one rate-limit request, timed (and counted when it failed).
async fn stored<T>(
    call: impl std::future::Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    observe::store("rate_limits", "decide", call).await
}

/// `verdict`, counted when it refuses.
fn counted(limit: &'static str, key: &ClientKey, verdict: Verdict) -> Verdict {
    if matches!(&verdict, Verdict::Decided(d) if !d.allowed) {
        observe::rate_limited(limit, key);
    }
    verdict
}
