//! Rate limits (OWASP API4: unrestricted resource consumption; ASVS 2.2.1 against credential
//! stuffing and brute force).
//!
//! - **Per route**: `#[secure_handler(rate_limit("5/min", key = ip | user | global))]` lets
//!   each key burst 5 requests, then one every 12 s (GCRA, governor).
//! - **Per client IP, everywhere**: a default limit (300/min unless configured, or disabled)
//!   applied to every request by [`DefaultLimitLayer`].
//! - **Client address**: the socket peer (`ConnectInfo<SocketAddr>`, which
//!   [`serve`](crate::serve::serve) gives every request), or the forwarding header of a trusted proxy read
//!   from the right; IPv6 grouped by /56 ([`client_ip`]). Without `ConnectInfo` every client
//!   shares one key, which fails safe (stricter) and is logged.
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
pub mod client_ip;
pub mod headers;
mod layer;
mod limit;
pub mod memory;
#[cfg(feature = "redis")]
pub mod redis_store;
pub mod store;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

pub use account::{AccountThrottle, AccountThrottled, Factor, ThrottleKey};
pub use client_ip::{Cidr, InvalidCidr, ProxyHeader, TrustedProxies};
pub use headers::{Decision, RATELIMIT, RATELIMIT_POLICY, RateLimitHeaders};
pub use layer::{DefaultLimitFuture, DefaultLimitLayer, DefaultLimitService};
pub use limit::{Rate, RateKey, RateLimit};
use memory::MemoryLimiter;
#[cfg(feature = "redis")]
pub use redis_store::RedisStore;
pub use store::{RateLimitStore, Scope, StoreDecision, StoreFuture, ThrottleFuture, ThrottleOp};

use crate::audit;
use crate::error::{Problem, StoreError};

/// The client address of a request, resolved once (proxy-aware) by the request context and
/// read by the limiter and the audit events alike. Also an extractor, for handlers that count
/// on their own (a login's per-client limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddr {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Response> {
        parts.extensions.get::<ClientAddr>().copied().ok_or_else(|| {
            // The request context sets it on every request of an assembled app.
            tracing::error!(target: "secure::ratelimit", "ClientAddr used outside an assembled SecureApp");
            Problem::internal().into_response()
        })
    }
}

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

// Subjects and the global key out of line: the per-address check, the common one, is then
// small enough to be inlined whole.
#[inline(never)]
fn check_other(limiter: &Arc<MemoryLimiter<ClientKey>>, key: &ClientKey) -> Decision {
    limiter.check(key)
}

/// Rate-limited routes held without a lock; more go to a locked list.
pub const SLOTS: usize = 64;

/// One route's limiters: client addresses keyed as governor would key them alone (the
/// common case, and the benchmark's), subjects and the global key in a second map.
struct RouteLimiters {
    name: &'static str,
    ip: Arc<MemoryLimiter<IpAddr>>,
    other: Arc<MemoryLimiter<ClientKey>>,
}

impl RouteLimiters {
    fn new(name: &'static str, limit: RateLimit, sweep: Duration) -> Self {
        RouteLimiters {
            name,
            ip: Arc::new(MemoryLimiter::new(limit, "route", sweep)),
            other: Arc::new(MemoryLimiter::new(limit, "route", sweep)),
        }
    }
}

/// The rate limiters of every route, the per-IP default limit, and how client addresses are
/// found.
///
/// ```
/// use std::time::Duration;
/// use secure_core::ratelimit::RateLimiter;
///
/// let limiter = RateLimiter::new()
///     .trust_proxies(["10.0.0.0/8", "2001:db8:ffff::/48"])?
///     .ipv6_prefix(56)
///     .default_limit(600, Duration::from_secs(60));
/// # drop(limiter);
/// # Ok::<(), secure_core::ratelimit::InvalidCidr>(())
/// ```
pub struct RateLimiter {
    slots: [OnceLock<RouteLimiters>; SLOTS],
    register: Mutex<()>,
    overflow: Mutex<Vec<&'static RouteLimiters>>,
    default: Option<RateLimit>,
    default_limiter: OnceLock<Arc<MemoryLimiter<IpAddr>>>,
    trusted: TrustedProxies,
    ipv6_prefix: u8,
    sweep_interval: Duration,
    warned_no_peer: AtomicBool,
    store: Option<Arc<dyn RateLimitStore>>,
    fail_open: bool,
    store_log: StoreLog,
    account: AccountThrottle,
    account_memory: account::MemoryThrottle,
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

#[derive(Debug)]
struct StoreLog {
    born: Instant,
    /// Milliseconds after `born` of the last logged failure, plus one (0: none yet).
    last_ms: AtomicU64,
    suppressed: AtomicU64,
    down: AtomicBool,
}

impl StoreLog {
    fn new() -> Self {
        StoreLog {
            born: Instant::now(),
            last_ms: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
            down: AtomicBool::new(false),
        }
    }

