//! Passwords: Argon2id hashes in PHC strings, a length-only policy with a breached-password
//! hook, and a login check that costs the same whether or not the account exists.
//!
//! **What it protects against.**
//! - Offline cracking of a stolen password table: Argon2id with the OWASP parameters
//!   (m=19456 KiB, t=2, p=1), a fresh 16-byte salt per hash, PHC strings that record the
//!   parameters, and rehashing when they change (ASVS 2.4.1, 2.4.4, 2.4.5).
//! - Weak and breached passwords without the composition rules that make users predictable:
//!   12..=128 characters of any Unicode, nothing truncated, no "one digit, one symbol" rules,
//!   and a hook ([`BreachedPasswords`]) for a breach list (ASVS 2.1.1-2.1.4, 2.1.7, 2.1.9).
//!   Passwords are NFKC-normalised before hashing and counted in code points, as NIST
//!   800-63B 5.1.1.2 asks; see [`check_length`].
//! - Account enumeration by timing: [`PasswordHasher::verify`] with no stored hash (unknown
//!   user) still runs Argon2id, against a dummy hash made at start-up with the same
//!   parameters, and answers exactly like a wrong password ([`Verification::Invalid`]).
//! - Leaks: passwords are [`SecretString`] everywhere, errors are fixed variants without
//!   values, and no type here prints a password, salt or hash output in `Debug`.
//!
//! **Audit.** [`PasswordHasher::verify`] emits `auth.login` / `failure` events through
//! [`crate::audit::emit`] with reason `bad_password` (subject: the account's id) or
//! `unknown_user` (subject: `anonymous` — a submitted user name is not logged, since users
//! type passwords into it): a wrong password ends the login. A matching password is one step,
//! not a login: it emits `auth.password` / `success` with reason `password_ok`, and the
//! application audits the login's outcome (`auth.login` success, or a failure such as
//! `mfa_required` when a second factor is still missing).
//!
//! - Memory and CPU on demand: each Argon2id hash takes 19 MiB and tens of milliseconds, so a
//!   [`PasswordHasher`] runs at most [`HashLimit::concurrent`] of them at once (default: the
//!   number of CPUs). A request waits at most [`HashLimit::wait`] for a turn, then gets
//!   [`HasherBusy`]: a fast 503 with `Retry-After`. A login flood then costs a bounded amount
//!   of memory instead of one 19 MiB thread per request (OWASP API4:2023; ASVS 2.2.1).
//!
//! Rate limiting of login attempts per client and per account (ASVS 2.2.1) is the `ratelimit`
//! module's job; peppering is not offered.
//!
//! ```
//! use secure_core::SecretString;
//! use secure_core::auth::password::{PasswordHasher, SkipBreachCheck, StoredPassword};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let hasher = PasswordHasher::new();
//! let password = SecretString::from("correct horse battery staple");
//! let hash = hasher.hash(&password, &SkipBreachCheck).await.unwrap();
//!
//! // At login: `None` when no account has that name. `Err(HasherBusy)` (answer it: a 503)
//! // when every hashing slot stayed taken for the wait.
//! let verdict = hasher.verify(&password, Some(StoredPassword::new("user-42", &hash))).await;
//! assert!(verdict.unwrap().is_valid());
//! let verdict = hasher.verify(&password, None).await;
//! assert!(!verdict.unwrap().is_valid());
//! # }
//! ```

mod compute;
mod hash;
mod limit;
mod policy;

pub use hash::{Argon2Params, PasswordHash};
pub use limit::{HashLimit, HasherBusy};
pub use policy::{
    BreachCheckError, BreachedPasswords, MAX_CHARS, MIN_CHARS, SkipBreachCheck, check_length,
};

use std::fmt;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use axum::http::StatusCode;

use crate::audit::{self, Outcome};
use crate::error::{ApiError, Problem};

/// Why a password could not be set or hashed. No variant carries the password.
///
/// ```
/// use secure_core::auth::password::PasswordError;
///
/// assert_eq!(PasswordError::TooShort { min: 12 }.to_string(), "password has fewer than 12 characters");
/// assert_eq!(PasswordError::Breached.code(), "breached");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PasswordError {
    /// Fewer than `min` characters.
    TooShort {
        /// The minimum, [`MIN_CHARS`].
        min: usize,
    },
    /// More than `max` characters.
    TooLong {
        /// The maximum, [`MAX_CHARS`].
        max: usize,
    },
    /// The breached-password check found it.
    Breached,
    /// The breached-password check could not run; the password was not accepted.
    BreachCheckFailed(BreachCheckError),
    /// A stored string is not an Argon2 PHC string.
    MalformedHash,
    /// Argon2 parameters out of range (see [`PasswordHasher::with_params`]).
    InvalidParams,
    /// Argon2 failed (out of memory, no randomness for the salt) or the hashing task died.
    Hashing,
    /// Every hashing slot stayed taken for the whole wait ([`HashLimit`]): answer 503
    /// ([`HasherBusy`]).
    Busy(HasherBusy),
}

