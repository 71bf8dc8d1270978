//! Where decisions are made: this process's memory, or a [`RateLimitStore`] shared by every
//! instance, and what happens when the store cannot answer (fail closed unless told).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use super::headers::Decision;
use super::limit::RateLimit;
use super::store::{RateLimitStore, StoreDecision};
use super::{STORE_LOG_EVERY, Verdict};
use crate::error::StoreError;

/// The store (if any), the failure policy, and the failure log: one for the route limits,
/// the default limit and the account throttle alike.
pub(super) struct Backend {
    pub(super) store: Option<Arc<dyn RateLimitStore>>,
    pub(super) fail_open: bool,
    log: StoreLog,
}

impl Backend {
    pub(super) fn memory() -> Self {
        Backend {
            store: None,
            fail_open: false,
            log: StoreLog::new(),
        }
    }

    /// The verdict of a store's `answer` for `limit` (`policy` names it in the fields).
    pub(super) fn verdict(
        &self,
        policy: &'static str,
        limit: RateLimit,
        answer: Result<StoreDecision, StoreError>,
    ) -> Verdict {
        match answer {
            Ok(answer) => {
                self.succeeded();
                Verdict::Decided(Decision::stored(
                    policy,
                    limit.rate.count,
                    limit.rate.period_secs,
                    answer,
                ))
            }
            Err(error) => {
                self.failed(&error);
                if self.fail_open {
                    Verdict::Unchecked
                } else {
                    Verdict::Unavailable
                }
            }
        }
    }

    pub(super) fn failed(&self, error: &StoreError) {
        self.log.failed(error, self.fail_open);
    }

    pub(super) fn succeeded(&self) {
        self.log.succeeded();
    }
}

/// Store failures are logged at most once per [`STORE_LOG_EVERY`], with the number
/// suppressed meanwhile: a Redis outage must not become one log line per request.
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
