//! The in-memory store: one governor keyed GCRA limiter per policy, with idle keys evicted.
//!
//! governor keeps one 8-byte state per key for as long as the key exists, so a scan with
//! spoofed or rotating addresses would grow it without bound. Every [`SWEEP_CHECK_EVERY`]
//! decisions of a thread (a thread-local counter: no shared atomic on the hot path), the
//! limiter deciding looks at the clock; once the sweep interval
//! has passed, one caller wins a flag and runs `retain_recent()` (drops every key whose
//! state is indistinguishable from a fresh one, i.e. whose budget is full again) and
//! `shrink_to_fit()`, on tokio's blocking pool when a runtime is there (the request is not
//! stalled by an O(keys) scan), inline otherwise. The sweep holds its own `Arc` and ends with
//! the scan: no task outlives the limiter.

use std::cell::Cell;
use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{NotUntil, Quota};

use super::RateLimit;
use super::headers::Decision;

/// Decisions (per thread) between two looks at the clock for a sweep.
pub const SWEEP_CHECK_EVERY: u32 = 1024;

thread_local! {
    static CHECKS: Cell<u32> = const { Cell::new(0) };
}

type Keyed<K> =
    governor::RateLimiter<K, DashMapStateStore<K>, DefaultClock, StateInformationMiddleware>;

/// The GCRA quota of `limit`: a burst of `count`, refilled one every `period / count`.
pub(crate) fn quota(limit: RateLimit) -> Quota {
    let count = NonZeroU32::new(limit.rate.count).unwrap_or(NonZeroU32::MIN);
    let period = Duration::from_secs(limit.rate.period_secs.max(1)) / count.get();
    Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(count))
        .allow_burst(count)
}

/// One policy's keyed limiter.
pub(crate) struct MemoryLimiter<K: Hash + Eq + Clone> {
    limiter: Keyed<K>,
    clock: DefaultClock,
    limit: RateLimit,
    policy: &'static str,
    replenish: Duration,
    born: Instant,
    last_sweep_ms: AtomicU64,
    sweep_interval: Duration,
    sweeping: AtomicBool,
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static> MemoryLimiter<K> {
    pub(crate) fn new(limit: RateLimit, policy: &'static str, sweep_interval: Duration) -> Self {
        let quota = quota(limit);
        MemoryLimiter {
            limiter: governor::RateLimiter::dashmap(quota).with_middleware(),
            replenish: quota.replenish_interval(),
            clock: DefaultClock::default(),
            limit,
            policy,
            born: Instant::now(),
            last_sweep_ms: AtomicU64::new(0),
            sweep_interval,
            sweeping: AtomicBool::new(false),
        }
    }

    /// Counts one request of `key`.
    #[inline]
    pub(crate) fn check(self: &Arc<Self>, key: &K) -> Decision {
        let decision = match self.limiter.check_key(key) {
            Ok(state) => Decision::allowed(
                self.policy,
                self.limit.rate.count,
                self.limit.rate.period_secs,
                state,
                self.replenish,
            ),
            Err(not_until) => self.denied(&not_until),
        };
        let checks = CHECKS.with(|c| {
            let n = c.get().wrapping_add(1);
            c.set(n);
            n
        });
        if checks.is_multiple_of(SWEEP_CHECK_EVERY) {
            self.maybe_sweep();
        }
        decision
    }

    // Out of line (as the sweep is): the allowed path stays small enough for governor's
    // check to be inlined into it (with LTO, down to the GCRA step), which keeps the state
    // snapshot from being copied through memory (benches/benches/ratelimit.rs).
    #[cold]
    #[inline(never)]
    fn denied(&self, not_until: &NotUntil<<DefaultClock as Clock>::Instant>) -> Decision {
        Decision::denied(
            self.policy,
            self.limit.rate.count,
            self.limit.rate.period_secs,
            not_until.wait_time_from(self.clock.now()),
        )
    }

    #[cold]
    #[inline(never)]
    fn maybe_sweep(self: &Arc<Self>) {
        let now_ms = u64::try_from(self.born.elapsed().as_millis()).unwrap_or(u64::MAX);
        let last = self.last_sweep_ms.load(Ordering::Relaxed);
        let interval_ms = u64::try_from(self.sweep_interval.as_millis()).unwrap_or(u64::MAX);
        if now_ms.saturating_sub(last) < interval_ms || self.sweeping.swap(true, Ordering::Acquire)
        {
            return;
        }
        self.last_sweep_ms.store(now_ms, Ordering::Relaxed);
        let this = Arc::clone(self);
        let sweep = move || {
            this.sweep();
            this.sweeping.store(false, Ordering::Release);
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => drop(handle.spawn_blocking(sweep)),
            Err(_) => sweep(),
        }
    }

    /// Drops every key whose budget is full again and returns the memory.
    pub(crate) fn sweep(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// Keys held.
    pub(crate) fn len(&self) -> usize {
        self.limiter.len()
    }
}