impl PasswordError {
    /// A stable code for API errors and logs: `too_short`, `too_long`, `breached`,
    /// `breach_check_failed`, `malformed_hash`, `invalid_params`, `hashing` or `busy`.
    pub fn code(&self) -> &'static str {
        match self {
            PasswordError::TooShort { .. } => "too_short",
            PasswordError::TooLong { .. } => "too_long",
            PasswordError::Breached => "breached",
            PasswordError::BreachCheckFailed(_) => "breach_check_failed",
            PasswordError::MalformedHash => "malformed_hash",
            PasswordError::InvalidParams => "invalid_params",
            PasswordError::Hashing => "hashing",
            PasswordError::Busy(_) => "busy",
        }
    }
}

impl fmt::Display for PasswordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PasswordError::TooShort { min } => {
                write!(f, "password has fewer than {min} characters")
            }
            PasswordError::TooLong { max } => write!(f, "password has more than {max} characters"),
            PasswordError::Breached => {
                f.write_str("password appears in a list of breached passwords")
            }
            PasswordError::BreachCheckFailed(e) => e.fmt(f),
            PasswordError::MalformedHash => {
                f.write_str("stored password hash is not an Argon2 PHC string")
            }
            PasswordError::InvalidParams => f.write_str("Argon2 parameters are out of range"),
            PasswordError::Hashing => f.write_str("password hashing failed"),
            PasswordError::Busy(busy) => busy.fmt(f),
        }
    }
}

impl std::error::Error for PasswordError {}

impl PasswordError {
    /// The answer of a handler that met this error while hashing or checking `field`: a rule
    /// the password breaks is a 422 on `field`; a full hasher a 503
    /// with `Retry-After`; a breach check that could not run a 503; anything else a 500
    /// whose cause is logged. `?` uses the field `password`. The codes are
    /// [`PasswordError::code`]'s.
    ///
    /// ```
    /// use axum::response::IntoResponse;
    /// use secure_core::auth::password::PasswordError;
    ///
    /// let response = PasswordError::TooShort { min: 12 }.on_field("new_password").into_response();
    /// assert_eq!(response.status(), 422);
    /// ```
    pub fn on_field(self, field: &str) -> ApiError {
        match self {
            PasswordError::TooShort { .. }
            | PasswordError::TooLong { .. }
            | PasswordError::Breached => ApiError::field(field, self.code()),
            PasswordError::Busy(busy) => busy.into(),
            PasswordError::BreachCheckFailed(_) => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "The password could not be checked: try again in a moment.",
            )
            .with_code("breach_check_unavailable")
            .into(),
            PasswordError::MalformedHash
            | PasswordError::InvalidParams
            | PasswordError::Hashing => ApiError::internal(self),
        }
    }
}

/// `?` in a handler: [`PasswordError::on_field`] with the field `password`.
impl From<PasswordError> for ApiError {
    fn from(error: PasswordError) -> Self {
        error.on_field("password")
    }
}

/// One hash's turn ([`PasswordHasher::turn`]): a slot of the hashing bound and its memory,
/// given back when dropped.
pub struct HashTurn {
    slot: limit::Slot,
}

impl fmt::Debug for HashTurn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HashTurn")
    }
}

/// What a login knows about the account it is checking: its id (for the audit log) and its
/// stored hash.
///
/// ```
/// # use secure_core::auth::password::{PasswordHash, StoredPassword};
/// # let hash = PasswordHash::parse("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$aW52YWxpZGhhc2hvdXRwdXRpbnZhbGlkaGFzaG91dA").unwrap();
/// let stored = StoredPassword::new("user-42", &hash);
/// assert_eq!(stored.subject(), "user-42");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct StoredPassword<'a> {
    subject: &'a str,
    hash: &'a PasswordHash,
}

