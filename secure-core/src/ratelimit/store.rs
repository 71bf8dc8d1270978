//! The store boundary: where limits are decided when several instances must share them.
//!
//! Without a store, [`RateLimiter`](super::RateLimiter) decides in memory (governor, per
//! process, no await on the hot path). With one ([`RateLimiter::store`],
//! `RateLimiter::redis` with the feature `redis`), every decision (per-route limits and the per-IP default) is the
//! store's, made asynchronously in the request's future.
//!
//! [`RateLimiter::store`]: super::RateLimiter::store

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use super::ClientKey;
use super::RateLimit;
use super::account::{AccountThrottle, ThrottleKey};

/// Which limit a decision counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// A route's own limit, named by its handler path.
    Route(&'static str),
    /// The per-client-IP limit every route shares.
    Default,
}

/// A store's answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreDecision {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// Requests left after this one (0 when refused).
    pub remaining: u32,
    /// Allowed: until the budget is full again. Refused: until the next request is allowed.
    pub reset: Duration,
}

use crate::error::StoreError;

/// The future of one decision.
pub type StoreFuture<'a> =
    Pin<Box<dyn Future<Output = Result<StoreDecision, StoreError>> + Send + 'a>>;

/// What an account throttle step does ([`super::account`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleOp {
    /// Counts an attempt as a failure if it may go ahead.
    Attempt,
    /// Forgives the attempt that just succeeded.
    Success,
}

/// The future of a readiness check.
pub type ReadyFuture<'a> = Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'a>>;

/// The future of one throttle step: `Ok(None)` to go ahead (or done), `Ok(Some(wait))` when
/// refused.
pub type ThrottleFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Option<Duration>, StoreError>> + Send + 'a>>;

/// A shared store: GCRA rate limits and account throttle counters, each step atomic with
/// respect to every other instance using the same store.
pub trait RateLimitStore: Send + Sync + std::fmt::Debug + 'static {
    /// Counts one request.
    fn decide<'a>(&'a self, scope: Scope, key: &'a ClientKey, limit: RateLimit) -> StoreFuture<'a>;

    /// One step of an account throttle counter.
    fn throttle<'a>(
        &'a self,
        key: &'a ThrottleKey,
        op: ThrottleOp,
        policy: AccountThrottle,
    ) -> ThrottleFuture<'a>;

    /// Whether the store answers now (a readiness probe asks it); `Ok` unless overridden.
    fn ready(&self) -> ReadyFuture<'_> {
        Box::pin(async { Ok(()) })
    }
}
