//! The open connections: how many each client address holds, how many in all, and what
//! each is doing, so a new connection is admitted, refused, or makes room by closing the one
//! that has waited longest without a request in flight.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::events::ConnectionEvent;

/// What a connection is doing, kept up to date by its reader, its service and its response
/// body, and read by its watchdog and by eviction.
#[derive(Debug)]
pub(crate) struct Activity {
    phase: AtomicU8,
    /// When the current phase began, in milliseconds since the table's epoch.
    since: AtomicU64,
    epoch: Instant,
    evicted: AtomicBool,
    close: Notify,
}

/// The connection waits for a request head (from its start, or from a later request's first
/// byte): the header read timeout runs.
const HEAD: u8 = 0;
/// A request is in flight: the request timeout of the stack applies, not ours.
const BUSY: u8 = 1;
/// Between requests: the idle timeout runs.
const IDLE: u8 = 2;

/// Why a connection's watchdog closes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expired {
    Head,
    Idle,
}

impl Activity {
    fn new(epoch: Instant) -> Self {
        let activity = Activity {
            phase: AtomicU8::new(HEAD),
            since: AtomicU64::new(0),
            epoch,
            evicted: AtomicBool::new(false),
            close: Notify::new(),
        };
        activity.since.store(activity.now_ms(), Ordering::Relaxed);
        activity
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Bytes arrived: between requests, a new head has begun.
    pub(crate) fn bytes_read(&self) {
        if self.phase.load(Ordering::Relaxed) == IDLE
            && self
                .phase
                .compare_exchange(IDLE, HEAD, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.since.store(self.now_ms(), Ordering::Relaxed);
        }
    }

    /// A request's head was read and handed to the app.
    pub(crate) fn request_started(&self) {
        self.phase.store(BUSY, Ordering::Relaxed);
    }

    /// The response was written (its body dropped): idle until the next byte.
    pub(crate) fn response_done(&self) {
        self.since.store(self.now_ms(), Ordering::Relaxed);
        self.phase.store(IDLE, Ordering::Relaxed);
    }

    /// When the watchdog should look again, or why the connection has expired now. The
    /// phase may change before then (a response done, a new head begun), so it looks again
    /// within the shorter timeout at the latest: a deadline is never missed by more than that.
    pub(crate) fn check(&self, header_read: Duration, idle: Duration) -> Result<Instant, Expired> {
        let now = Instant::now();
        let next_look = now + header_read.min(idle);
        let since = self.epoch + Duration::from_millis(self.since.load(Ordering::Relaxed));
        let (deadline, expired) = match self.phase.load(Ordering::Relaxed) {
            HEAD => (since + header_read, Expired::Head),
            IDLE => (since + idle, Expired::Idle),
            // In flight: the stack's request timeout applies, not ours.
            _ => return Ok(next_look),
        };
        if deadline <= now {
            Err(expired)
        } else {
            Ok(deadline.min(next_look))
        }
    }

    /// Completes when the table closes this connection to make room.
    pub(crate) async fn evicted(&self) {
        self.close.notified().await;
    }

    fn evictable_since(&self) -> Option<u64> {
        let waiting = self.phase.load(Ordering::Relaxed) != BUSY;
        (waiting && !self.evicted.load(Ordering::Relaxed))
            .then(|| self.since.load(Ordering::Relaxed))
    }
}

/// The table: admission decisions and the open connections.
#[derive(Debug)]
pub(crate) struct ConnectionTable {
    per_address: Option<u32>,
    epoch: Instant,
    inner: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    /// The cap on all connections: as configured, or lower once `accept` ran out of files.
    max: usize,
    by_address: HashMap<IpAddr, u32>,
    connections: HashMap<u64, Arc<Activity>>,
    /// Connections told to close that have not closed yet: they no longer count.
    evicting: usize,
    next_id: u64,
}

/// An admitted connection's place in the table, given back when dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    table: Arc<ConnectionTable>,
    id: u64,
    address: Option<IpAddr>,
    activity: Arc<Activity>,
}

impl Slot {
    pub(crate) fn activity(&self) -> &Arc<Activity> {
        &self.activity
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.table.lock();
        open.connections.remove(&self.id);
        if self.activity.evicted.load(Ordering::Relaxed) {
            open.evicting -= 1;
        }
        if let Some(address) = self.address
            && let Some(count) = open.by_address.get_mut(&address)
        {
            *count -= 1;
            if *count == 0 {
                open.by_address.remove(&address);
            }
        }
    }
}

impl ConnectionTable {
    pub(crate) fn new(per_address: Option<u32>, max: usize) -> Self {
        ConnectionTable {
            per_address,
            epoch: Instant::now(),
            inner: Mutex::new(Open {
                max,
                ..Open::default()
            }),
        }
    }

    pub(crate) fn max(&self) -> usize {
        self.lock().max
    }