impl<'a> StoredPassword<'a> {
    /// `subject` is the account's stable id (not a credential); `hash` its stored hash.
    pub fn new(subject: &'a str, hash: &'a PasswordHash) -> Self {
        StoredPassword { subject, hash }
    }

    /// The account id given to [`StoredPassword::new`].
    pub fn subject(&self) -> &'a str {
        self.subject
    }

    /// The stored hash given to [`StoredPassword::new`].
    pub fn hash(&self) -> &'a PasswordHash {
        self.hash
    }
}

/// The answer of [`PasswordHasher::verify`].
///
/// A wrong password and an unknown user are both [`Verification::Invalid`], so a handler
/// cannot answer them differently by mistake; the audit log has the difference.
///
/// ```
/// use secure_core::auth::password::Verification;
///
/// assert!(!Verification::Invalid.is_valid());
/// assert!(!Verification::Invalid.needs_rehash());
/// ```
#[must_use = "a password check that is not looked at lets everyone in or no one"]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// The password is right. `rehash` is `Some` when the stored hash was made with other
    /// parameters or another algorithm: store [`Rehash::run`]'s result in its place.
    Valid {
        /// Present when the stored hash is outdated.
        rehash: Option<Rehash>,
    },
    /// Wrong password, unknown user, or a password longer than [`MAX_CHARS`].
    Invalid,
}

impl Verification {
    /// Whether the password was right.
    pub fn is_valid(&self) -> bool {
        matches!(self, Verification::Valid { .. })
    }

    /// Whether the password was right and its stored hash should be replaced.
    pub fn needs_rehash(&self) -> bool {
        matches!(self, Verification::Valid { rehash: Some(_) })
    }
}

/// Proof that a password was just verified against an outdated hash; the only way to hash a
/// password without the new-password policy (an old password may predate it).
///
/// ```
/// use secure_core::SecretString;
/// use secure_core::auth::password::{Argon2Params, PasswordHasher, SkipBreachCheck, StoredPassword, Verification};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let weak = Argon2Params { memory_kib: 8 * 1024, iterations: 1, parallelism: 1 };
/// let old = PasswordHasher::with_params(weak).unwrap();
/// let password = SecretString::from("correct horse battery staple");
/// let stored = old.hash(&password, &SkipBreachCheck).await.unwrap();
///
/// let hasher = PasswordHasher::new();
/// if let Ok(Verification::Valid { rehash: Some(rehash) }) =
///     hasher.verify(&password, Some(StoredPassword::new("user-42", &stored))).await
/// {
///     let fresh = rehash.run(&hasher, &password).await.unwrap();
///     assert_eq!(fresh.params(), Argon2Params::OWASP);
/// } else {
///     unreachable!();
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rehash(());

impl Rehash {
    /// Hashes the just-verified `password` with `hasher`'s current parameters, on a blocking
    /// thread.
    pub async fn run(
        self,
        hasher: &PasswordHasher,
        password: &SecretString,
    ) -> Result<PasswordHash, PasswordError> {
        let normalized =
            policy::normalize(password).ok_or(PasswordError::TooLong { max: MAX_CHARS })?;
        hasher.hash_normalized(normalized).await
    }
}

/// Hashes new passwords and verifies logins with Argon2id.
///
/// Make one at start-up and share it (it is a cheap `Clone`): [`PasswordHasher::new`] hashes
/// a random password once to make the dummy hash that unknown users are verified against.
///
/// **Why async, and why `spawn_blocking`.** One Argon2id hash with the OWASP parameters takes
/// tens of milliseconds of CPU and 19 MiB of memory. Run on an async worker thread, it would
/// stall every other request scheduled on that thread; [`PasswordHasher::hash`] and
/// [`PasswordHasher::verify`] therefore run it on tokio's blocking pool, at most
/// [`HashLimit::concurrent`] at once: without that bound the pool grows to 512 threads of
/// 19 MiB each under a login flood. A call that finds every slot taken for
/// [`HashLimit::wait`] answers [`HasherBusy`] (503) instead of queueing without end.
/// [`PasswordHasher::verify_blocking`] is the same check, under the same bound, for code that
/// is already on a blocking thread.
///
/// ```
/// use secure_core::auth::password::{Argon2Params, PasswordHasher};
///
/// let hasher = PasswordHasher::new();
/// assert_eq!(hasher.params(), Argon2Params::OWASP);
/// ```
#[derive(Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

struct Inner {
    params: Argon2Params,
    argon2_params: argon2::Params,
    dummy: PasswordHash,
    slots: limit::Slots,
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.inner.params)
            .field("limit", &self.inner.slots.limit())
            .finish_non_exhaustive()
    }
}