    fn failed(&self, error: &StoreError, fail_open: bool) {
        self.down.store(true, Ordering::Relaxed);
        let now = u64::try_from(self.born.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let last = self.last_ms.load(Ordering::Relaxed);
        let every = u64::try_from(STORE_LOG_EVERY.as_millis()).unwrap_or(u64::MAX);
        let due = last == 0 || now.saturating_sub(last) >= every;
        if !due
            || self
                .last_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let suppressed = self.suppressed.swap(0, Ordering::Relaxed);
        let policy = if fail_open {
            "failing open: requests pass uncounted"
        } else {
            "failing closed: requests get 503"
        };
        // The error's text only: never the key, which holds a client address or subject.
        tracing::error!(
            target: "secure::ratelimit",
            %error,
            suppressed,
            "rate-limit store unreachable; {policy}"
        );
    }

    fn succeeded(&self) {
        if self.down.load(Ordering::Relaxed) && self.down.swap(false, Ordering::Relaxed) {
            tracing::info!(target: "secure::ratelimit", "rate-limit store reachable again");
        }
    }
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("default", &self.default)
            .field("trusted", &self.trusted)
            .field("ipv6_prefix", &self.ipv6_prefix)
            .field("sweep_interval", &self.sweep_interval)
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
    /// No trusted proxy, IPv6 grouped by /56, a default of 300 requests a minute per client
    /// address, idle keys swept every minute.
    pub fn new() -> Self {
        RateLimiter {
            slots: [const { OnceLock::new() }; SLOTS],
            register: Mutex::new(()),
            overflow: Mutex::new(Vec::new()),
            default: Some(DEFAULT_LIMIT),
            default_limiter: OnceLock::new(),
            trusted: TrustedProxies::default(),
            ipv6_prefix: 56,
            sweep_interval: Duration::from_secs(60),
            warned_no_peer: AtomicBool::new(false),
            store: None,
            fail_open: false,
            store_log: StoreLog::new(),
            account: AccountThrottle::default(),
            account_memory: account::MemoryThrottle::new(),
        }
    }

    /// The per-account throttle's settings ([`AccountThrottle::default`] unless set).
    pub fn account_throttle(mut self, throttle: AccountThrottle) -> Self {
        self.account = throttle;
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
        let answer = match &self.store {
            None => Ok(self
                .account_memory
                .attempt(key, &self.account)
                .err()
                .map(Duration::from_millis)),
            Some(store) => store.throttle(key, ThrottleOp::Attempt, self.account).await,
        };
        match answer {
            Ok(None) => {
                self.store_log.succeeded();
                Ok(())
            }
            Ok(Some(wait)) => {
                account::audit_refusal(key.factor(), subject);
                let ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
                Err(AccountThrottled::new(ms).into_response())
            }
            Err(error) => {
                self.store_log.failed(&error, self.fail_open);
                if self.fail_open {
                    Ok(())
                } else {
                    Verdict::Unavailable.into_result(subject).map(|_| ())
                }
            }
        }
    }

    /// Forgives the attempt on `key` that just succeeded: its back-off starts over. A store
    /// failure here is logged and otherwise ignored (the sign-in already succeeded).
    pub async fn account_success(&self, key: &ThrottleKey) {
        match &self.store {
            None => self.account_memory.success(key, &self.account),
            Some(store) => {
                if let Err(error) = store.throttle(key, ThrottleOp::Success, self.account).await {
                    self.store_log.failed(&error, self.fail_open);
                }
            }
        }
    }

    /// Account throttle counters held in memory (without a store).
    pub fn account_counter_count(&self) -> usize {
        self.account_memory.len()
    }

    /// Decides every limit (per route and the per-IP default) in `store`, shared with the
    /// other instances using it, instead of in this process's memory.
    pub fn store(mut self, store: impl RateLimitStore) -> Self {
        self.store = Some(Arc::new(store));
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
        self.fail_open = true;
        self
    }

    /// Believes the forwarding header of peers in these ranges (`"10.0.0.0/8"`,
    /// `"192.0.2.7"`, `"2001:db8::/32"`). Only list your own reverse proxies. A range that
    /// does not parse is an error naming it (found at start-up, never a panic).
    pub fn trust_proxies<I, S>(self, ranges: I) -> Result<Self, InvalidCidr>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let ranges = ranges
            .into_iter()
            .map(|r| r.as_ref().parse::<Cidr>())
            .collect::<Result<_, _>>()?;
        Ok(self.trust_proxy_ranges(ranges))
    }

