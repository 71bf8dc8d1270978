//! Where refresh-token families live: the [`RefreshTokenStore`] trait, its in-memory
//! implementation.
//!
//! A store only ever sees the SHA-256 of a token (see the module docs of
//! [`refresh`](crate::auth::refresh)); the raw token exists only in the client and, briefly,
//! in the response that hands it out.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::error::StoreError;

/// A new token family, created at login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFamily {
    /// Random, non-secret id of the family.
    pub family_id: String,
    /// The user the family belongs to.
    pub subject: String,
    /// When the family was created (seconds since the epoch).
    pub created_at: i64,
    /// The absolute end of the family: no token of it is accepted from then on.
    pub expires_at: i64,
}

/// A new token of an existing family (the stored hash, never the token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    /// base64url(SHA-256(token)).
    pub token_hash: String,
    /// The family it belongs to.
    pub family_id: String,
    /// When it was issued.
    pub issued_at: i64,
    /// When it stops being accepted (the store clamps this to the family's end).
    pub expires_at: i64,
}

/// A stored token together with its family's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// base64url(SHA-256(token)).
    pub token_hash: String,
    /// The family id.
    pub family_id: String,
    /// The user.
    pub subject: String,
    /// When the token was issued.
    pub issued_at: i64,
    /// When the token expires.
    pub expires_at: i64,
    /// When the token was used (rotated); `None` while it is the family's current token.
    pub used_at: Option<i64>,
    /// The family's absolute end.
    pub family_expires_at: i64,
    /// When the family was revoked (logout, reuse, password change), if it was.
    pub family_revoked_at: Option<i64>,
}

/// What [`RefreshTokenStore::rotate`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was current and unexpired in a live family: it is now used and the new
    /// token is stored. Holds the old token's record as it was before.
    Rotated(TokenRecord),
    /// The token exists but could not be used (already used, expired, or its family revoked
    /// or ended); nothing was changed. Holds its record, so the caller can tell which.
    Refused(TokenRecord),
    /// No token has this hash.
    Unknown,
}

