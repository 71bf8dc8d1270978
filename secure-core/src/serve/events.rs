//! What the connection limits refused or closed, counted and logged as one audit summary per
//! reason and interval: a flood of hostile connections must not become a flood of log lines.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::audit::{self, Outcome};

/// Why the server refused or closed a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ConnectionEvent {
    /// Its address already held as many connections as it may.
    PerAddress,
    /// Every slot was taken by a connection with a request in flight.
    Capacity,
    /// Closed to make room: it had no request in flight and had waited longest.
    Evicted,
    /// Its request head did not arrive within the header read timeout.
    HeaderTimeout,
    /// `accept` failed (out of file descriptors, say); the listener waited and went on.
    AcceptError,
}

impl ConnectionEvent {
    const ALL: [ConnectionEvent; 5] = [
        ConnectionEvent::PerAddress,
        ConnectionEvent::Capacity,
        ConnectionEvent::Evicted,
        ConnectionEvent::HeaderTimeout,
        ConnectionEvent::AcceptError,
    ];

    /// The audit event and reason code.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            ConnectionEvent::PerAddress => ("conn.refused", "per_address"),
            ConnectionEvent::Capacity => ("conn.refused", "capacity"),
            ConnectionEvent::Evicted => ("conn.closed", "evicted"),
            ConnectionEvent::HeaderTimeout => ("conn.closed", "header_timeout"),
            ConnectionEvent::AcceptError => ("conn.accept", "accept_error"),
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Addresses remembered per interval to name the busiest; beyond it, events are only counted.
const TRACKED_ADDRESSES: usize = 1024;

/// At most one summary per reason in this time; the first event after a quiet interval is
/// logged at once.
pub(crate) const SUMMARY_INTERVAL: Duration = Duration::from_secs(10);

type Counts = HashMap<(ConnectionEvent, Option<IpAddr>), u64>;

/// Counts since start (for tests and, later, metrics) and the current interval's counts by
/// address (for the summary).
#[derive(Debug, Default)]
pub(crate) struct ConnectionEvents {
    totals: [AtomicU64; 5],
    window: Mutex<Window>,
}

#[derive(Debug, Default)]
struct Window {
    counts: Counts,
    /// When a summary was last logged.
    logged: Option<Instant>,
}

impl ConnectionEvents {
    pub(crate) fn record(&self, event: ConnectionEvent, address: Option<IpAddr>) {
        self.totals[event.index()].fetch_add(1, Ordering::Relaxed);
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        let counts = &mut window.counts;
        let address = if counts.len() < TRACKED_ADDRESSES || counts.contains_key(&(event, address))
        {
            address
        } else {
            None
        };
        *counts.entry((event, address)).or_insert(0) += 1;
        if window
            .logged
            .is_none_or(|at| at.elapsed() >= SUMMARY_INTERVAL)
        {
            let counts = take(&mut window);
            drop(window);
            summarise(&counts);
        }
    }

    /// How many `event`s since the server started.
    #[cfg(test)]
    pub(crate) fn total(&self, event: ConnectionEvent) -> u64 {
        self.totals[event.index()].load(Ordering::Relaxed)
    }

    /// Logs what was counted since the last summary (the server calls it every
    /// [`SUMMARY_INTERVAL`] and at shutdown).
    pub(crate) fn flush(&self) {
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        if window.counts.is_empty() {
            return;
        }
        let counts = take(&mut window);
        drop(window);
        summarise(&counts);
    }
}

fn take(window: &mut Window) -> Counts {
    window.logged = Some(Instant::now());
    std::mem::take(&mut window.counts)
}

/// One audit event per reason: how many, and the address with the most.
fn summarise(window: &Counts) {
    for event in ConnectionEvent::ALL {
        let mut count = 0;
        let mut busiest: Option<(IpAddr, u64)> = None;
        for ((e, address), n) in window {
            if *e != event {
                continue;
            }
            count += n;
            if let Some(address) = address
                && busiest.is_none_or(|(_, most)| *n > most)
            {
                busiest = Some((*address, *n));
            }
        }
        if count > 0 {
            let (name, reason) = event.names();
            let outcome = match event {
                ConnectionEvent::AcceptError => Outcome::Failure,
                _ => Outcome::Denied,
            };
            audit::emit_summary(name, outcome, reason, count, busiest.map(|(a, _)| a));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_reason_and_names_the_busiest_address() {
        let events = ConnectionEvents::default();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        // The first is logged at once; the rest wait for the interval.
        events.record(ConnectionEvent::PerAddress, Some(a));
        assert!(events.window.lock().unwrap().counts.is_empty());
        for _ in 0..3 {
            events.record(ConnectionEvent::PerAddress, Some(a));
        }
        events.record(ConnectionEvent::PerAddress, Some(b));
        events.record(ConnectionEvent::HeaderTimeout, Some(b));
        assert_eq!(events.total(ConnectionEvent::PerAddress), 5);
        assert_eq!(events.total(ConnectionEvent::Capacity), 0);
        let counts = events.window.lock().unwrap().counts.clone();
        assert_eq!(counts[&(ConnectionEvent::PerAddress, Some(a))], 3);
        events.flush();
        assert!(events.window.lock().unwrap().counts.is_empty());
        // Totals outlive the interval.
        assert_eq!(events.total(ConnectionEvent::HeaderTimeout), 1);
    }

    #[test]
    fn the_window_holds_a_bounded_number_of_addresses() {
        let events = ConnectionEvents::default();
        for i in 0..5000u32 {
            let address = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            events.record(ConnectionEvent::PerAddress, Some(address));
        }
        let window = events.window.lock().unwrap();
        assert!(
            window.counts.len() <= TRACKED_ADDRESSES + 1,
            "{}",
            window.counts.len()
        );
        // The first was logged at once; every other one is counted.
        assert_eq!(window.counts.values().sum::<u64>(), 4999);
    }
}