    /// Believes the forwarding header of peers in these ranges.
    pub fn trust_proxy_ranges(mut self, ranges: Vec<Cidr>) -> Self {
        let header = self.trusted_header();
        self.trusted = TrustedProxies::new(ranges, header);
        self
    }

    /// Which header the trusted proxies write (`X-Forwarded-For` unless set).
    pub fn proxy_header(mut self, header: ProxyHeader) -> Self {
        let ranges = std::mem::take(&mut self.trusted);
        self.trusted = TrustedProxies::new(ranges.ranges().to_vec(), header);
        self
    }

    fn trusted_header(&self) -> ProxyHeader {
        self.trusted.header()
    }

    /// How many leading bits of an IPv6 address name one client (56 unless set; 64 is the
    /// least that stops a host rotating through its own subnet; 128 counts each address).
    pub fn ipv6_prefix(mut self, bits: u8) -> Self {
        self.ipv6_prefix = bits.min(128);
        self
    }

    /// The limit every client address has across all routes: `count` requests per `period`.
    pub fn default_limit(mut self, count: u32, period: Duration) -> Self {
        self.default = Some(RateLimit {
            rate: Rate {
                count,
                period_secs: period.as_secs().max(1),
            },
            key: RateKey::Ip,
        });
        self.default_limiter = OnceLock::new();
        self
    }

    /// No limit across routes (the per-route limits still apply).
    pub fn without_default_limit(mut self) -> Self {
        self.default = None;
        self
    }

    /// How often idle keys are evicted (every minute unless set).
    pub fn sweep_interval(mut self, interval: Duration) -> Self {
        self.sweep_interval = interval;
        self
    }

    /// The client's address: the peer, or the right-most untrusted hop of a trusted proxy's
    /// header. Resolved once per request by the request context ([`ClientAddr`], which the
    /// audit events log too); this reads it, or resolves it for a request that has none.
    pub fn client_addr(&self, headers: &HeaderMap, extensions: &Extensions) -> IpAddr {
        if let Some(ClientAddr(ip)) = extensions.get::<ClientAddr>() {
            return *ip;
        }
        match extensions.get::<ConnectInfo<SocketAddr>>() {
            Some(ConnectInfo(peer)) => self.trusted.client_ip(headers, peer.ip()),
            None => {
                if !self.warned_no_peer.swap(true, Ordering::Relaxed) {
                    tracing::error!(
                        target: "secure::ratelimit",
                        "no ConnectInfo<SocketAddr>: every client shares one rate limit; serve with secure_core::serve::serve"
                    );
                }
                IpAddr::V4(Ipv4Addr::UNSPECIFIED)
            }
        }
    }

    /// The address a connection from `peer` counts under for the per-address connection
    /// cap (IPv6 cut to the prefix), or `None` for a trusted proxy, whose connections carry
    /// many clients.
    pub(crate) fn connection_key(&self, peer: IpAddr) -> Option<IpAddr> {
        (!self.trusted.contains(peer)).then(|| client_ip::group(peer, self.ipv6_prefix))
    }

    /// The key address of a client: IPv6 cut to the configured prefix (one subscriber, one
    /// budget), IPv4 as it is.
    pub fn group(&self, client: ClientAddr) -> IpAddr {
        client_ip::group(client.0, self.ipv6_prefix)
    }

    /// The address `headers`/`extensions` of one request count under: [`client_addr`], IPv6
    /// cut to its prefix.
    ///
    /// [`client_addr`]: RateLimiter::client_addr
    pub fn client_ip(&self, headers: &HeaderMap, extensions: &Extensions) -> IpAddr {
        client_ip::group(self.client_addr(headers, extensions), self.ipv6_prefix)
    }

    /// The key a request counts under: the client address, the subject (the address for
    /// anonymous callers, so they cannot exhaust each other's budget), or one global key.
    pub fn key_for(&self, parts: &Parts, key: RateKey, subject: Option<&str>) -> ClientKey {
        match (key, subject) {
            (RateKey::Global, _) => ClientKey::Global,
            (RateKey::User, Some(subject)) => ClientKey::User(subject.into()),
            (RateKey::User | RateKey::Ip, _) => {
                ClientKey::Ip(self.client_ip(&parts.headers, &parts.extensions))
            }
        }
    }

    /// Makes `route`'s limiters now (when an app is assembled), so the first request finds
    /// them ready.
    pub(crate) fn prepare(&self, route: &'static str, limit: RateLimit) {
        let _ = self.route(route, limit);
    }