    /// `accept` failed for want of file descriptors: unless closings are already under way,
    /// the cap becomes the connections open now (the rest of the process holds more files
    /// than the reserve allowed for), and the longest-waiting one is closed to free a
    /// descriptor. The new cap, when it was lowered, and whether a connection is closing.
    pub(crate) fn out_of_files(&self) -> (Option<usize>, bool) {
        let mut open = self.lock();
        if open.evicting > 0 {
            return (None, true);
        }
        let live = open.connections.len().max(1);
        let lowered = (live < open.max).then(|| {
            open.max = live;
            live
        });
        (lowered, evict_oldest(&mut open))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Admits a connection counted under `address` (`None`: a trusted proxy, not capped per
    /// address), making room when every slot is taken (the connection closed for it is told
    /// through its [`Activity::evicted`]); the slot, or the reason for a refusal.
    pub(crate) fn admit(
        self: &Arc<Self>,
        address: Option<IpAddr>,
    ) -> Result<Slot, ConnectionEvent> {
        let mut open = self.lock();
        if let (Some(address), Some(cap)) = (address, self.per_address)
            && open.by_address.get(&address).copied().unwrap_or(0) >= cap
        {
            return Err(ConnectionEvent::PerAddress);
        }
        if open.connections.len() - open.evicting >= open.max && !evict_oldest(&mut open) {
            return Err(ConnectionEvent::Capacity);
        }
        let id = open.next_id;
        open.next_id += 1;
        if let Some(address) = address {
            *open.by_address.entry(address).or_insert(0) += 1;
        }
        let activity = Arc::new(Activity::new(self.epoch));
        open.connections.insert(id, Arc::clone(&activity));
        let slot = Slot {
            table: Arc::clone(self),
            id,
            address,
            activity,
        };
        Ok(slot)
    }
}

/// Tells the connection that has waited longest without a request in flight to close;
/// `false` when every one has a request in flight.
fn evict_oldest(open: &mut Open) -> bool {
    let oldest = open
        .connections
        .values()
        .filter_map(|a| a.evictable_since().map(|since| (since, a)))
        .min_by_key(|(since, _)| *since)
        .map(|(_, a)| Arc::clone(a));
    let Some(activity) = oldest else {
        return false;
    };
    activity.evicted.store(true, Ordering::Relaxed);
    open.evicting += 1;
    activity.close.notify_one();
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([192, 0, 2, last]))
    }

    #[tokio::test]
    async fn caps_each_address_and_gives_slots_back() {
        let table = Arc::new(ConnectionTable::new(Some(2), 100));
        let a1 = table.admit(ip(1)).unwrap();
        let _a2 = table.admit(ip(1)).unwrap();
        assert_eq!(table.admit(ip(1)).unwrap_err(), ConnectionEvent::PerAddress);
        // Another address, and a trusted proxy, are not affected.
        let _b = table.admit(ip(2)).unwrap();
        let _p1 = table.admit(None).unwrap();
        let _p2 = table.admit(None).unwrap();
        let _p3 = table.admit(None).unwrap();
        drop(a1);
        assert!(table.admit(ip(1)).is_ok());
        assert_eq!(table.lock().by_address.len(), 2);
    }

    #[tokio::test]
    async fn at_capacity_the_longest_waiting_connection_makes_room() {
        let table = Arc::new(ConnectionTable::new(None, 3));
        let first = table.admit(ip(1)).unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        let second = table.admit(ip(2)).unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        let third = table.admit(ip(3)).unwrap();
        // The oldest has a request in flight: it is not touched.
        first.activity().request_started();
        let fourth = table.admit(ip(4)).unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert!(second.activity().evicted.load(Ordering::Relaxed));
        assert!(!first.activity().evicted.load(Ordering::Relaxed));
        // The evicted connection is told, once.
        tokio::time::timeout(Duration::from_secs(1), second.activity().evicted())
            .await
            .expect("told to close");
        drop(second);
        // Every remaining one busy: the next is refused.
        third.activity().request_started();
        let fifth = table.admit(ip(5)).unwrap();
        assert!(fourth.activity().evicted.load(Ordering::Relaxed));
        fifth.activity().request_started();
        // The fourth was evicted for the fifth; now all live ones are busy.
        assert_eq!(table.admit(ip(6)).unwrap_err(), ConnectionEvent::Capacity);
    }

    #[tokio::test]
    async fn running_out_of_files_lowers_the_cap_to_what_is_open() {
        let table = Arc::new(ConnectionTable::new(None, 10));
        let first = table.admit(ip(1)).unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        let _second = table.admit(ip(2)).unwrap();
        let _third = table.admit(ip(3)).unwrap();
        assert_eq!(table.out_of_files(), (Some(3), true));
        assert_eq!(table.max(), 3);
        assert!(first.activity().evicted.load(Ordering::Relaxed));
        // While that closing is under way, another failure changes nothing.
        assert_eq!(table.out_of_files(), (None, true));
        drop(first);
        // Room for one more again: the third connection since.
        let _fourth = table.admit(ip(4)).unwrap();
        assert_eq!(table.max(), 3);
    }

    #[tokio::test]
    async fn the_phase_decides_which_timeout_runs() {
        let activity = Activity::new(Instant::now());
        let short = Duration::from_millis(1);
        let long = Duration::from_secs(60);
        // A new connection waits for its head.
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(activity.check(short, long), Err(Expired::Head));
        assert!(activity.check(long, short).is_ok());
        activity.request_started();
        assert!(activity.check(short, short).is_ok());
        activity.response_done();
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(activity.check(long, short), Err(Expired::Idle));
        // The next request's first byte starts the head timer again.
        activity.bytes_read();
        assert!(
            activity
                .check(short.max(Duration::from_millis(50)), short)
                .is_ok()
        );
    }
}
