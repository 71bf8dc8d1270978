//! What a new password must be: 12 to 128 characters of any Unicode, not known to be breached.

use std::future::Future;

use secrecy::{ExposeSecret, SecretString};
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use super::PasswordError;

/// The fewest characters a new password may have (ASVS 2.1.1; NIST 800-63B allows 8, ASVS
/// asks for 12).
pub const MIN_CHARS: usize = 12;

/// The most characters a password may have (ASVS 2.1.2: at least 64 allowed, at most 128).
/// Longer input is refused before hashing, at login too, so nobody can make the server hash
/// megabytes.
pub const MAX_CHARS: usize = 128;

/// Checks the length rules on a new password: [`MIN_CHARS`]..=[`MAX_CHARS`] Unicode code
/// points after NFKC normalisation (NIST 800-63B 5.1.1.2 counts each code point as one
/// character). No composition rules (ASVS 2.1.9): any character, including spaces and emoji,
/// is allowed, and nothing is truncated (ASVS 2.1.3).
///
/// The breached-password check is async and lives in
/// [`PasswordHasher::hash`](super::PasswordHasher::hash); this function is what a form can
/// check synchronously, for instance to answer early.
///
/// ```
/// use secure_core::SecretString;
/// use secure_core::auth::password::{PasswordError, check_length};
///
/// assert_eq!(check_length(&SecretString::from("short")), Err(PasswordError::TooShort { min: 12 }));
/// assert_eq!(check_length(&SecretString::from("correct horse battery")), Ok(()));
/// assert_eq!(check_length(&SecretString::from("🔑".repeat(12))), Ok(()));
/// ```
pub fn check_length(password: &SecretString) -> Result<(), PasswordError> {
    match normalize(password) {
        Some(normalized) => length_verdict(&normalized),
        None => Err(PasswordError::TooLong { max: MAX_CHARS }),
    }
}

pub(super) fn length_verdict(normalized: &str) -> Result<(), PasswordError> {
    let chars = count_up_to(normalized, MAX_CHARS + 1);
    if chars < MIN_CHARS {
        Err(PasswordError::TooShort { min: MIN_CHARS })
    } else if chars > MAX_CHARS {
        Err(PasswordError::TooLong { max: MAX_CHARS })
    } else {
        Ok(())
    }
}

/// Counts chars, stopping at `limit` so a huge input costs no more than the limit.
pub(super) fn count_up_to(s: &str, limit: usize) -> usize {
    s.chars().take(limit).count()
}

/// NFKC-normalises a password into memory that is wiped on drop; `None` when the input has
/// more than [`RAW_CHAR_LIMIT`] code points (refused as too long without normalising it).
///
/// NIST 800-63B 5.1.1.2 says verifiers SHOULD normalise Unicode passwords with NFKC or NFKD
/// before hashing, so that the same password typed on systems that compose characters
/// differently (macOS input often yields NFD, Windows NFC) verifies. ASVS 2.1 does not
/// require it and allows any printable Unicode: normalising keeps that, since only the
/// representation of equivalent characters changes. The choice is part of every stored hash:
/// changing it later locks out users whose passwords change under it.
pub(super) fn normalize(password: &SecretString) -> Option<Zeroizing<String>> {
    let raw = password.expose_secret();
    if count_up_to(raw, RAW_CHAR_LIMIT + 1) > RAW_CHAR_LIMIT {
        return None;
    }
    // NFKC can grow a string; reserve generously so the buffer rarely reallocates (and so
    // rarely leaves an unwiped copy behind).
    let mut out = Zeroizing::new(String::with_capacity(raw.len() * 2));
    out.extend(raw.nfkc());
    Some(out)
}

/// Raw input longer than this many code points is refused before normalisation, bounding the
/// work an attacker can cause. NFKC composes at most three code points into one (Hangul
/// jamo), so no input that normalises to [`MAX_CHARS`] or fewer is refused by this cap
/// unless it is padded with redundant marks.
pub(super) const RAW_CHAR_LIMIT: usize = 4 * MAX_CHARS;

/// Why a breached-password check could not answer (the service was down, timed out, ...).
///
/// [`PasswordHasher::hash`](super::PasswordHasher::hash) fails closed on it: the password is
/// not accepted, and the caller may ask the user to try again.
///
/// ```
/// use secure_core::auth::password::BreachCheckError;
///
/// let e = BreachCheckError::new("range API timed out");
/// assert_eq!(e.to_string(), "breached-password check failed: range API timed out");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreachCheckError {
    reason: &'static str,
}

impl BreachCheckError {
    /// An error with a fixed reason (never the password, never a response body).
    pub fn new(reason: &'static str) -> Self {
        BreachCheckError { reason }
    }

    /// The fixed reason given to [`BreachCheckError::new`].
    ///
    /// ```
    /// # use secure_core::auth::password::BreachCheckError;
    /// assert_eq!(BreachCheckError::new("down").reason(), "down");
    /// ```
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}

impl std::fmt::Display for BreachCheckError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "breached-password check failed: {}", self.reason)
    }
}

impl std::error::Error for BreachCheckError {}

/// The hook for ASVS 2.1.7: is this password in a list of breached or common passwords?
///
/// The application implements it: against a local list of the most common passwords, a
/// database of breached hashes, or a k-anonymity range API such as Have I Been Pwned's (send
/// the first 5 hex digits of the SHA-1, compare the suffixes locally). A client for such an
/// API is not part of this crate: it needs an HTTP client and a policy for outages that are
/// the application's to choose.
///
/// It sees the password as the user typed it (before NFKC normalisation), since breach
/// corpora hold raw passwords.
///
/// ```
/// use secure_core::{ExposeSecret, SecretString};
/// use secure_core::auth::password::{BreachCheckError, BreachedPasswords};
///
/// struct CommonPasswords(&'static [&'static str]);
///
/// impl BreachedPasswords for CommonPasswords {
///     async fn is_breached(&self, password: &SecretString) -> Result<bool, BreachCheckError> {
///         Ok(self.0.contains(&password.expose_secret()))
///     }
/// }
/// # let list = CommonPasswords(&["password1234"]);
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # assert!(rt.block_on(list.is_breached(&SecretString::from("password1234"))).unwrap());
/// ```
pub trait BreachedPasswords: Send + Sync {
    /// `Ok(true)` if the password is known to be breached; `Err` if the check could not run.
    fn is_breached(
        &self,
        password: &SecretString,
    ) -> impl Future<Output = Result<bool, BreachCheckError>> + Send;
}

/// A [`BreachedPasswords`] that never checks anything.
///
/// Using it means not meeting ASVS 2.1.7. It exists for tests, for tools that set a password
/// an operator chose, and for applications that check elsewhere; its name makes that visible
/// in review.
///
/// ```
/// use secure_core::SecretString;
/// use secure_core::auth::password::{BreachedPasswords, SkipBreachCheck};
///
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// let breached = rt.block_on(SkipBreachCheck.is_breached(&SecretString::from("password1234")));
/// assert_eq!(breached, Ok(false));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SkipBreachCheck;

impl BreachedPasswords for SkipBreachCheck {
    async fn is_breached(&self, _password: &SecretString) -> Result<bool, BreachCheckError> {
        Ok(false)
    }
}
