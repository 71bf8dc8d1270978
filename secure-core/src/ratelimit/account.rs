//! Per-account throttling of sign-in attempts (OWASP ASVS 4.0.3 2.2.1: at most 100 failed
//! attempts per hour on one account; ASVS 5.0 6.3.1; NIST SP 800-63B 5.2.2).
//!
//! Limits per client address do not protect an account from an attacker with many
//! addresses: one IPv6 /48 holds 256 /56s. So failed password attempts and failed
//! second-factor attempts are also counted **per account**, separately ([`Factor`]), whatever
//! the client address:
//!
//! - **Back-off**: the first [`AccountThrottle::free_failures`] failures (5) cost nothing;
//!   after them each failure makes the next attempt wait `base_delay × 2^k` (1 s, 2 s, 4 s,
//!   ...), at most [`AccountThrottle::max_delay`] (15 min). A quiet period of
//!   [`AccountThrottle::forget_after`] (1 h) or a success forgets the back-off.
//! - **Ceiling**: whatever else happens (successes forgetting the back-off among them), at
//!   most [`AccountThrottle::max_per_hour`] failures (100) in any hour: a GCRA budget of half
//!   that as a burst, refilled at half that per hour.
//! - **Counted before the check**: an attempt is counted as a failure when it is let through
//!   ([`RateLimiter::account_attempt`](super::RateLimiter::account_attempt)) and forgiven when it succeeds
//!   ([`RateLimiter::account_success`](super::RateLimiter::account_success)), so a thousand concurrent guesses cannot all pass
//!   before the first failure is recorded.
//! - **No enumeration**: the password counter is keyed by the submitted account name, so
//!   unknown names are counted exactly like known ones, and a refusal reads the same.
//! - **Shared**: counters live in the limiter's store: in memory, or in Redis
//!   (`RedisStore`, feature `redis`) where every instance counts the same attempts.
//! - **Refusal**: 429 problem+json with `Retry-After` and the code `account_throttled`, and
//!   an audit event (`auth.throttle`, `denied`).
//!
//! **The trade-off, and how it stays short of a lock-out.** Whoever can guess can also slow
//! the owner down: an attacker's failures delay the owner's next sign-in on the same counter.
//! A [`DeviceId`] (from a device token the service issued after an earlier sign-in, see
//! [`DeviceTokens`](crate::auth::device::DeviceTokens)) moves the owner's attempts to a counter
//! of their own, which nobody else's failures touch (OWASP "Slow Down Online Guessing Attacks
//! with Device Cookies"). Without one (a new device), the owner waits at most
//! [`AccountThrottle::max_delay`] at a time, never an open-ended lock.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::audit::{self, Outcome};
use crate::auth::device::DeviceId;
use crate::error::Problem;

/// Which kind of attempt is counted: each has its own counter per account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Factor {
    /// The password (keyed by the account name as submitted, known or not).
    Password,
    /// A TOTP or recovery code (keyed by the account id, once the password passed).
    SecondFactor,
}

impl Factor {
    fn tag(self) -> &'static str {
        match self {
            Factor::Password => "pwd",
            Factor::SecondFactor => "mfa",
        }
    }
}

/// What one counter counts: a factor of one account, from anywhere or from one device.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ThrottleKey {
    factor: Factor,
    account: Box<str>,
    device: Option<DeviceId>,
}

impl ThrottleKey {
    /// `factor` attempts on `account` (the name as submitted for passwords, the id for
    /// second factors), from `device` when the client proved one.
    pub fn new(factor: Factor, account: &str, device: Option<&DeviceId>) -> Self {
        ThrottleKey {
            factor,
            account: account.into(),
            device: device.cloned(),
        }
    }

    /// Which factor the counter counts.
    pub fn factor(&self) -> Factor {
        self.factor
    }

    /// Bytes that name the counter unambiguously (hashed by stores that write keys out).
    pub fn canonical(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.account.len());
        out.extend_from_slice(self.factor.tag().as_bytes());
        out.push(0);
        out.extend_from_slice(&(self.account.len() as u64).to_be_bytes());
        out.extend_from_slice(self.account.as_bytes());
        if let Some(device) = &self.device {
            out.push(1);
            out.extend_from_slice(device.as_str().as_bytes());
        }
        out
    }
}

