//! How many Argon2id hashes run at once, and the answer when none may start.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::Block;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

use crate::audit::{self, Outcome};
use crate::error::Problem;
use crate::observe::Timer;

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

impl HasherBusy {
    /// 503 `busy` with `Retry-After`: says nothing about the account.
    pub fn problem(&self) -> Problem {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "The service is busy: try again in a moment.",
        )
        .with_code("busy")
        .with_header(
            header::RETRY_AFTER,
            HeaderValue::from(self.retry_after_secs),
        )
    }
}

impl IntoResponse for HasherBusy {
    fn into_response(self) -> Response {
        self.problem().into_response()
    }
}

/// `?` in a handler: [`HasherBusy::problem`].
impl From<HasherBusy> for crate::error::ApiError {
    fn from(busy: HasherBusy) -> Self {
        busy.problem().into()
    }
}

/// The slots themselves: a semaphore shared by every clone of one hasher, and one Argon2
/// memory area per slot, allocated once and reused. Letting Argon2 allocate 19 MiB per hash
/// instead leaves the allocator holding far more than the slots use: 120 logins through two
/// slots peaked at 471 MiB that way, against about 2 × 19 MiB with reused areas.
pub(super) struct Slots {
    limit: HashLimit,
    semaphore: Arc<Semaphore>,
    memory: Arc<Mutex<Vec<Vec<Block>>>>,
}

/// One running hash's turn: its permit and its memory area, both given back on drop.
pub(super) struct Slot {
    _permit: OwnedSemaphorePermit,
    memory: Vec<Block>,
    home: Arc<Mutex<Vec<Vec<Block>>>>,
}

// No contents: the areas hold Argon2 work memory.
impl fmt::Debug for Slots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slots")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slot")
            .field("blocks", &self.memory.len())
            .finish_non_exhaustive()
    }
}

impl Slot {
    /// `blocks` Argon2 blocks of this slot's area, grown if a hash needs more.
    pub(super) fn memory(&mut self, blocks: usize) -> &mut [Block] {
        if self.memory.len() < blocks {
            self.memory = vec![Block::new(); blocks];
        }
        &mut self.memory[..blocks]
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let memory = std::mem::take(&mut self.memory);
        if !memory.is_empty() {
            self.home
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(memory);
        }
    }
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
            memory: Arc::new(Mutex::new(Vec::new())),
        }
    }

    fn slot(&self, permit: OwnedSemaphorePermit) -> Slot {
        let memory = self
            .memory
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .unwrap_or_default();
        Slot {
            _permit: permit,
            memory,
            home: Arc::clone(&self.memory),
        }
    }

    pub(super) fn limit(&self) -> HashLimit {
        self.limit
    }

    /// A slot, waiting at most the limit's wait (which needs tokio's timer, as
    /// `#[tokio::main]` runtimes have; a free slot is taken without it).
    pub(super) async fn acquire(&self) -> Result<Slot, HasherBusy> {
        let timer = Timer::start();
        if let Ok(permit) = Arc::clone(&self.semaphore).try_acquire_owned() {
            timer.password_hash_wait();
            return Ok(self.slot(permit));
        }
        let waiting = Arc::clone(&self.semaphore).acquire_owned();
        let turn = tokio::time::timeout(self.limit.wait, waiting).await;
        timer.password_hash_wait();
        match turn {
            Ok(Ok(permit)) => Ok(self.slot(permit)),
            _ => Err(self.busy()),
        }
    }

    /// A slot for a caller on a blocking thread (no runtime needed): polls until the wait is
    /// over.
    pub(super) fn acquire_blocking(&self) -> Result<Slot, HasherBusy> {
        let timer = Timer::start();
        let deadline = Instant::now() + self.limit.wait;
        loop {
            match Arc::clone(&self.semaphore).try_acquire_owned() {
                Ok(permit) => {
                    timer.password_hash_wait();
                    return Ok(self.slot(permit));
                }
                Err(TryAcquireError::NoPermits) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(_) => {
                    timer.password_hash_wait();
                    return Err(self.busy());
                }
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

    #[tokio::test]
    async fn memory_areas_are_reused_not_reallocated() {
        let slots = Slots::new(HashLimit {
            concurrent: 2,
            wait: Duration::from_millis(20),
        });
        let mut a = slots.acquire().await.unwrap();
        let first = a.memory(64).as_ptr();
        drop(a);
        let mut b = slots.acquire().await.unwrap();
        assert_eq!(b.memory(64).as_ptr(), first, "the area came back");
        let mut c = slots.acquire().await.unwrap();
        assert_ne!(c.memory(64).as_ptr(), first, "a second slot has its own");
        drop((b, c));
        assert_eq!(slots.memory.lock().unwrap().len(), 2);
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
