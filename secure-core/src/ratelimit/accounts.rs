//! The per-account throttle at run time: its counters in this process's memory, or in the
//! limiter's store (the rules are [`account`](super::account)'s).

use std::time::Duration;

use axum::response::{IntoResponse, Response};

use super::Verdict;
use super::account::{
    AccountThrottle, AccountThrottled, MemoryThrottle, ThrottleKey, audit_refusal,
};
use super::backend::Backend;
use super::store::ThrottleOp;
use crate::observe;

/// The throttle's settings and, without a store, its counters.
#[derive(Debug)]
pub(super) struct Accounts {
    pub(super) settings: AccountThrottle,
    memory: MemoryThrottle,
}

impl Accounts {
    pub(super) fn new() -> Self {
        Accounts {
            settings: AccountThrottle::default(),
            memory: MemoryThrottle::new(),
        }
    }

    pub(super) async fn attempt(
        &self,
        backend: &Backend,
        key: &ThrottleKey,
        subject: Option<&str>,
    ) -> Result<(), Response> {
        let answer = match &backend.store {
            None => Ok(self
                .memory
                .attempt(key, &self.settings)
                .err()
                .map(Duration::from_millis)),
            Some(store) => {
                observe::store(
                    "rate_limits",
                    "throttle",
                    store.throttle(key, ThrottleOp::Attempt, self.settings),
                )
                .await
            }
        };
        match answer {
            Ok(None) => {
                backend.succeeded();
                Ok(())
            }
            Ok(Some(wait)) => {
                audit_refusal(key.factor(), subject);
                let ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
                Err(AccountThrottled::new(ms).into_response())
            }
            Err(error) => {
                backend.failed(&error);
                if backend.fail_open {
                    Ok(())
                } else {
                    Verdict::Unavailable.into_result(subject).map(|_| ())
                }
            }
        }
    }

    pub(super) async fn success(&self, backend: &Backend, key: &ThrottleKey) {
        match &backend.store {
            None => self.memory.success(key, &self.settings),
            Some(store) => {
                if let Err(error) = observe::store(
                    "rate_limits",
                    "throttle",
                    store.throttle(key, ThrottleOp::Success, self.settings),
                )
                .await
                {
                    backend.failed(&error);
                }
            }
        }
    }

    pub(super) fn len(&self) -> usize {
        self.memory.len()
    }
}