/// The throttle's settings. The defaults follow ASVS 2.2.1.
///
/// ```
/// use std::time::Duration;
/// use secure_core::ratelimit::AccountThrottle;
///
/// let t = AccountThrottle::default();
/// assert_eq!((t.free_failures, t.max_per_hour), (5, 100));
/// assert_eq!(t.base_delay, Duration::from_secs(1));
/// assert_eq!(t.max_delay, Duration::from_secs(15 * 60));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountThrottle {
    /// Failures before the back-off starts.
    pub free_failures: u32,
    /// The first delay; each further failure doubles it.
    pub base_delay: Duration,
    /// The longest delay.
    pub max_delay: Duration,
    /// The most failures in any hour (at least 2).
    pub max_per_hour: u32,
    /// After this long without an attempt the back-off starts over.
    pub forget_after: Duration,
}

impl Default for AccountThrottle {
    fn default() -> Self {
        AccountThrottle {
            free_failures: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(15 * 60),
            max_per_hour: 100,
            forget_after: Duration::from_secs(60 * 60),
        }
    }
}

const HOUR_MS: u64 = 3_600_000;

impl AccountThrottle {
    /// The ceiling as GCRA: the emission interval and the tolerance, in milliseconds. Half
    /// the hourly figure as a burst plus half refilled over the hour is at most the figure in
    /// any window of an hour.
    pub(crate) fn ceiling_ms(&self) -> (u64, u64) {
        let half = u64::from((self.max_per_hour / 2).max(1));
        let interval = HOUR_MS / half;
        (interval, (half - 1) * interval)
    }

    /// The wait after the `level`-th counted failure in a row.
    pub(crate) fn delay_ms(&self, level: u32) -> u64 {
        if level <= self.free_failures {
            return 0;
        }
        let doublings = (level - self.free_failures - 1).min(40);
        let base = millis(self.base_delay);
        base.saturating_mul(1u64 << doublings)
            .min(millis(self.max_delay))
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// One counter: the back-off level, until when it blocks, the ceiling's GCRA time, and the
/// last attempt. Times are milliseconds on the store's clock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ThrottleState {
    pub(crate) level: u32,
    pub(crate) blocked_until: u64,
    pub(crate) tat: u64,
    pub(crate) last: u64,
}

impl ThrottleState {
    /// Counts an attempt at `now` as a failure if it may go ahead; otherwise the wait.
    pub(crate) fn attempt(&mut self, now: u64, policy: &AccountThrottle) -> Result<(), u64> {
        if self.blocked_until > now {
            return Err(self.blocked_until - now);
        }
        let (interval, tolerance) = policy.ceiling_ms();
        let tat = self.tat.max(now);
        if tat - now > tolerance {
            return Err(tat - now - tolerance);
        }
        if now.saturating_sub(self.last) >= millis(policy.forget_after) {
            self.level = 0;
        }
        self.level = self.level.saturating_add(1);
        self.last = now;
        self.tat = tat + interval;
        self.blocked_until = now.saturating_add(policy.delay_ms(self.level));
        Ok(())
    }

    /// Forgives the attempt that just succeeded: the back-off starts over, and it does not
    /// count against the ceiling.
    pub(crate) fn success(&mut self, now: u64, policy: &AccountThrottle) {
        let (interval, _) = policy.ceiling_ms();
        self.level = 0;
        self.blocked_until = 0;
        self.tat = self.tat.saturating_sub(interval).max(now);
    }

    /// Whether the counter is back to its starting state by `now` (and can be forgotten).
    pub(crate) fn idle(&self, now: u64, policy: &AccountThrottle) -> bool {
        now >= self.blocked_until
            && now >= self.tat
            && now.saturating_sub(self.last) >= millis(policy.forget_after)
    }
}

/// The most counters held in memory: about 60 bytes each (a 128-bit digest of the key and
/// the state), so at most about 6 MiB however many names are tried.
pub(crate) const MAX_COUNTERS: usize = 100_000;

/// How many counters are looked at to choose one to forget when the table is full.
const EVICTION_SAMPLE: usize = 16;

/// The in-memory counters (one process), bounded by design: a counter is kept under a
/// keyed 128-bit digest of its key (not the submitted name), idle counters are dropped once a
/// minute, and at [`MAX_COUNTERS`] a new counter replaces the least useful of a sample of the
/// others (one that blocks nothing, else the one whose wait ends first). The sample is in hash
/// order under a per-process random key, so nobody can aim the eviction at an account;
/// forgetting one by flooding takes on the order of [`MAX_COUNTERS`] new names, each an
/// attempt under the per-address limits.
#[derive(Debug)]
pub(crate) struct MemoryThrottle {
    born: Instant,
    keys: (RandomState, RandomState),
    inner: Mutex<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    map: HashMap<[u64; 2], ThrottleState>,
    swept_at: u64,
}

const SWEEP_EVERY_MS: u64 = 60_000;

impl MemoryThrottle {
    pub(crate) fn new() -> Self {
        MemoryThrottle {
            born: Instant::now(),
            keys: (RandomState::new(), RandomState::new()),
            inner: Mutex::new(Counters::default()),
        }
    }