impl Default for PasswordHasher {
    fn default() -> Self {
        PasswordHasher::new()
    }
}

impl PasswordHasher {
    /// A hasher with [`Argon2Params::OWASP`]. Takes one Argon2id hash's time (the dummy).
    ///
    /// # Panics
    ///
    /// If the operating system has no randomness to give for the dummy's salt, which no
    /// server can run without.
    ///
    /// ```
    /// let hasher = secure_core::auth::password::PasswordHasher::new();
    /// # let _ = hasher;
    /// ```
    #[allow(clippy::expect_used)]
    pub fn new() -> Self {
        PasswordHasher::with_params(Argon2Params::OWASP)
            .expect("the OWASP parameters are valid and the OS has randomness")
    }

    /// A hasher with other cost parameters: stronger ones if the servers can afford them,
    /// weaker ones only in tests. Fails with [`PasswordError::InvalidParams`] for parameters
    /// Argon2 refuses (such as `m` < 8·`p`), or [`PasswordError::Hashing`] if the dummy hash
    /// cannot be made.
    ///
    /// ```
    /// use secure_core::auth::password::{Argon2Params, PasswordError, PasswordHasher};
    ///
    /// let p = Argon2Params { memory_kib: 64 * 1024, iterations: 3, parallelism: 1 };
    /// assert_eq!(PasswordHasher::with_params(p).unwrap().params(), p);
    /// let bad = Argon2Params { memory_kib: 1, iterations: 1, parallelism: 1 };
    /// assert_eq!(PasswordHasher::with_params(bad).unwrap_err(), PasswordError::InvalidParams);
    /// ```
    pub fn with_params(params: Argon2Params) -> Result<Self, PasswordError> {
        let argon2_params = params.to_argon2()?;
        let slots = limit::Slots::new(HashLimit::default());
        let mut random = zeroize::Zeroizing::new([0u8; 32]);
        rand::fill(&mut random[..]);
        let mut slot = slots
            .acquire_blocking()
            .map_err(|_| PasswordError::Hashing)?;
        let dummy = compute::hash(&argon2_params, &random[..], &mut slot)?;
        drop(slot);
        Ok(PasswordHasher {
            inner: Arc::new(Inner {
                params,
                argon2_params,
                dummy,
                slots,
            }),
        })
    }

    /// The same hasher under another [`HashLimit`] (fresh slots; the dummy hash is kept).
    ///
    /// ```
    /// use std::time::Duration;
    /// use secure_core::auth::password::{HashLimit, PasswordHasher};
    ///
    /// let limit = HashLimit { concurrent: 4, wait: Duration::from_millis(500) };
    /// let hasher = PasswordHasher::new().with_limit(limit);
    /// assert_eq!(hasher.limit(), limit);
    /// ```
    pub fn with_limit(self, limit: HashLimit) -> Self {
        PasswordHasher {
            inner: Arc::new(Inner {
                params: self.inner.params,
                argon2_params: self.inner.argon2_params.clone(),
                dummy: self.inner.dummy.clone(),
                slots: limit::Slots::new(limit),
            }),
        }
    }

    /// How many hashes run at once, and how long a call waits for a turn.
    pub fn limit(&self) -> HashLimit {
        self.inner.slots.limit()
    }

    /// The cost parameters new hashes get.
    pub fn params(&self) -> Argon2Params {
        self.inner.params
    }

    /// Hashes a new password (sign-up, password change, reset) after checking it: length
    /// ([`check_length`]), then `breached` (ASVS 2.1.7). Runs Argon2id on tokio's blocking
    /// pool. Needs a tokio runtime.
    ///
    /// ```
    /// use secure_core::SecretString;
    /// use secure_core::auth::password::{PasswordError, PasswordHasher, SkipBreachCheck};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let hasher = PasswordHasher::new();
    /// let hash = hasher.hash(&SecretString::from("correct horse battery"), &SkipBreachCheck).await;
    /// assert!(hash.unwrap().as_phc_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    ///
    /// let short = hasher.hash(&SecretString::from("hunter2"), &SkipBreachCheck).await;
    /// assert_eq!(short.unwrap_err(), PasswordError::TooShort { min: 12 });
    /// # }
    /// ```
    pub async fn hash(
        &self,
        password: &SecretString,
        breached: &impl BreachedPasswords,
    ) -> Result<PasswordHash, PasswordError> {
        let normalized =
            policy::normalize(password).ok_or(PasswordError::TooLong { max: MAX_CHARS })?;
        policy::length_verdict(&normalized)?;
        match breached.is_breached(password).await {
            Ok(false) => {}
            Ok(true) => return Err(PasswordError::Breached),
            Err(e) => return Err(PasswordError::BreachCheckFailed(e)),
        }
        self.hash_normalized(normalized).await
    }

