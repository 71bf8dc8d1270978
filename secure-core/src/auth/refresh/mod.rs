//! Refresh tokens: opaque, rotated on every use, and revoked as a family when one is replayed.
//!
//! **What it protects against** (RFC 6819 threat model for refresh tokens; OWASP ASVS 4.0.3
//! 3.5.x token-based sessions, 2.9/2.10 credential storage, 3.3.x logout and timeouts):
//! - *a stolen token used in parallel with its owner*: each token works once; using it
//!   returns a new one ([`RefreshTokens::rotate`]). When a token that was already rotated
//!   comes back, one of two parties holds a copy, and the server cannot tell which: the whole
//!   family (every token descended from the same login) is revoked and an audit event
//!   `auth.refresh denied refresh_reuse` is written (RFC 6819 5.2.2.3, "refresh token
//!   rotation"; OAuth 2.0 Security BCP 4.14.2).
//! - *a database leak*: the store keeps only SHA-256 of each token. The token is 256 bits
//!   from a CSPRNG, so the hash cannot be reversed or guessed; a fast hash is right here (a
//!   slow salted one is for low-entropy passwords) and allows an indexed lookup, so no raw
//!   token is ever compared (RFC 6819 5.1.4.1.3; ASVS 2.10.4, 3.5.2).
//! - *tokens that live forever*: each token expires after [`RefreshTokens::token_ttl`]
//!   (default 14 days), and no token of a family is accepted after the family's absolute
//!   lifetime (default 30 days from login), however often it was rotated: a stolen family
//!   dies at the latest 30 days after the login that made it (ASVS 3.3.2, RFC 6819 5.2.2.4).
//! - *logout that leaves a working token*: [`RefreshTokens::revoke`] revokes the family
//!   server-side; [`RefreshTokens::revoke_subject`] revokes all of a user's families, for a
//!   password change (ASVS 3.3.1, 3.3.3).
//! - *a race of two refreshes*: the store's rotate step is atomic (one mutex in memory, a
//!   conditional `UPDATE ... WHERE used_at IS NULL` inside a transaction in SQL), so of two
//!   concurrent uses of one token exactly one succeeds. The other is a reuse and revokes the
//!   family: the strict reading of RFC 6819, so a client must not refresh twice in parallel.
//!
//! ```
//! use secure_core::auth::refresh::{MemoryRefreshTokenStore, RefreshError, RefreshTokens};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let tokens = RefreshTokens::new(MemoryRefreshTokenStore::new());
//! let first = tokens.issue("user-42").await?;           // at login
//! let second = tokens.rotate(&first.token).await?;       // at /token/refresh
//! assert_eq!(second.subject, "user-42");
//!
//! // The first token was used: presenting it again revokes the family...
//! assert!(matches!(tokens.rotate(&first.token).await, Err(RefreshError::Reused)));
//! // ...so the second one is dead too.
//! assert!(matches!(tokens.rotate(&second.token).await, Err(RefreshError::Revoked)));
//! # Ok(())
//! # }
//! ```

pub(crate) mod clock;
pub(crate) mod opaque;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
mod store;

pub use clock::{Clock, ManualClock, SystemClock};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use sql::SqlRefreshTokenStore;
pub use store::{
    MemoryRefreshTokenStore, NewFamily, NewToken, RefreshTokenStore, Rotation, TokenRecord,
};

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use secrecy::{ExposeSecret, SecretString};

use crate::audit::{self, Outcome};
use crate::error::{ApiError, Problem};
use crate::error::{ConfigError, StoreError};
use crate::observe;
use clock::secs;

/// Default lifetime of one refresh token: 14 days.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(14 * 24 * 60 * 60);

/// Default absolute lifetime of a family (from login, whatever the rotations): 30 days.
pub const DEFAULT_FAMILY_LIFETIME: Duration = Duration::from_secs(30 * 24 * 60 * 60);

const EVENT: &str = "auth.refresh";

