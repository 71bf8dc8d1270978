//! Per-route rate limits (OWASP API4: unrestricted resource consumption; ASVS 2.2.1 against
//! credential stuffing and brute force).
//!
//! GCRA (governor) in memory, one keyed limiter per route: `rate_limit("5/min", key = ip)`
//! lets each client IP burst 5 requests, then one every 12 s. The client IP is the socket
//! peer (`ConnectInfo<SocketAddr>`, so serve with `into_make_service_with_connect_info`);
//! without it every client shares the key `unknown`, which fails safe (stricter).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Extension;
use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::policy::{RateKey, RateLimit};

/// The rate limiters of every route, keyed by the route's handler path.
#[derive(Default)]
pub struct RateLimiter {
    routes: Mutex<HashMap<&'static str, Arc<DefaultKeyedRateLimiter<String>>>>,
    clock: DefaultClock,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter").finish_non_exhaustive()
    }
}

fn quota(limit: RateLimit) -> Quota {
    let count = NonZeroU32::new(limit.count).unwrap_or(NonZeroU32::MIN);
    let period = Duration::from_secs(limit.period_secs.max(1)) / count.get();
    Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(count))
        .allow_burst(count)
}

impl RateLimiter {
    /// An empty registry: each route's limiter is made on its first request.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one request of `key` against `route`'s limit: `Err(wait)` when over it.
    pub fn check(&self, route: &'static str, limit: RateLimit, key: &str) -> Result<(), Duration> {
        let limiter = {
            let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(
                routes
                    .entry(route)
                    .or_insert_with(|| Arc::new(governor::RateLimiter::keyed(quota(limit)))),
            )
        };
        let key = key.to_owned();
        limiter
            .check_key(&key)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// The key a request counts under: the client IP, the subject, or one global key.
    pub fn key_for(parts: &Parts, key: RateKey, subject: Option<&str>) -> String {
        match key {
            RateKey::Global => String::new(),
            RateKey::User => format!("user:{}", subject.unwrap_or("anonymous")),
            RateKey::Ip => match parts.extensions.get::<ConnectInfo<SocketAddr>>() {
                Some(ConnectInfo(addr)) => format!("ip:{}", addr.ip()),
                None => "ip:unknown".to_owned(),
            },
        }
    }

    /// The limiter as a router layer: `router.layer(RateLimiter::new().layer())`.
    pub fn layer(self) -> Extension<Arc<RateLimiter>> {
        Extension(Arc::new(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_burst_then_refuses_with_a_wait() {
        let limiter = RateLimiter::new();
        let limit = RateLimit {
            count: 3,
            period_secs: 60,
            key: RateKey::Ip,
        };
        for _ in 0..3 {
            assert!(limiter.check("r", limit, "a").is_ok());
        }
        let wait = limiter.check("r", limit, "a").unwrap_err();
        assert!(
            wait > Duration::from_secs(10) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        // Another key and another route have their own budgets.
        assert!(limiter.check("r", limit, "b").is_ok());
        assert!(limiter.check("other", limit, "a").is_ok());
    }
}
