//! Where sessions live: the [`SessionStore`] trait and its in-memory implementation.
//!
//! A store is keyed by base64url(SHA-256(session id)); it never sees the raw id, so a leaked
//! table or memory dump of the store cannot be replayed as a cookie (ASVS 3.2.x, 2.10.4).

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::error::StoreError;

/// One stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// base64url(SHA-256(session id)): the key. The raw id is only in the cookie.
    pub id_hash: String,
    /// The user.
    pub subject: String,
    /// Role names granted to this session (parsed into the app's role enum on use).
    pub roles: Vec<String>,
    /// Authentication methods used, as RFC 8176 values (`pwd`, `otp`).
    pub amr: Vec<String>,
    /// When the user last authenticated (seconds since the epoch).
    pub auth_time: i64,
    /// When the session was created: the absolute timeout counts from here.
    pub created_at: i64,
    /// The last request seen: the idle timeout counts from here.
    pub last_seen: i64,
}

/// Storage for sessions. [`replace`](Self::replace) must be atomic: of two concurrent
/// replacements of one id, at most one succeeds.
pub trait SessionStore: Send + Sync + 'static {
    /// Stores a new session.
    fn insert(&self, record: SessionRecord) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The session with this id hash.
    fn get(
        &self,
        id_hash: &str,
    ) -> impl Future<Output = Result<Option<SessionRecord>, StoreError>> + Send;

    /// Sets `last_seen` (never moves it backwards). Returns whether the session exists.
    fn touch(
        &self,
        id_hash: &str,
        last_seen: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes one session. Returns whether it existed.
    fn remove(&self, id_hash: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Atomically deletes `old_hash` and stores `new`, only if `old_hash` existed.
    /// Returns whether it did (the id rotation of a login upgrade or privilege change).
    fn replace(
        &self,
        old_hash: &str,
        new: SessionRecord,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes every session of `subject`. Returns how many.
    fn remove_subject(&self, subject: &str)
    -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Deletes sessions idle since `last_seen_before` or created before `created_before`
    /// (both inclusive). Returns how many. Run it on a timer to bound the store.
    fn purge_expired(
        &self,
        last_seen_before: i64,
        created_before: i64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// Sessions in process memory (one process; lost on restart).
///
/// ```
/// use secure_core::session::{CsrfKey, MemorySessionStore, SessionManager};
///
/// let sessions = SessionManager::new(MemorySessionStore::new(), CsrfKey::generate());
/// # let _ = sessions;
/// ```
#[derive(Default)]
pub struct MemorySessionStore {
    sessions: Mutex<HashMap<String, SessionRecord>>,
}

impl MemorySessionStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, SessionRecord>> {
        // Every mutation is one map operation: a poisoned map is still consistent.
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A copy of every stored record (for tests that check what is kept).
    pub fn records(&self) -> Vec<SessionRecord> {
        self.lock().values().cloned().collect()
    }
}

impl fmt::Debug for MemorySessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemorySessionStore")
            .field("sessions", &self.lock().len())
            .finish()
    }
}

impl SessionStore for MemorySessionStore {
    async fn insert(&self, record: SessionRecord) -> Result<(), StoreError> {
        self.lock().insert(record.id_hash.clone(), record);
        Ok(())
    }

    async fn get(&self, id_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        Ok(self.lock().get(id_hash).cloned())
    }

    async fn touch(&self, id_hash: &str, last_seen: i64) -> Result<bool, StoreError> {
        Ok(match self.lock().get_mut(id_hash) {
            Some(r) => {
                r.last_seen = r.last_seen.max(last_seen);
                true
            }
            None => false,
        })
    }

    async fn remove(&self, id_hash: &str) -> Result<bool, StoreError> {
        Ok(self.lock().remove(id_hash).is_some())
    }

    async fn replace(&self, old_hash: &str, new: SessionRecord) -> Result<bool, StoreError> {
        let mut map = self.lock();
        if map.remove(old_hash).is_none() {
            return Ok(false);
        }
        map.insert(new.id_hash.clone(), new);
        Ok(true)
    }

    async fn remove_subject(&self, subject: &str) -> Result<u64, StoreError> {
        let mut map = self.lock();
        let before = map.len();
        map.retain(|_, r| r.subject != subject);
        Ok((before - map.len()) as u64)
    }

    async fn purge_expired(
        &self,
        last_seen_before: i64,
        created_before: i64,
    ) -> Result<u64, StoreError> {
        let mut map = self.lock();
        let before = map.len();
        map.retain(|_, r| r.last_seen > last_seen_before && r.created_at > created_before);
        Ok((before - map.len()) as u64)
    }
}
