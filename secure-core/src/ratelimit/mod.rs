//! Rate limits (OWASP API4: unrestricted resource consumption; ASVS 2.2.1 against credential
//! stuffing and brute force).
//!
//! - **Per route**: `#[secure_handler(rate_limit("5/min", key = ip | user | global))]` lets
//!   each key burst 5 requests, then one every 12 s (GCRA, governor).
//! - **Per client IP, everywhere**: a default limit (300/min unless configured, or disabled)
//!   applied to every request by [`enforce_default_limit`].
//! - **Client address**: the socket peer (`ConnectInfo<SocketAddr>`, so serve with
//!   `into_make_service_with_connect_info`), or the forwarding header of a trusted proxy read
//!   from the right; IPv6 grouped by /56 ([`client_ip`]). Without `ConnectInfo` every client
//!   shares one key, which fails safe (stricter) and is logged.
//! - **Responses**: 429 problem+json with `Retry-After`, and the `RateLimit` /
//!   `RateLimit-Policy` fields of draft-ietf-httpapi-ratelimit-headers-09 on refusals and
//!   successes alike ([`headers`]).
//! - **Memory**: idle keys are evicted periodically ([`memory`]); [`RateLimiter::key_count`]
//!   says how many are held.
//!
//! The store boundary is [`memory::MemoryLimiter`]: one policy's keyed limiter answering
//! [`Decision`]s. A Redis store (several instances) fits behind the same `check` as an
//! async step (one Lua script doing the GCRA update atomically), which the generated code
//! can `.await` since it already runs in the handler's future.

pub mod client_ip;
pub mod headers;
pub mod memory;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Extension;
use axum::extract::{ConnectInfo, Request};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap};
use axum::middleware::Next;
use axum::response::Response;

pub use client_ip::{Cidr, InvalidCidr, ProxyHeader, TrustedProxies};
pub use headers::{Decision, RATELIMIT, RATELIMIT_POLICY, RateLimitHeaders};
use memory::MemoryLimiter;

use crate::policy::{RateKey, RateLimit};

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
///     .trust_proxies(["10.0.0.0/8", "2001:db8:ffff::/48"])
///     .ipv6_prefix(56)
///     .default_limit(600, Duration::from_secs(60));
/// # drop(limiter);
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
    count: 300,
    period_secs: 60,
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
        }
    }

    /// Believes the forwarding header of peers in these ranges (`"10.0.0.0/8"`,
    /// `"192.0.2.7"`, `"2001:db8::/32"`). Only list your own reverse proxies.
    ///
    /// # Panics
    /// When a range does not parse: a configuration error found at start-up. Parse them as
    /// [`Cidr`] first to handle the error yourself, and use [`trust_proxy_ranges`].
    ///
    /// [`trust_proxy_ranges`]: RateLimiter::trust_proxy_ranges
    pub fn trust_proxies<I, S>(self, ranges: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let ranges = ranges
            .into_iter()
            .map(|r| r.as_ref().parse::<Cidr>().unwrap_or_else(|e| panic!("{e}")))
            .collect();
        self.trust_proxy_ranges(ranges)
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
            count,
            period_secs: period.as_secs().max(1),
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

    /// The address `headers`/`extensions` of one request count under: the peer, or the
    /// right-most untrusted hop of a trusted proxy's header; IPv6 cut to its prefix.
    pub fn client_ip(&self, headers: &HeaderMap, extensions: &Extensions) -> IpAddr {
        let ip = match extensions.get::<ConnectInfo<SocketAddr>>() {
            Some(ConnectInfo(peer)) => self.trusted.client_ip(headers, peer.ip()),
            None => {
                if !self.warned_no_peer.swap(true, Ordering::Relaxed) {
                    tracing::error!(
                        target: "secure::ratelimit",
                        "no ConnectInfo<SocketAddr>: every client shares one rate limit; serve with into_make_service_with_connect_info"
                    );
                }
                IpAddr::V4(Ipv4Addr::UNSPECIFIED)
            }
        };
        client_ip::group(ip, self.ipv6_prefix)
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

    /// Counts one request of `key` against `route`'s limit.
    pub fn check(&self, route: &'static str, limit: RateLimit, key: &ClientKey) -> Decision {
        let limiters = self.route(route, limit);
        match key {
            ClientKey::Ip(ip) => limiters.ip.check(ip),
            other => limiters.other.check(other),
        }
    }

    /// Counts one request of the client address `ip` against the default limit (`None` when
    /// there is none).
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

    /// The limiter as a router layer: `router.layer(RateLimiter::new().layer())`.
    pub fn layer(self) -> Extension<Arc<RateLimiter>> {
        Extension(Arc::new(self))
    }
}

/// The default per-IP limit as middleware: `axum::middleware::from_fn(enforce_default_limit)`,
/// inside the layer that provides the `Arc<RateLimiter>` extension. A 429 (problem+json,
/// `Retry-After`, `RateLimit`) over the limit; otherwise the response gets the `"default"`
/// items of `RateLimit` and `RateLimit-Policy`. Counting twice is impossible: a request
/// already counted passes through.
pub async fn enforce_default_limit(mut request: Request, next: Next) -> Response {
    let decision = match request.extensions().get::<Arc<RateLimiter>>() {
        Some(limiter) if request.extensions().get::<DefaultCounted>().is_none() => {
            let ip = limiter.client_ip(request.headers(), request.extensions());
            limiter.check_default(ip)
        }
        _ => None,
    };
    let Some(decision) = decision else {
        return next.run(request).await;
    };
    if !decision.allowed {
        crate::audit::emit(
            "rate_limit",
            crate::audit::Outcome::Denied,
            None,
            "rate_limited",
        );
        return decision.too_many_requests();
    }
    request.extensions_mut().insert(DefaultCounted);
    decision.headers().apply(next.run(request).await)
}