/// Storage for refresh-token families. Implementations must make [`rotate`](Self::rotate)
/// atomic: of two concurrent calls with the same hash, at most one returns
/// [`Rotation::Rotated`].
///
/// All futures are `Send`, so the store works in multi-threaded axum servers.
pub trait RefreshTokenStore: Send + Sync + 'static {
    /// Stores a new family and its first token.
    fn create_family(
        &self,
        family: NewFamily,
        first: NewToken,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Atomically: if the token `old_hash` is unused, `now < expires_at`, and its family is
    /// neither revoked nor ended, marks it used at `now` and stores `new` (its `expires_at`
    /// clamped to the family's end, its `family_id` set to the old token's family).
    fn rotate(
        &self,
        old_hash: &str,
        new: NewToken,
        now: i64,
    ) -> impl Future<Output = Result<Rotation, StoreError>> + Send;

    /// The token with this hash, with its family's state.
    fn find(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = Result<Option<TokenRecord>, StoreError>> + Send;

    /// Revokes a family (no-op if it already is). Returns whether it existed and was live.
    fn revoke_family(
        &self,
        family_id: &str,
        now: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Revokes every live family of `subject`; returns how many.
    fn revoke_subject(
        &self,
        subject: &str,
        now: i64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Deletes families (and their tokens) whose absolute end is at or before `now`.
    /// Returns how many families were deleted. Run it on a timer to bound the store.
    fn purge_expired(&self, now: i64) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

#[derive(Clone)]
struct FamilyRow {
    subject: String,
    expires_at: i64,
    revoked_at: Option<i64>,
}

#[derive(Clone)]
struct TokenRow {
    family_id: String,
    issued_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
}

#[derive(Default)]
struct State {
    families: HashMap<String, FamilyRow>,
    tokens: HashMap<String, TokenRow>,
}

impl State {
    fn record(&self, token_hash: &str) -> Option<TokenRecord> {
        let t = self.tokens.get(token_hash)?;
        let f = self.families.get(&t.family_id)?;
        Some(TokenRecord {
            token_hash: token_hash.to_owned(),
            family_id: t.family_id.clone(),
            subject: f.subject.clone(),
            issued_at: t.issued_at,
            expires_at: t.expires_at,
            used_at: t.used_at,
            family_expires_at: f.expires_at,
            family_revoked_at: f.revoked_at,
        })
    }
}

/// Refresh-token families in process memory: one process, lost on restart. The rotate step
/// runs under one mutex, so it is atomic.
///
/// ```
/// use secure_core::auth::refresh::{MemoryRefreshTokenStore, RefreshTokens};
///
/// let tokens = RefreshTokens::new(MemoryRefreshTokenStore::new());
/// # let _ = tokens;
/// ```
#[derive(Default)]
pub struct MemoryRefreshTokenStore {
    state: Mutex<State>,
}

impl MemoryRefreshTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves the maps consistent (every
        // mutation is a single insert or field write), so keep going instead of panicking.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The stored token hashes (for tests that check nothing raw is kept).
    pub fn token_hashes(&self) -> Vec<String> {
        self.lock().tokens.keys().cloned().collect()
    }
}

impl fmt::Debug for MemoryRefreshTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("MemoryRefreshTokenStore")
            .field("families", &state.families.len())
            .field("tokens", &state.tokens.len())
            .finish()
    }
}

impl RefreshTokenStore for MemoryRefreshTokenStore {
    async fn create_family(&self, family: NewFamily, first: NewToken) -> Result<(), StoreError> {
        let mut state = self.lock();
        let expires_at = first.expires_at.min(family.expires_at);
        state.families.insert(
            family.family_id.clone(),
            FamilyRow {
                subject: family.subject,
                expires_at: family.expires_at,
                revoked_at: None,
            },
        );
        state.tokens.insert(
            first.token_hash,
            TokenRow {
                family_id: family.family_id,
                issued_at: first.issued_at,
                expires_at,
                used_at: None,
            },
        );
        Ok(())
    }

    async fn rotate(
        &self,
        old_hash: &str,
        new: NewToken,
        now: i64,
    ) -> Result<Rotation, StoreError> {
        let mut state = self.lock();
        let Some(old) = state.record(old_hash) else {
            return Ok(Rotation::Unknown);
        };
        let usable = old.used_at.is_none()
            && now < old.expires_at
            && old.family_revoked_at.is_none()
            && now < old.family_expires_at;
        if !usable {
            return Ok(Rotation::Refused(old));
        }
        if let Some(t) = state.tokens.get_mut(old_hash) {
            t.used_at = Some(now);
        }
        state.tokens.insert(
            new.token_hash,
            TokenRow {
                family_id: old.family_id.clone(),
                issued_at: new.issued_at,
                expires_at: new.expires_at.min(old.family_expires_at),
                used_at: None,
            },
        );
        Ok(Rotation::Rotated(old))
    }

    async fn find(&self, token_hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        Ok(self.lock().record(token_hash))
    }

    async fn revoke_family(&self, family_id: &str, now: i64) -> Result<bool, StoreError> {
        let mut state = self.lock();
        Ok(match state.families.get_mut(family_id) {
            Some(f) if f.revoked_at.is_none() => {
                f.revoked_at = Some(now);
                true
            }
            _ => false,
        })
    }

    async fn revoke_subject(&self, subject: &str, now: i64) -> Result<u64, StoreError> {
        let mut state = self.lock();
        let mut n = 0;
        for f in state.families.values_mut() {
            if f.subject == subject && f.revoked_at.is_none() {
                f.revoked_at = Some(now);
                n += 1;
            }
        }
        Ok(n)
    }

    async fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
        let mut state = self.lock();
        let before = state.families.len();
        state.families.retain(|_, f| f.expires_at > now);
        let State { families, tokens } = &mut *state;
        tokens.retain(|_, t| families.contains_key(&t.family_id));
        Ok((before - families.len()) as u64)
    }
}
