//! How many Argon2id hashes run at once, and the answer when none may start.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

use crate::audit::{self, Outcome};
use crate::error::Problem;

/// The most hashes a [`PasswordHasher`](super::PasswordHasher) runs at once, and how long a
/// call waits for one of them to finish before it gives up with [`HasherBusy`].
///
/// Memory is bounded by design: `concurrent` × the Argon2 memory cost (19 MiB with the OWASP
/// parameters), whatever arrives. The default is one hash per CPU (more would only queue for
/// the CPU while holding memory) and a wait of one second, so a flood is answered quickly
/// with 503s rather than slowly with timeouts. `SECURE_PASSWORD_HASHES` and
/// `SECURE_PASSWORD_HASH_WAIT` set them ([`SecurityConfig::hash_limit`]).
///
/// [`SecurityConfig::hash_limit`]: crate::config::SecurityConfig::hash_limit
///
/// ```
/// use std::time::Duration;
/// use secure_core::auth::password::HashLimit;
///
/// let limit = HashLimit::default();
/// assert_eq!(limit.concurrent, std::thread::available_parallelism().unwrap().get());
/// assert_eq!(limit.wait, Duration::from_secs(1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashLimit {
    /// Hashes running at once (at least 1).
    pub concurrent: usize,
    /// How long a call waits for a free slot.
    pub wait: Duration,
}

impl HashLimit {
    /// The default wait for a hashing slot.
    pub const DEFAULT_WAIT: Duration = Duration::from_secs(1);
    /// The most slots a limit may have (tokio's blocking pool has 512 threads).
    pub const MAX_CONCURRENT: usize = 512;
}

impl Default for HashLimit {
    fn default() -> Self {
        HashLimit {
            concurrent: std::thread::available_parallelism().map_or(1, |n| n.get()),
            wait: Self::DEFAULT_WAIT,
        }
    }
}

/// Every hashing slot stayed taken for the whole wait. Answer it as it is: a 503
/// problem+json with `Retry-After` and the code `busy`, which tells nothing about the account
/// (unknown users wait for a slot like known ones).
///
/// ```
/// use axum::response::IntoResponse;
/// use secure_core::auth::password::HasherBusy;
///
/// let response = HasherBusy::new(1).into_response();
/// assert_eq!(response.status(), 503);
/// assert_eq!(response.headers()["retry-after"], "1");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HasherBusy {
    retry_after_secs: u64,
}

impl HasherBusy {
    /// A refusal that asks the client to come back after `retry_after_secs` (at least 1).
    pub fn new(retry_after_secs: u64) -> Self {
        HasherBusy {
            retry_after_secs: retry_after_secs.max(1),
        }
    }

    /// Seconds the client should wait (`Retry-After`).
    pub fn retry_after_secs(&self) -> u64 {
        self.retry_after_secs
    }
}

impl fmt::Display for HasherBusy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("every password hashing slot is busy")
    }
}

impl std::error::Error for HasherBusy {}

impl IntoResponse for HasherBusy {
    fn into_response(self) -> Response {
        let mut response = Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "The service is busy: try again in a moment.",
        )
        .with_code("busy")
        .into_response();
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(self.retry_after_secs),
        );
        response
    }
}

/// The slots themselves: a semaphore shared by every clone of one hasher.
pub(super) struct Slots {
    limit: HashLimit,
    semaphore: Arc<Semaphore>,
}

impl Slots {
    pub(super) fn new(limit: HashLimit) -> Self {
        let limit = HashLimit {
            concurrent: limit.concurrent.clamp(1, HashLimit::MAX_CONCURRENT),
            wait: limit.wait,
        };
        Slots {
            limit,
            semaphore: Arc::new(Semaphore::new(limit.concurrent)),
        }
    }

    pub(super) fn limit(&self) -> HashLimit {
        self.limit
    }

    /// A slot, waiting at most the limit's wait.
    pub(super) async fn acquire(&self) -> Result<OwnedSemaphorePermit, HasherBusy> {
        let waiting = Arc::clone(&self.semaphore).acquire_owned();
        match tokio::time::timeout(self.limit.wait, waiting).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(self.busy()),
        }
    }

    /// A slot for a caller on a blocking thread (no runtime needed): polls until the wait is
    /// over.
    pub(super) fn acquire_blocking(&self) -> Result<OwnedSemaphorePermit, HasherBusy> {
        let deadline = Instant::now() + self.limit.wait;
        loop {
            match Arc::clone(&self.semaphore).try_acquire_owned() {
                Ok(permit) => return Ok(permit),
                Err(TryAcquireError::NoPermits) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(_) => return Err(self.busy()),
            }
        }
    }

    fn busy(&self) -> HasherBusy {
        audit::emit("auth.password", Outcome::Failure, None, "hasher_busy");
        HasherBusy::new(self.limit.wait.as_secs().saturating_add(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_hasher_answers_busy_after_the_wait_and_frees_slots() {
        let slots = Slots::new(HashLimit {
            concurrent: 2,
            wait: Duration::from_millis(20),
        });
        let a = slots.acquire().await.unwrap();
        let b = slots.acquire_blocking().unwrap();
        let busy = slots.acquire().await.unwrap_err();
        assert_eq!(busy.retry_after_secs(), 1);
        assert!(slots.acquire_blocking().is_err());
        drop(a);
        let c = slots.acquire().await.unwrap();
        drop((b, c));
        assert!(slots.acquire_blocking().is_ok());
    }

    #[test]
    fn limits_are_kept_in_range() {
        let none = Slots::new(HashLimit {
            concurrent: 0,
            wait: Duration::ZERO,
        });
        assert_eq!(none.limit().concurrent, 1);
        let many = Slots::new(HashLimit {
            concurrent: 100_000,
            wait: Duration::ZERO,
        });
        assert_eq!(many.limit().concurrent, HashLimit::MAX_CONCURRENT);
    }

    #[tokio::test]
    async fn busy_is_a_503_problem_with_retry_after() {
        use http_body_util::BodyExt;
        let response = HasherBusy::new(0).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["code"], "busy");
        assert_eq!(json["status"], 503);
    }
}