/// A refresh token as the client holds it. Its `Debug` is redacted; read it only to hand it
/// to the client, through [`ExposeSecret`].
///
/// ```
/// use secure_core::auth::refresh::RefreshToken;
/// use secure_core::ExposeSecret;
///
/// let t = RefreshToken::from_client("abc");
/// assert_eq!(format!("{t:?}"), "RefreshToken([REDACTED])");
/// assert_eq!(t.expose_secret(), "abc");
/// ```
#[derive(Clone, serde::Deserialize)]
#[serde(transparent)]
pub struct RefreshToken(SecretString);

impl RefreshToken {
    /// Wraps the token a client sent (request body or cookie).
    pub fn from_client(text: impl Into<String>) -> Self {
        RefreshToken(SecretString::from(text.into()))
    }
}

impl ExposeSecret<str> for RefreshToken {
    fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshToken([REDACTED])")
    }
}

/// A token just issued or rotated, and whom it is for.
#[derive(Debug, Clone)]
pub struct IssuedRefreshToken {
    /// The token to give the client (once; it is not stored anywhere).
    pub token: RefreshToken,
    /// The user it belongs to: mint the new access token for this subject.
    pub subject: String,
    /// The family (non-secret; stable across rotations).
    pub family_id: String,
    /// When this token expires (seconds since the epoch).
    pub expires_at: i64,
}

/// Why a refresh token was refused. Every variant but [`Store`](Self::Store) answers the
/// same 401, so a client learns nothing about which check failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum RefreshError {
    /// Not a token this server issued (or malformed).
    Invalid,
    /// The token or its family has passed its lifetime.
    Expired,
    /// The family was revoked (logout, password change, an earlier reuse).
    Revoked,
    /// The token had already been rotated: the family is now revoked.
    Reused,
    /// The store failed.
    Store(StoreError),
}

impl fmt::Display for RefreshError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RefreshError::Invalid => "refresh token not recognised",
            RefreshError::Expired => "refresh token expired",
            RefreshError::Revoked => "refresh token family revoked",
            RefreshError::Reused => "refresh token reused; family revoked",
            RefreshError::Store(_) => "credential store error",
        })
    }
}

impl std::error::Error for RefreshError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RefreshError::Store(e) => Some(e),
            _ => None,
        }
    }
}

impl From<StoreError> for RefreshError {
    fn from(e: StoreError) -> Self {
        RefreshError::Store(e)
    }
}

/// 401 problem+json with `WWW-Authenticate: Bearer error="invalid_token"` (500 for a
/// store failure).
///
/// ```
/// use axum::response::IntoResponse;
/// use secure_core::auth::refresh::RefreshError;
///
/// let r = RefreshError::Reused.into_response();
/// assert_eq!(r.status(), 401);
/// ```
impl IntoResponse for RefreshError {
    fn into_response(self) -> Response {
        ApiError::from(self).into_response()
    }
}

/// `?` in a handler: a store failure is a 500 whose cause is logged; every refusal is the
/// same 401 with an `invalid_token` challenge.
impl From<RefreshError> for ApiError {
    fn from(error: RefreshError) -> Self {
        match error {
            RefreshError::Store(e) => ApiError::internal(e),
            _ => Problem::new(
                StatusCode::UNAUTHORIZED,
                "The refresh token is not valid. Sign in again.",
            )
            .with_header(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Bearer error="invalid_token""#),
            )
            .into(),
        }
    }
}

/// Issues, rotates and revokes refresh tokens over a [`RefreshTokenStore`].
///
/// Cheap to clone (the store and clock are shared), so it can sit in axum state.
pub struct RefreshTokens<S> {
    store: Arc<S>,
    clock: Arc<dyn Clock>,
    token_ttl: Duration,
    family_lifetime: Duration,
}

impl<S> Clone for RefreshTokens<S> {
    fn clone(&self) -> Self {
        RefreshTokens {
            store: Arc::clone(&self.store),
            clock: Arc::clone(&self.clock),
            token_ttl: self.token_ttl,
            family_lifetime: self.family_lifetime,
        }
    }
}