    fn now(&self) -> u64 {
        // Starts at one hour, so a fresh counter (last = 0) is already past `forget_after`.
        millis(self.born.elapsed()).saturating_add(HOUR_MS)
    }

    /// The counter's name in the table: two SipHash-1-3 values under random keys.
    fn digest(&self, key: &ThrottleKey) -> [u64; 2] {
        let bytes = key.canonical();
        [self.keys.0.hash_one(&bytes), self.keys.1.hash_one(&bytes)]
    }

    pub(crate) fn attempt(&self, key: &ThrottleKey, policy: &AccountThrottle) -> Result<(), u64> {
        self.attempt_bounded(key, policy, MAX_COUNTERS)
    }

    fn attempt_bounded(
        &self,
        key: &ThrottleKey,
        policy: &AccountThrottle,
        max: usize,
    ) -> Result<(), u64> {
        let now = self.now();
        let digest = self.digest(key);
        let mut counters = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if now.saturating_sub(counters.swept_at) >= SWEEP_EVERY_MS {
            counters.map.retain(|_, s| !s.idle(now, policy));
            counters.swept_at = now;
        }
        if counters.map.len() >= max && !counters.map.contains_key(&digest) {
            counters.evict_one(now);
        }
        counters.map.entry(digest).or_default().attempt(now, policy)
    }

    pub(crate) fn success(&self, key: &ThrottleKey, policy: &AccountThrottle) {
        let now = self.now();
        let digest = self.digest(key);
        let mut counters = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(state) = counters.map.get_mut(&digest) {
            state.success(now, policy);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map
            .len()
    }
}

impl Counters {
    /// Forgets the least useful of a sample: one that blocks nothing now, else the one
    /// whose wait ends first; the oldest attempt among equals.
    fn evict_one(&mut self, now: u64) {
        let victim = self
            .map
            .iter()
            .take(EVICTION_SAMPLE)
            .min_by_key(|(_, s)| (s.blocked_until.max(now), s.last))
            .map(|(k, _)| *k);
        if let Some(victim) = victim {
            self.map.remove(&victim);
        }
    }
}

/// Too many failed attempts on this account: 429 with `Retry-After`. The same answer for
/// known and unknown accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountThrottled {
    retry_after_secs: u64,
}

impl AccountThrottled {
    pub(crate) fn new(wait_ms: u64) -> Self {
        AccountThrottled {
            retry_after_secs: wait_ms.div_ceil(1000).max(1),
        }
    }

    /// Seconds until the next attempt may go ahead (`Retry-After`).
    pub fn retry_after_secs(&self) -> u64 {
        self.retry_after_secs
    }
}

impl IntoResponse for AccountThrottled {
    fn into_response(self) -> Response {
        let mut response = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many failed sign-in attempts for this account: wait before trying again.",
        )
        .with_code("account_throttled")
        .into_response();
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(self.retry_after_secs),
        );
        response
    }
}

