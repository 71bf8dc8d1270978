//! Where the code records metrics, at their sources. Each call is nothing without the
//! `metrics` feature, and next to nothing until `metrics::install`.
//! The names and labels are listed in `secure_core::metrics`.

use std::future::Future;
#[cfg(feature = "metrics")]
use std::time::Instant;

/// An extractor refused a request's input (`extractor`: `json`, `form`, `query`, `path`).
pub(crate) fn input_rejected(extractor: &'static str, status: u16) {
    #[cfg(feature = "metrics")]
    crate::metrics::input_rejected(extractor, status);
    #[cfg(not(feature = "metrics"))]
    let _ = (extractor, status);
}

/// A rate limit refused a request: `limit` is its name (the route template, `default`, or
/// one of the accounts' own), `key` what it counts by.
#[cfg(feature = "edge")]
pub(crate) fn rate_limited(limit: &'static str, key: &crate::ratelimit::ClientKey) {
    #[cfg(feature = "metrics")]
    {
        use crate::ratelimit::ClientKey;
        let key = match key {
            ClientKey::Ip(_) => "address",
            ClientKey::User(_) => "user",
            ClientKey::Global => "global",
        };
        crate::metrics::rate_limited(limit, key);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (limit, key);
}

/// One call to a store (`store`: `accounts`, `refresh_tokens`, `sessions`, `rate_limits`;
/// `operation`: the method), timed; a failure is counted.
#[cfg_attr(
    not(feature = "identity"),
    allow(dead_code, reason = "the stores come with identity")
)]
pub(crate) async fn store<T, E>(
    store: &'static str,
    operation: &'static str,
    call: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    #[cfg(feature = "metrics")]
    {
        let start = Instant::now();
        let result = call.await;
        crate::metrics::store_call(store, operation, start.elapsed(), result.is_ok());
        result
    }
    #[cfg(not(feature = "metrics"))]
    {
        let _ = (store, operation);
        call.await
    }
}

/// A step's start: the method named for the step records how long it took.
#[derive(Debug)]
#[cfg_attr(
    not(feature = "identity"),
    allow(dead_code, reason = "the timed steps come with identity")
)]
pub(crate) struct Timer {
    #[cfg(feature = "metrics")]
    start: Instant,
}

#[cfg_attr(
    not(feature = "identity"),
    allow(dead_code, reason = "the timed steps come with identity")
)]
impl Timer {
    pub(crate) fn start() -> Self {
        Timer {
            #[cfg(feature = "metrics")]
            start: Instant::now(),
        }
    }

    /// One Argon2id hash (`operation`: `hash` or `verify`).
    pub(crate) fn password_hash(self, operation: &'static str) {
        #[cfg(feature = "metrics")]
        crate::metrics::password_hash(operation, self.start.elapsed());
        #[cfg(not(feature = "metrics"))]
        let _ = operation;
    }

    /// The wait for a hashing slot (whether one came or not).
    pub(crate) fn password_hash_wait(self) {
        #[cfg(feature = "metrics")]
        crate::metrics::password_hash_wait(self.start.elapsed());
    }

    /// A sign-in, from the request to its answer (`outcome`: what it answered).
    #[cfg_attr(
        not(feature = "accounts"),
        allow(dead_code, reason = "sign-ins are the accounts'")
    )]
    pub(crate) fn sign_in(self, outcome: &'static str) {
        #[cfg(feature = "metrics")]
        crate::metrics::sign_in(outcome, self.start.elapsed());
        #[cfg(not(feature = "metrics"))]
        let _ = outcome;
    }
}

/// A request's start and labels until its answer is known, then its duration recorded.
#[cfg(feature = "metrics")]
pub(crate) type RequestTiming = crate::metrics::RequestTiming;

/// Without the `metrics` feature, nothing is timed.
#[cfg(all(feature = "edge", not(feature = "metrics")))]
#[derive(Debug)]
pub(crate) struct RequestTiming;

#[cfg(all(feature = "edge", not(feature = "metrics")))]
impl RequestTiming {
    pub(crate) fn start(_: &axum::http::Method, _: Option<&axum::extract::MatchedPath>) -> Self {
        RequestTiming
    }

    pub(crate) fn finish(&self, _: axum::http::StatusCode) {}
}
