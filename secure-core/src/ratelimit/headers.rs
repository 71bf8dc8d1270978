//! The `RateLimit` and `RateLimit-Policy` response fields, in the format of
//! draft-ietf-httpapi-ratelimit-headers-09 (the named-policy structured-field syntax that
//! draft -08 introduced and -09 keeps):
//!
//! ```text
//! RateLimit-Policy: "route";q=5;w=60
//! RateLimit: "route";r=0;t=12
//! ```
//!
//! `q` is the quota (requests), `w` the window in seconds, `r` the remaining quota and `t`
//! the seconds until it resets. Both fields are Structured Field Lists, so a response that
//! passed two limits (the route's and the per-IP default) carries one item per policy. No
//! partition key (`pk`) is sent: it would echo the client address or subject back.
//!
//! GCRA has no fixed window: `t` is the time until the budget is full again when requests
//! remain, and the time until the next request is allowed when none remain (the
//! `Retry-After` of a 429), so a client that waits `t` is never refused for that policy.

use std::time::Duration;

use axum::http::header::{HeaderName, HeaderValue, RETRY_AFTER};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use governor::middleware::StateSnapshot;

use crate::error::Problem;

/// `RateLimit`.
pub const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
/// `RateLimit-Policy`.
pub const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

/// Whole seconds, rounded up: a client told to wait 0 s while 300 ms remain would be refused.
pub(crate) fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// One limiter decision: allowed or not, and what to tell the client.
///
/// The remaining quota and reset time are computed when asked (when the response's fields
/// are written), not while deciding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The policy's name in the fields (`"route"`, `"default"`).
    pub policy: &'static str,
    /// Whether the request may proceed.
    pub allowed: bool,
    /// The quota: requests per window.
    pub quota: u32,
    /// The window, in seconds.
    pub window_secs: u64,
    outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Allowed {
        state: StateSnapshot,
        replenish: Duration,
    },
    Denied {
        wait: Duration,
    },
    /// A store's answer for an allowed request: the numbers come computed.
    Stored {
        remaining: u32,
        reset: Duration,
    },
}

impl Decision {
    pub(crate) fn allowed(
        policy: &'static str,
        quota: u32,
        window_secs: u64,
        state: StateSnapshot,
        replenish: Duration,
    ) -> Self {
        Decision {
            policy,
            allowed: true,
            quota,
            window_secs,
            outcome: Outcome::Allowed { state, replenish },
        }
    }

    pub(crate) fn denied(
        policy: &'static str,
        quota: u32,
        window_secs: u64,
        wait: Duration,
    ) -> Self {
        Decision {
            policy,
            allowed: false,
            quota,
            window_secs,
            outcome: Outcome::Denied { wait },
        }
    }

    /// For a refused request, the whole seconds until the next is allowed (at least 1).
    pub fn retry_after_secs(&self) -> Option<u64> {
        match &self.outcome {
            Outcome::Denied { wait } => Some(wait.as_secs_f64().ceil().max(1.0) as u64),
            _ => None,
        }
    }

    /// A store's answer ([`RateLimitStore`](super::RateLimitStore)): for a refused request
    /// `reset` is the wait until the next one is allowed.
    pub(crate) fn stored(
        policy: &'static str,
        quota: u32,
        window_secs: u64,
        answer: super::store::StoreDecision,
    ) -> Self {
        if !answer.allowed {
            return Decision::denied(policy, quota, window_secs, answer.reset);
        }
        Decision {
            policy,
            allowed: true,
            quota,
            window_secs,
            outcome: Outcome::Stored {
                remaining: answer.remaining.min(quota),
                reset: answer.reset,
            },
        }
    }

    /// Requests left after this one.
    pub fn remaining(&self) -> u32 {
        match &self.outcome {
            Outcome::Allowed { state, .. } => state.remaining_burst_capacity(),
            Outcome::Denied { .. } => 0,
            Outcome::Stored { remaining, .. } => *remaining,
        }
    }

    /// Until the budget resets (see the module documentation): for an allowed request, until
    /// every spent request is refilled (an upper bound within one refill interval); for a
    /// refused one, until the next request is allowed.
    pub fn reset(&self) -> Duration {
        match &self.outcome {
            Outcome::Allowed { state, replenish } => {
                let used = self
                    .quota
                    .max(1)
                    .saturating_sub(state.remaining_burst_capacity());
                *replenish * used
            }
            Outcome::Denied { wait } | Outcome::Stored { reset: wait, .. } => *wait,
        }
    }

    /// The `RateLimit-Policy` item: `"route";q=5;w=60`.
    pub fn policy_value(&self) -> HeaderValue {
        item(
            self.policy,
            ";q=",
            u64::from(self.quota),
            ";w=",
            self.window_secs,
        )
    }

