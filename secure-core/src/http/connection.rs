//! Limits on connections, before any request exists: what stops one client from holding every
//! connection slot and file descriptor with sockets that never finish a request (slowloris,
//! idle floods). Per-request limits (rate limits, the request timeout) never see such
//! connections, because no request completes.
//!
//! [`serve`](crate::serve::serve) applies these (OWASP API4:2023; the equivalents of nginx's
//! `client_header_timeout`, `keepalive_timeout` and `limit_conn`, and Go's
//! `ReadHeaderTimeout` and `IdleTimeout`):
//!
//! | limit | default | over it |
//! | --- | --- | --- |
//! | header read | 10 s for a request's whole head, from the connection's start or its first byte | closed |
//! | idle keep-alive | 75 s between requests | closed |
//! | per client address | 64 open connections (IPv6 by the rate limiter's prefix; trusted proxies exempt) | the new connection closed at once |
//! | all connections | the open-file limit less a reserve ([`max_for_file_limit`]) | the longest-waiting connection with no request in flight closed to make room; if every one has a request in flight, the new one closed |
//!
//! ```
//! use std::time::Duration;
//! use secure_core::http::connection::ConnectionLimits;
//!
//! let limits = ConnectionLimits::new()
//!     .header_read_timeout(Duration::from_secs(5))
//!     .per_address(256);
//! assert_eq!(limits.per_address_limit(), Some(256));
//! assert_eq!(limits.idle(), Duration::from_secs(75));
//! ```

use std::time::Duration;

/// How long a client may take to send a request's whole head (request line and headers),
/// from the connection's start or from the first byte of a later request: 10 s.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a keep-alive connection may wait for its next request: 75 s (nginx's
/// `keepalive_timeout`; longer than the 60 s idle timeout of common load balancers, which
/// must close first so they never reuse a connection this server is closing).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(75);

/// Open connections one client address may hold: 64 (a browser opens at most 6 per host).
pub const DEFAULT_PER_ADDRESS: u32 = 64;

/// The connection limits [`serve`](crate::serve::serve) applies (module docs for the
/// defaults). Part of [`SecurityConfig`](crate::config::SecurityConfig); the `SECURE_*`
/// variables `SECURE_HEADER_READ_TIMEOUT`, `SECURE_IDLE_TIMEOUT`,
/// `SECURE_CONNECTIONS_PER_ADDRESS` and `SECURE_MAX_CONNECTIONS` set them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    header_read: Duration,
    idle: Duration,
    per_address: Option<u32>,
    max: Option<usize>,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self::new()
    }
}

impl ConnectionLimits {
    /// The defaults: 10 s to send a head, 75 s idle, 64 per address, and as many in all as
    /// the open-file limit allows ([`max_for_file_limit`]).
    pub const fn new() -> Self {
        ConnectionLimits {
            header_read: DEFAULT_HEADER_READ_TIMEOUT,
            idle: DEFAULT_IDLE_TIMEOUT,
            per_address: Some(DEFAULT_PER_ADDRESS),
            max: None,
        }
    }

    /// How long a request's head may take to arrive.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read = timeout;
        self
    }

    /// How long a keep-alive connection may wait for its next request.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle = timeout;
        self
    }

    /// Open connections one client address may hold (at least 1).
    pub fn per_address(mut self, connections: u32) -> Self {
        self.per_address = Some(connections.max(1));
        self
    }

    /// No cap per address: for a service that only a proxy not listed as trusted connects
    /// to. The cap on all connections still applies.
    pub fn without_per_address_limit(mut self) -> Self {
        self.per_address = None;
        self
    }

    /// Open connections in all (at least 1); [`serve`](crate::serve::serve) lowers it to what
    /// the open-file limit allows.
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.max = Some(connections.max(1));
        self
    }

    /// The header read timeout.
    pub fn header_read(&self) -> Duration {
        self.header_read
    }

    /// The idle timeout.
    pub fn idle(&self) -> Duration {
        self.idle
    }

    /// The cap per client address, if any.
    pub fn per_address_limit(&self) -> Option<u32> {
        self.per_address
    }

    /// The cap on all connections given an open-file limit (`None`: unlimited or unknown):
    /// the configured one, lowered to [`max_for_file_limit`].
    pub fn max_for(&self, file_limit: Option<u64>) -> usize {
        let bound = file_limit.map_or(usize::MAX, max_for_file_limit);
        self.max
            .map_or(bound, |max| max.min(bound))
            .min(MAX_WITHOUT_FILE_LIMIT)
    }
}

/// The cap when the file limit is unlimited or unknown (and the highest cap at all).
const MAX_WITHOUT_FILE_LIMIT: usize = 1 << 20;

/// Open connections a process with `file_limit` descriptors may hold: the limit less a
/// reserve of an eighth (at least 64, at most 1,024) for the database pool, Redis, logs and
/// the connections being refused, so `accept` does not fail with "too many open files". If
/// it does all the same (a service holding many files), `serve` lowers its cap to the
/// connections open at that moment and closes the longest-waiting one.
///
/// ```
/// use secure_core::http::connection::max_for_file_limit;
///
/// assert_eq!(max_for_file_limit(1024), 896);
/// assert_eq!(max_for_file_limit(256), 192);
/// assert_eq!(max_for_file_limit(1 << 20), (1 << 20) - 1024);
/// ```
pub fn max_for_file_limit(file_limit: u64) -> usize {
    let reserve = (file_limit / 8).clamp(64, 1024);
    let max = file_limit.saturating_sub(reserve).max(1);
    usize::try_from(max).unwrap_or(MAX_WITHOUT_FILE_LIMIT)
}

/// The process's open-file limit (the soft `RLIMIT_NOFILE`), or `None` when unlimited or
/// not known on this platform.
pub fn file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        rustix::process::getrlimit(rustix::process::Resource::Nofile).current
    }
    #[cfg(not(unix))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_total_stays_below_the_file_limit() {
        for limit in [1u64, 8, 64, 100, 256, 1024, 4096, 65_536, 1 << 20] {
            let max = max_for_file_limit(limit) as u64;
            assert!(max >= 1, "{limit}");
            assert!(max < limit || limit == 1, "{limit}: {max}");
        }
        let limits = ConnectionLimits::new().max_connections(10_000);
        assert_eq!(limits.max_for(Some(1024)), 896);
        assert_eq!(limits.max_for(None), 10_000);
        assert_eq!(ConnectionLimits::new().max_for(None), 1 << 20);
        assert_eq!(
            ConnectionLimits::new()
                .max_connections(100)
                .max_for(Some(1024)),
            100
        );
    }
}