/// Audits a refusal: the account's id when the caller knows it (never a submitted name,
/// into which users type passwords).
pub(crate) fn audit_refusal(factor: Factor, subject: Option<&str>) {
    let reason = match factor {
        Factor::Password => "password_attempts",
        Factor::SecondFactor => "second_factor_attempts",
    };
    audit::emit("auth.throttle", Outcome::Denied, subject, reason);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MIN: u64 = 60_000;

    fn policy() -> AccountThrottle {
        AccountThrottle::default()
    }

    #[test]
    fn five_free_failures_then_doubling_waits_up_to_the_maximum() {
        let p = policy();
        let mut s = ThrottleState::default();
        let now = 10 * HOUR_MS;
        for _ in 0..5 {
            assert_eq!(s.attempt(now, &p), Ok(()));
        }
        // The sixth goes ahead and makes the next wait 1 s, then 2 s, 4 s...
        assert_eq!(s.attempt(now, &p), Ok(()));
        assert_eq!(s.attempt(now, &p), Err(1000));
        let mut t = now + 1000;
        for expected in [2000, 4000, 8000, 16_000] {
            assert_eq!(s.attempt(t, &p), Ok(()));
            assert_eq!(s.attempt(t, &p), Err(expected));
            t += expected;
        }
        assert_eq!(p.delay_ms(100), 15 * MIN);
    }

    #[test]
    fn a_success_forgets_the_back_off_and_is_not_a_failure() {
        let p = policy();
        let mut s = ThrottleState::default();
        let now = 10 * HOUR_MS;
        for _ in 0..6 {
            s.attempt(now, &p).unwrap();
        }
        assert!(s.attempt(now, &p).is_err());
        s.success(now, &p);
        assert_eq!(s.attempt(now, &p), Ok(()));
    }

    #[test]
    fn an_hour_of_quiet_forgets_the_back_off() {
        let p = policy();
        let mut s = ThrottleState::default();
        let now = 10 * HOUR_MS;
        for _ in 0..8 {
            let _ = s.attempt(now, &p);
        }
        assert!(s.attempt(now + MIN, &p).is_ok());
        let later = now + MIN + HOUR_MS;
        assert!(s.attempt(later, &p).is_ok());
        assert_eq!(s.level, 1);
        assert!(s.idle(later + HOUR_MS, &p));
    }

    proptest! {
        /// Whatever the attacker's timing, and however often the owner's successes forget
        /// the back-off, no window of an hour holds more than `max_per_hour` failures.
        #[test]
        fn never_more_than_the_ceiling_in_any_hour(
            gaps in prop::collection::vec(0u64..120_000, 1..1500),
            successes in prop::collection::vec(any::<bool>(), 1500),
            max_per_hour in 2u32..150,
        ) {
            let p = AccountThrottle { max_per_hour, ..policy() };
            let mut s = ThrottleState::default();
            let mut now = 10 * HOUR_MS;
            let mut failures: Vec<u64> = Vec::new();
            for (gap, owner) in gaps.iter().zip(&successes) {
                now += gap;
                if s.attempt(now, &p).is_ok() {
                    if *owner {
                        s.success(now, &p);
                    } else {
                        failures.push(now);
                    }
                }
            }
            for (i, start) in failures.iter().enumerate() {
                let in_hour = failures[i..].iter().take_while(|t| **t < start + HOUR_MS).count();
                prop_assert!(in_hour <= max_per_hour as usize, "{in_hour} failures in an hour");
            }
        }
    }

    #[test]
    fn memory_counters_are_separate_and_idle_ones_are_dropped() {
        let m = MemoryThrottle::new();
        let p = AccountThrottle {
            free_failures: 1,
            ..policy()
        };
        let ada = ThrottleKey::new(Factor::Password, "ada", None);
        let ada_mfa = ThrottleKey::new(Factor::SecondFactor, "ada", None);
        let ada_phone = ThrottleKey::new(
            Factor::Password,
            "ada",
            Some(&DeviceId::from_verified("phone")),
        );
        assert!(m.attempt(&ada, &p).is_ok());
        assert!(m.attempt(&ada, &p).is_ok());
        assert!(m.attempt(&ada, &p).is_err());
        assert!(m.attempt(&ada_mfa, &p).is_ok());
        assert!(m.attempt(&ada_phone, &p).is_ok());
        assert_eq!(m.len(), 3);
        assert_ne!(ada.canonical(), ada_phone.canonical());
        assert_ne!(ada.canonical(), ada_mfa.canonical());
    }

    #[test]
    fn memory_is_bounded_and_a_flood_forgets_what_blocks_nothing_first() {
        let m = MemoryThrottle::new();
        let p = AccountThrottle {
            free_failures: 1,
            ..policy()
        };
        // The victim's counter blocks (two failures, one free).
        let victim = ThrottleKey::new(Factor::Password, "victim", None);
        assert!(m.attempt_bounded(&victim, &p, 1_000).is_ok());
        assert!(m.attempt_bounded(&victim, &p, 1_000).is_ok());
        assert!(m.attempt_bounded(&victim, &p, 1_000).is_err());
        // Ten times the table's size in new names, each one failure (blocking nothing).
        for i in 0..10_000 {
            let name = format!("spray-{i}");
            let key = ThrottleKey::new(Factor::Password, &name, None);
            assert!(m.attempt_bounded(&key, &p, 1_000).is_ok());
            assert!(m.len() <= 1_000);
        }
        // The blocking counter outlived the flood: what blocked nothing went first.
        assert!(m.attempt_bounded(&victim, &p, 1_000).is_err());
        // Full of blocking counters, a new one still gets in (the soonest to end goes).
        let m = MemoryThrottle::new();
        for i in 0..50 {
            let key = ThrottleKey::new(Factor::Password, &format!("b-{i}"), None);
            let _ = m.attempt_bounded(&key, &p, 50);
            let _ = m.attempt_bounded(&key, &p, 50);
        }
        let late = ThrottleKey::new(Factor::Password, "late", None);
        assert!(m.attempt_bounded(&late, &p, 50).is_ok());
        assert_eq!(m.len(), 50);
    }
}