impl<S> fmt::Debug for RefreshTokens<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshTokens")
            .field("token_ttl", &self.token_ttl)
            .field("family_lifetime", &self.family_lifetime)
            .finish_non_exhaustive()
    }
}

impl<S: RefreshTokenStore> RefreshTokens<S> {
    /// Default lifetimes (14 days per token, 30 days per family) and the system clock.
    pub fn new(store: S) -> Self {
        RefreshTokens {
            store: Arc::new(store),
            clock: Arc::new(SystemClock),
            token_ttl: DEFAULT_TOKEN_TTL,
            family_lifetime: DEFAULT_FAMILY_LIFETIME,
        }
    }

    /// Sets both lifetimes; each must be at least one second.
    ///
    /// ```
    /// use std::time::Duration;
    /// use secure_core::auth::refresh::{MemoryRefreshTokenStore, RefreshTokens};
    /// use secure_core::error::ConfigError;
    ///
    /// let day = Duration::from_secs(86_400);
    /// let tokens = RefreshTokens::new(MemoryRefreshTokenStore::new())
    ///     .with_lifetimes(7 * day, 14 * day)
    ///     .unwrap();
    /// assert_eq!(tokens.token_ttl(), 7 * day);
    ///
    /// let zero = RefreshTokens::new(MemoryRefreshTokenStore::new())
    ///     .with_lifetimes(Duration::ZERO, day);
    /// assert_eq!(zero.unwrap_err(), ConfigError::ZeroDuration("token_ttl"));
    /// ```
    pub fn with_lifetimes(
        mut self,
        token_ttl: Duration,
        family_lifetime: Duration,
    ) -> Result<Self, ConfigError> {
        if token_ttl.as_secs() == 0 {
            return Err(ConfigError::ZeroDuration("token_ttl"));
        }
        if family_lifetime.as_secs() == 0 {
            return Err(ConfigError::ZeroDuration("family_lifetime"));
        }
        self.token_ttl = token_ttl;
        self.family_lifetime = family_lifetime;
        Ok(self)
    }

    /// Reads the time from `clock` (a [`ManualClock`] in tests).
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The lifetime of one token.
    pub fn token_ttl(&self) -> Duration {
        self.token_ttl
    }

