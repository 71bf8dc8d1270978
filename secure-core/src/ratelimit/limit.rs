//! What a limit is: how many requests per period, and whose requests share the budget. The
//! value `#[secure_handler(rate_limit("5/min", key = ip))]` writes, and every store reads.

use serde::Serialize;

/// Whose requests share one rate-limit budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RateKey {
    /// Each client IP address.
    Ip,
    /// Each authenticated subject.
    User,
    /// Everyone together.
    Global,
}

/// `rate_limit("5/min", key = ip)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RateLimit {
    /// Requests allowed per period.
    pub count: u32,
    /// The period, in seconds.
    pub period_secs: u64,
    /// Who shares the budget.
    pub key: RateKey,
}