    /// The limiters of `route`, made on its first request. Reads take no lock: the slots are
    /// `OnceLock`s filled once, under `register`; routes past [`SLOTS`] go to a locked list.
    fn route(&self, route: &'static str, limit: RateLimit) -> &RouteLimiters {
        for slot in &self.slots {
            match slot.get() {
                // Same string, usually the same pointer: compare addresses first.
                Some(r) if std::ptr::eq(r.name, route) || r.name == route => return r,
                Some(_) => {}
                None => break,
            }
        }
        self.register(route, limit)
    }

    #[cold]
    fn register(&self, route: &'static str, limit: RateLimit) -> &RouteLimiters {
        let _registering = self.register.lock().unwrap_or_else(|e| e.into_inner());
        for slot in &self.slots {
            if let Some(r) = slot.get() {
                if r.name == route {
                    return r;
                }
                continue;
            }
            return slot.get_or_init(|| RouteLimiters::new(route, limit, self.sweep_interval));
        }
        // More rate-limited routes than slots: a leaked entry per extra route (routes are
        // `'static` handler paths, so their number is bounded by the program).
        let mut overflow = self.overflow.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = overflow.iter().find(|r| r.name == route) {
            return r;
        }
        let r: &'static RouteLimiters = Box::leak(Box::new(RouteLimiters::new(
            route,
            limit,
            self.sweep_interval,
        )));
        overflow.push(r);
        r
    }

    fn all_routes(&self) -> Vec<&RouteLimiters> {
        let mut all: Vec<&RouteLimiters> = self.slots.iter().filter_map(OnceLock::get).collect();
        all.extend(
            self.overflow
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .copied(),
        );
        all
    }

    /// Counts one request of `key` against `route`'s limit, in this process's memory (a
    /// configured store is not asked: see [`decide`](Self::decide)).
    pub fn check(&self, route: &'static str, limit: RateLimit, key: &ClientKey) -> Decision {
        let limiters = self.route(route, limit);
        match key {
            ClientKey::Ip(ip) => limiters.ip.check(ip),
            other => check_other(&limiters.other, other),
        }
    }

    /// Counts one request of `key` against `route`'s limit: in the store when there is one,
    /// else in memory (as [`check`](Self::check), with nothing awaited).
    pub async fn decide(&self, route: &'static str, limit: RateLimit, key: &ClientKey) -> Verdict {
        match &self.store {
            None => Verdict::Decided(self.check(route, limit, key)),
            Some(store) => {
                let answer = store.decide(Scope::Route(route), key, limit).await;
                self.verdict("route", limit, answer)
            }
        }
    }

    /// Whether decisions are a store's (awaited) rather than made in memory.
    pub(crate) fn has_store(&self) -> bool {
        self.store.is_some()
    }

    /// Counts one request of the client address `ip` against the default limit, in the store
    /// when there is one (`None` when there is no default limit).
    pub async fn decide_default(&self, ip: IpAddr) -> Option<Verdict> {
        let Some(store) = &self.store else {
            return self.check_default(ip).map(Verdict::Decided);
        };
        let limit = self.default?;
        let answer = store
            .decide(Scope::Default, &ClientKey::Ip(ip), limit)
            .await;
        Some(self.verdict("default", limit, answer))
    }

    fn verdict(
        &self,
        policy: &'static str,
        limit: RateLimit,
        answer: Result<StoreDecision, StoreError>,
    ) -> Verdict {
        match answer {
            Ok(answer) => {
                self.store_log.succeeded();
                Verdict::Decided(Decision::stored(
                    policy,
                    limit.rate.count,
                    limit.rate.period_secs,
                    answer,
                ))
            }
            Err(error) => {
                self.store_log.failed(&error, self.fail_open);
                if self.fail_open {
                    Verdict::Unchecked
                } else {
                    Verdict::Unavailable
                }
            }
        }
    }

    /// Counts one request of the client address `ip` against the default limit (`None` when
    /// there is none), in this process's memory.
    pub fn check_default(&self, ip: IpAddr) -> Option<Decision> {
        let limit = self.default?;
        let limiter = self
            .default_limiter
            .get_or_init(|| Arc::new(MemoryLimiter::new(limit, "default", self.sweep_interval)));
        Some(limiter.check(&ip))
    }

    /// Evicts every idle key now (what the periodic sweep does).
    pub fn evict_idle(&self) {
        for r in self.all_routes() {
            r.ip.sweep();
            r.other.sweep();
        }
        if let Some(l) = self.default_limiter.get() {
            l.sweep();
        }
    }

    /// Keys held, over every route and the default limit.
    pub fn key_count(&self) -> usize {
        let routes: usize = self
            .all_routes()
            .iter()
            .map(|r| r.ip.len() + r.other.len())
            .sum();
        routes + self.default_limiter.get().map_or(0, |l| l.len())
    }
}
