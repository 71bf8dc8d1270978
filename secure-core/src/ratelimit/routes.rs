//! The in-memory limiters: one pair per rate-limited route (made when the app is assembled,
//! found without a lock), and the default per-address limit of every route.

use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use super::ClientKey;
use super::headers::Decision;
use super::limit::RateLimit;
use super::memory::MemoryLimiter;

/// Rate-limited routes held without a lock; more go to a locked list.
pub const SLOTS: usize = 64;

// Subjects and the global key out of line: the per-address check, the common one, is then
// small enough to be inlined whole.
#[inline(never)]
fn check_other(limiter: &Arc<MemoryLimiter<ClientKey>>, key: &ClientKey) -> Decision {
    limiter.check(key)
}

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

/// Every route's limiters and the default limit's, in this process's memory.
pub(super) struct RouteLimits {
    slots: [OnceLock<RouteLimiters>; SLOTS],
    register: Mutex<()>,
    overflow: Mutex<Vec<&'static RouteLimiters>>,
    pub(super) default: Option<RateLimit>,
    default_limiter: OnceLock<Arc<MemoryLimiter<IpAddr>>>,
    pub(super) sweep_interval: Duration,
}

impl RouteLimits {
    pub(super) fn new(default: Option<RateLimit>) -> Self {
        RouteLimits {
            slots: [const { OnceLock::new() }; SLOTS],
            register: Mutex::new(()),
            overflow: Mutex::new(Vec::new()),
            default,
            default_limiter: OnceLock::new(),
            sweep_interval: Duration::from_secs(60),
        }
    }

    /// Sets the default limit (before any request).
    pub(super) fn set_default(&mut self, default: Option<RateLimit>) {
        self.default = default;
        self.default_limiter = OnceLock::new();
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

    pub(super) fn prepare(&self, route: &'static str, limit: RateLimit) {
        let _ = self.route(route, limit);
    }

    pub(super) fn check(&self, route: &'static str, limit: RateLimit, key: &ClientKey) -> Decision {
        let limiters = self.route(route, limit);
        match key {
            ClientKey::Ip(ip) => limiters.ip.check(ip),
            other => check_other(&limiters.other, other),
        }
    }

    pub(super) fn check_default(&self, ip: IpAddr) -> Option<Decision> {
        let limit = self.default?;
        let limiter = self
            .default_limiter
            .get_or_init(|| Arc::new(MemoryLimiter::new(limit, "default", self.sweep_interval)));
        Some(limiter.check(&ip))
    }

    pub(super) fn evict_idle(&self) {
        for r in self.all_routes() {
            r.ip.sweep();
            r.other.sweep();
        }
        if let Some(l) = self.default_limiter.get() {
            l.sweep();
        }
    }

    pub(super) fn key_count(&self) -> usize {
        let routes: usize = self
            .all_routes()
            .iter()
            .map(|r| r.ip.len() + r.other.len())
            .sum();
        routes + self.default_limiter.get().map_or(0, |l| l.len())
    }
}