    /// The absolute lifetime of a family.
    pub fn family_lifetime(&self) -> Duration {
        self.family_lifetime
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Starts a new family for `subject` (at login) and returns its first token.
    pub async fn issue(&self, subject: &str) -> Result<IssuedRefreshToken, StoreError> {
        let now = self.clock.now();
        let family = NewFamily {
            family_id: opaque::identifier(),
            subject: subject.to_owned(),
            created_at: now,
            expires_at: now.saturating_add(secs(self.family_lifetime)),
        };
        let (token, token_hash) = opaque::generate();
        let first = NewToken {
            token_hash,
            family_id: family.family_id.clone(),
            issued_at: now,
            expires_at: now
                .saturating_add(secs(self.token_ttl))
                .min(family.expires_at),
        };
        let issued = IssuedRefreshToken {
            token: RefreshToken(token),
            subject: family.subject.clone(),
            family_id: family.family_id.clone(),
            expires_at: first.expires_at,
        };
        observe::store(
            "refresh_tokens",
            "create_family",
            self.store.create_family(family, first),
        )
        .await?;
        audit::emit(EVENT, Outcome::Success, Some(subject), "family_created");
        Ok(issued)
    }

    /// Uses `token`: returns a new token of the same family and invalidates this one.
    ///
    /// A token that was already used revokes its family ([`RefreshError::Reused`], audit
    /// event `refresh_reuse`). Every refusal is audited.
    pub async fn rotate(&self, token: &RefreshToken) -> Result<IssuedRefreshToken, RefreshError> {
        let presented = token.expose_secret();
        if !opaque::well_formed(presented) {
            audit::emit(EVENT, Outcome::Failure, None, "malformed_token");
            return Err(RefreshError::Invalid);
        }
        let now = self.clock.now();
        let (new_token, new_hash) = opaque::generate();
        let new = NewToken {
            token_hash: new_hash,
            family_id: String::new(),
            issued_at: now,
            expires_at: now.saturating_add(secs(self.token_ttl)),
        };
        let requested_expiry = new.expires_at;
        match observe::store(
            "refresh_tokens",
            "rotate",
            self.store.rotate(&opaque::hash(presented), new, now),
        )
        .await?
        {
            Rotation::Rotated(old) => {
                audit::emit(EVENT, Outcome::Success, Some(&old.subject), "rotated");
                Ok(IssuedRefreshToken {
                    token: RefreshToken(new_token),
                    expires_at: requested_expiry.min(old.family_expires_at),
                    subject: old.subject,
                    family_id: old.family_id,
                })
            }
            Rotation::Unknown => {
                audit::emit(EVENT, Outcome::Failure, None, "unknown_token");
                Err(RefreshError::Invalid)
            }
            Rotation::Refused(old) => Err(self.refusal(&old, now).await?),
        }
    }

    async fn refusal(&self, old: &TokenRecord, now: i64) -> Result<RefreshError, StoreError> {
        let subject = Some(old.subject.as_str());
        if old.family_revoked_at.is_some() {
            audit::emit(EVENT, Outcome::Denied, subject, "family_revoked");
            return Ok(RefreshError::Revoked);
        }
        if now >= old.family_expires_at {
            audit::emit(EVENT, Outcome::Failure, subject, "family_expired");
            return Ok(RefreshError::Expired);
        }
        if old.used_at.is_some() {
            observe::store(
                "refresh_tokens",
                "revoke_family",
                self.store.revoke_family(&old.family_id, now),
            )
            .await?;
            audit::emit(EVENT, Outcome::Denied, subject, "refresh_reuse");
            return Ok(RefreshError::Reused);
        }
        if now >= old.expires_at {
            audit::emit(EVENT, Outcome::Failure, subject, "token_expired");
            return Ok(RefreshError::Expired);
        }
        // Every condition of the atomic step held when we looked again: only possible if
        // the store misbehaves. Refuse.
        audit::emit(EVENT, Outcome::Failure, subject, "store_inconsistent");
        Ok(RefreshError::Invalid)
    }

    /// Logout: revokes the family of `token` (any token of it, used or not). Returns whether
    /// a live family was revoked; an unknown token is not an error (logout is idempotent).
    pub async fn revoke(&self, token: &RefreshToken) -> Result<bool, StoreError> {
        let presented = token.expose_secret();
        if !opaque::well_formed(presented) {
            return Ok(false);
        }
        let Some(record) = observe::store(
            "refresh_tokens",
            "find",
            self.store.find(&opaque::hash(presented)),
        )
        .await?
        else {
            return Ok(false);
        };
        let revoked = observe::store(
            "refresh_tokens",
            "revoke_family",
            self.store
                .revoke_family(&record.family_id, self.clock.now()),
        )
        .await?;
        if revoked {
            audit::emit(
                "auth.logout",
                Outcome::Success,
                Some(&record.subject),
                "refresh_family_revoked",
            );
        }
        Ok(revoked)
    }

    /// Revokes every family of `subject` (password change, account lock). Returns how many.
    pub async fn revoke_subject(&self, subject: &str) -> Result<u64, StoreError> {
        let n = observe::store(
            "refresh_tokens",
            "revoke_subject",
            self.store.revoke_subject(subject, self.clock.now()),
        )
        .await?;
        audit::emit(EVENT, Outcome::Success, Some(subject), "families_revoked");
        Ok(n)
    }

    /// Deletes families past their absolute lifetime. Run it on a timer.
    pub async fn purge_expired(&self) -> Result<u64, StoreError> {
        observe::store(
            "refresh_tokens",
            "purge_expired",
            self.store.purge_expired(self.clock.now()),
        )
        .await
    }
}