    async fn hash_normalized(
        &self,
        normalized: zeroize::Zeroizing<String>,
    ) -> Result<PasswordHash, PasswordError> {
        let mut slot = self
            .inner
            .slots
            .acquire()
            .await
            .map_err(PasswordError::Busy)?;
        let inner = Arc::clone(&self.inner);
        // The slot moves into the blocking task: it is free when the hash is done, even if
        // the request that asked for it was dropped meanwhile.
        tokio::task::spawn_blocking(move || {
            let timer = crate::observe::Timer::start();
            let hash = compute::hash(&inner.argon2_params, normalized.as_bytes(), &mut slot);
            timer.password_hash("hash");
            hash
        })
        .await
        .map_err(|_| PasswordError::Hashing)?
    }

    /// Checks a login on tokio's blocking pool; see [`PasswordHasher::verify_blocking`].
    /// Needs a tokio runtime; if the blocking task cannot run, the answer is `Invalid`.
    /// [`HasherBusy`] when no hashing slot came free within [`HashLimit::wait`]: answer it
    /// (503, `Retry-After`) without telling the client anything about the account.
    ///
    /// ```
    /// use secure_core::SecretString;
    /// use secure_core::auth::password::{PasswordHasher, SkipBreachCheck, StoredPassword};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let hasher = PasswordHasher::new();
    /// let hash = hasher.hash(&SecretString::from("correct horse battery"), &SkipBreachCheck).await.unwrap();
    /// let wrong = SecretString::from("correct horse battery!");
    /// let verdict = hasher.verify(&wrong, Some(StoredPassword::new("user-42", &hash))).await;
    /// assert!(!verdict.unwrap().is_valid());
    /// # }
    /// ```
    pub async fn verify(
        &self,
        password: &SecretString,
        stored: Option<StoredPassword<'_>>,
    ) -> Result<Verification, HasherBusy> {
        let turn = self.turn().await?;
        Ok(self.verify_on(turn, password, stored).await)
    }

    /// A turn at hashing: waits (at most [`HashLimit::wait`]) for one of the bounded slots.
    /// Take it before counting an attempt against a throttle, so a busy hasher (503) is never
    /// a failed attempt: then [`verify_on`](Self::verify_on).
    pub async fn turn(&self) -> Result<HashTurn, HasherBusy> {
        self.inner
            .slots
            .acquire()
            .await
            .map(|slot| HashTurn { slot })
    }

    /// [`verify`](Self::verify) on a turn already held (given back when the check is done).
    pub async fn verify_on(
        &self,
        turn: HashTurn,
        password: &SecretString,
        stored: Option<StoredPassword<'_>>,
    ) -> Verification {
        let mut slot = turn.slot;
        let hasher = self.clone();
        let password = SecretString::from(password.expose_secret());
        let stored = stored.map(|s| (s.subject.to_owned(), s.hash.clone()));
        // The blocking thread has no task-local request context: carry it, so the login's
        // audit event names the client, route and request id.
        let context = crate::audit::current();
        tokio::task::spawn_blocking(move || {
            crate::audit::with_context(context, || {
                let stored = stored
                    .as_ref()
                    .map(|(subject, hash)| StoredPassword::new(subject, hash));
                hasher.verify_with_slot(&password, stored, &mut slot)
            })
        })
        .await
        .unwrap_or(Verification::Invalid)
    }

    /// Checks a login password. `stored` is `None` when no account has the submitted name:
    /// the password is then verified against the dummy hash, so the answer takes as long as
    /// for a wrong password, and is the same ([`Verification::Invalid`]).
    ///
    /// Emits `auth.login` / `failure` with reason `bad_password` or `unknown_user`. Blocks
    /// for one Argon2id hash, after waiting (at most [`HashLimit::wait`]) for a hashing slot
    /// shared with the async calls: call it from a blocking thread, or use
    /// [`PasswordHasher::verify`].
    ///
    /// A stored hash made with other parameters takes time for those parameters (and its
    /// `Valid` answer asks for a rehash), which says nothing about whether a user exists.
    ///
    /// ```
    /// use secure_core::SecretString;
    /// use secure_core::auth::password::{PasswordHasher, Verification};
    ///
    /// let hasher = PasswordHasher::new();
    /// let verdict = hasher.verify_blocking(&SecretString::from("anything at all"), None);
    /// assert_eq!(verdict, Ok(Verification::Invalid));
    /// ```
    pub fn verify_blocking(
        &self,
        password: &SecretString,
        stored: Option<StoredPassword<'_>>,
    ) -> Result<Verification, HasherBusy> {
        let mut slot = self.inner.slots.acquire_blocking()?;
        Ok(self.verify_with_slot(password, stored, &mut slot))
    }