    /// The `RateLimit` item: `"route";r=4;t=12`.
    pub fn state_value(&self) -> HeaderValue {
        item(
            self.policy,
            ";r=",
            u64::from(self.remaining()),
            ";t=",
            ceil_secs(self.reset()),
        )
    }

    /// The fields to add to the response of an allowed request.
    pub fn headers(&self) -> RateLimitHeaders {
        RateLimitHeaders {
            fields: Some((self.policy_value(), self.state_value())),
        }
    }

    /// The 429 of a refused request: problem+json, `Retry-After` and both fields.
    pub fn too_many_requests(&self) -> Response {
        let mut response = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests: try again later.",
        )
        .into_response();
        response.headers_mut().insert(
            RETRY_AFTER,
            HeaderValue::from(ceil_secs(self.reset()).max(1)),
        );
        self.headers().add_to(response.headers_mut());
        response
    }
}

/// `"policy";a=1;b=2`: on every response of a limited route, so written on the stack and
/// copied once into the header value (a `String` handed over would cost a second allocation
/// whenever its capacity is not its length).
fn item(policy: &str, a: &str, first: u64, b: &str, second: u64) -> HeaderValue {
    use std::io::Write as _;
    let mut buf = [0u8; 160];
    let mut rest = &mut buf[..];
    let value = match write!(rest, "\"{policy}\"{a}{first}{b}{second}") {
        Ok(()) => {
            let len = 160 - rest.len();
            HeaderValue::from_bytes(&buf[..len])
        }
        // A longer policy name than any route's: written the slower way.
        Err(_) => HeaderValue::try_from(format!("\"{policy}\"{a}{first}{b}{second}")),
    };
    // Policy names are our own token-like constants and the rest are digits.
    value.unwrap_or_else(|_| HeaderValue::from_static("\"route\""))
}

/// The `RateLimit` fields of an allowed request, to add to its response.
#[derive(Debug, Clone)]
#[must_use = "add the fields to the response with `apply`"]
pub struct RateLimitHeaders {
    /// `None` when no limit was counted (a store that could not be reached, failing open).
    fields: Option<(HeaderValue, HeaderValue)>,
}

impl RateLimitHeaders {
    /// No fields: nothing was counted.
    pub(crate) fn none() -> Self {
        RateLimitHeaders { fields: None }
    }

    /// Appends both fields (appends: another policy's items may already be there).
    pub fn add_to(self, headers: &mut HeaderMap) {
        if let Some((policy, state)) = self.fields {
            headers.append(RATELIMIT_POLICY, policy);
            headers.append(RATELIMIT, state);
        }
    }

    /// The response with both fields added.
    pub fn apply(self, mut response: Response) -> Response {
        self.add_to(response.headers_mut());
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_follow_the_draft_syntax() {
        let d = Decision::denied("route", 5, 60, Duration::from_millis(11_200));
        assert_eq!(d.policy_value(), "\"route\";q=5;w=60");
        assert_eq!(d.state_value(), "\"route\";r=0;t=12");
        let r = d.too_many_requests();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[RETRY_AFTER], "12");
        assert_eq!(r.headers()[RATELIMIT], "\"route\";r=0;t=12");
        // A name longer than the stack buffer is written all the same.
        let long: &'static str = "p".repeat(300).leak();
        let d = Decision::denied(long, u32::MAX, u64::MAX, Duration::ZERO);
        assert_eq!(
            d.policy_value(),
            format!("\"{long}\";q={};w={}", u32::MAX, u64::MAX).as_str()
        );
    }

    #[test]
    fn a_store_answer_gives_the_same_fields() {
        let answer = |allowed, remaining, ms| crate::ratelimit::StoreDecision {
            allowed,
            remaining,
            reset: Duration::from_millis(ms),
        };
        let ok = Decision::stored("route", 5, 60, answer(true, 3, 35_990));
        assert!(ok.allowed);
        assert_eq!(ok.state_value(), "\"route\";r=3;t=36");
        // A store cannot report more than the quota.
        let odd = Decision::stored("route", 5, 60, answer(true, 9, 1));
        assert_eq!(odd.remaining(), 5);
        let refused = Decision::stored("route", 5, 60, answer(false, 0, 11_200));
        assert!(!refused.allowed);
        assert_eq!(refused.too_many_requests().headers()[RETRY_AFTER], "12");
        let none = Decision::stored("route", 5, 60, answer(false, 0, 0));
        assert_eq!(none.too_many_requests().headers()[RETRY_AFTER], "1");
        // Failing open: nothing counted, no fields.
        let response = RateLimitHeaders::none().apply(Response::default());
        assert!(!response.headers().contains_key(RATELIMIT));
    }
}