    /// The check itself, for a caller that holds a hashing slot.
    fn verify_with_slot(
        &self,
        password: &SecretString,
        stored: Option<StoredPassword<'_>>,
        slot: &mut limit::Slot,
    ) -> Verification {
        let normalized = policy::normalize(password)
            .filter(|n| policy::count_up_to(n, MAX_CHARS + 1) <= MAX_CHARS);
        let target = stored.map_or(&self.inner.dummy, |s| s.hash);
        // Over-long input is refused without hashing, for known and unknown users alike.
        let matches = normalized.is_some_and(|n| {
            let timer = crate::observe::Timer::start();
            let matches = compute::verify(n.as_bytes(), target.parsed(), slot);
            timer.password_hash("verify");
            matches
        });
        match stored {
            Some(s) if matches => {
                // A step, not the login's outcome: with MFA the login may still be refused.
                audit::emit(
                    "auth.password",
                    Outcome::Success,
                    Some(s.subject),
                    "password_ok",
                );
                Verification::Valid {
                    rehash: s.hash.is_outdated(self.inner.params).then_some(Rehash(())),
                }
            }
            Some(s) => {
                audit::emit(
                    "auth.login",
                    Outcome::Failure,
                    Some(s.subject),
                    "bad_password",
                );
                Verification::Invalid
            }
            None => {
                std::hint::black_box(matches);
                audit::emit("auth.login", Outcome::Failure, None, "unknown_user");
                Verification::Invalid
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> PasswordHasher {
        PasswordHasher::with_params(Argon2Params {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap()
    }

    #[test]
    fn over_long_passwords_are_refused_without_panicking() {
        let hasher = fast();
        let huge = SecretString::from("x".repeat(1 << 20));
        assert_eq!(
            hasher.verify_blocking(&huge, None),
            Ok(Verification::Invalid)
        );
        assert_eq!(
            check_length(&huge),
            Err(PasswordError::TooLong { max: MAX_CHARS })
        );
    }

    #[tokio::test]
    async fn every_way_to_hash_waits_for_a_slot() {
        let hasher = fast().with_limit(HashLimit {
            concurrent: 1,
            wait: std::time::Duration::from_millis(10),
        });
        let password = SecretString::from("correct horse battery staple");
        let held = hasher.inner.slots.acquire().await.unwrap();
        assert!(hasher.verify(&password, None).await.is_err());
        assert!(hasher.verify_blocking(&password, None).is_err());
        assert!(matches!(
            hasher.hash(&password, &SkipBreachCheck).await,
            Err(PasswordError::Busy(_))
        ));
        drop(held);
        assert_eq!(
            hasher.verify(&password, None).await,
            Ok(Verification::Invalid)
        );
        assert!(hasher.hash(&password, &SkipBreachCheck).await.is_ok());
    }

    #[test]
    fn dummy_has_the_hasher_parameters() {
        let hasher = fast();
        assert_eq!(hasher.inner.dummy.params(), hasher.params());
        assert!(!hasher.inner.dummy.is_outdated(hasher.params()));
    }

    #[test]
    fn nfd_and_nfc_spellings_verify_alike() {
        let hasher = fast();
        let nfc = SecretString::from("caf\u{e9} caf\u{e9} caf\u{e9}");
        let nfd = SecretString::from("cafe\u{301} cafe\u{301} cafe\u{301}");
        let n = policy::normalize(&nfc).unwrap();
        let mut slot = hasher.inner.slots.acquire_blocking().unwrap();
        let hash = compute::hash(&hasher.inner.argon2_params, n.as_bytes(), &mut slot).unwrap();
        drop(slot);
        let stored = Some(StoredPassword::new("u", &hash));
        assert!(hasher.verify_blocking(&nfd, stored).unwrap().is_valid());
    }
}
