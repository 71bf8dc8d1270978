//! Stored password hashes: Argon2 PHC strings, their parameters, and whether they are current.

use std::fmt;

use argon2::{ARGON2D_IDENT, ARGON2I_IDENT, ARGON2ID_IDENT, Algorithm, Params, Version};

use super::PasswordError;

/// Argon2id cost parameters.
///
/// [`Argon2Params::OWASP`] (m=19456 KiB, t=2, p=1) is the OWASP Password Storage Cheat Sheet's
/// baseline and what [`PasswordHasher::new`](super::PasswordHasher::new) uses. Raise them if
/// your servers can afford it; hashes made with other parameters are reported by
/// [`Verification::needs_rehash`](super::Verification::needs_rehash) at the next login.
///
/// ```
/// use secure_core::auth::password::Argon2Params;
///
/// let p = Argon2Params::OWASP;
/// assert_eq!((p.memory_kib, p.iterations, p.parallelism), (19_456, 2, 1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory cost in KiB (`m`).
    pub memory_kib: u32,
    /// Number of passes (`t`).
    pub iterations: u32,
    /// Degree of parallelism (`p`).
    pub parallelism: u32,
}

impl Argon2Params {
    /// m=19456 KiB (19 MiB), t=2, p=1: the OWASP minimum for Argon2id.
    pub const OWASP: Argon2Params = Argon2Params {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };

    pub(super) fn to_argon2(self) -> Result<Params, PasswordError> {
        Params::new(
            self.memory_kib,
            self.iterations,
            self.parallelism,
            Some(Params::DEFAULT_OUTPUT_LEN),
        )
        .map_err(|_| PasswordError::InvalidParams)
    }
}

impl Default for Argon2Params {
    fn default() -> Self {
        Argon2Params::OWASP
    }
}

/// A password hash as stored: a PHC string such as
/// `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`.
///
/// Made by [`PasswordHasher::hash`](super::PasswordHasher::hash), or parsed from the database
/// with [`PasswordHash::parse`]. Only Argon2 (id, i or d) strings with a salt and an output
/// are accepted, so a corrupt column is found when it is loaded, not at login.
///
/// `Debug` shows the algorithm and the cost parameters, never the salt or the hash output
/// (which an attacker could try to crack offline).
///
/// ```
/// use secure_core::auth::password::PasswordHash;
///
/// let phc = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$\
///            aW52YWxpZGhhc2hvdXRwdXRpbnZhbGlkaGFzaG91dA";
/// let hash = PasswordHash::parse(phc).unwrap();
/// assert_eq!(hash.as_phc_str(), phc);
/// assert!(!format!("{hash:?}").contains("c29tZXNhbHRzb21lc2FsdA"));
/// assert!(PasswordHash::parse("$2b$12$notargon2").is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash {
    text: Box<str>,
    parsed: argon2::PasswordHash,
}

impl PasswordHash {
    /// Parses a stored PHC string. Fails with [`PasswordError::MalformedHash`] for anything
    /// but a complete Argon2 PHC string with valid parameters.
    ///
    /// ```
    /// use secure_core::auth::password::{PasswordError, PasswordHash};
    ///
    /// assert_eq!(PasswordHash::parse("").unwrap_err(), PasswordError::MalformedHash);
    /// ```
    pub fn parse(phc: &str) -> Result<Self, PasswordError> {
        let parsed = argon2::PasswordHash::new(phc).map_err(|_| PasswordError::MalformedHash)?;
        Self::from_parsed(parsed)
    }

    pub(super) fn from_parsed(parsed: argon2::PasswordHash) -> Result<Self, PasswordError> {
        let algorithm = parsed.algorithm.as_str();
        if ![ARGON2ID_IDENT, ARGON2I_IDENT, ARGON2D_IDENT]
            .iter()
            .any(|id| id.as_str() == algorithm)
        {
            return Err(PasswordError::MalformedHash);
        }
        if parsed.salt.is_none() || parsed.hash.is_none() {
            return Err(PasswordError::MalformedHash);
        }
        if let Some(version) = parsed.version {
            Version::try_from(version).map_err(|_| PasswordError::MalformedHash)?;
        }
        Params::try_from(&parsed).map_err(|_| PasswordError::MalformedHash)?;
        Ok(PasswordHash {
            text: parsed.to_string().into_boxed_str(),
            parsed,
        })
    }

    /// The PHC string to store.
    ///
    /// ```
    /// # use secure_core::auth::password::PasswordHash;
    /// # let phc = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$aW52YWxpZGhhc2hvdXRwdXRpbnZhbGlkaGFzaG91dA";
    /// let hash = PasswordHash::parse(phc).unwrap();
    /// assert!(hash.as_phc_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    /// ```
    pub fn as_phc_str(&self) -> &str {
        &self.text
    }

    /// The cost parameters the hash was made with.
    ///
    /// ```
    /// # use secure_core::auth::password::{Argon2Params, PasswordHash};
    /// # let phc = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$aW52YWxpZGhhc2hvdXRwdXRpbnZhbGlkaGFzaG91dA";
    /// assert_eq!(PasswordHash::parse(phc).unwrap().params(), Argon2Params::OWASP);
    /// ```
    pub fn params(&self) -> Argon2Params {
        // `parse` checked that the parameters are valid.
        let p = Params::try_from(&self.parsed).unwrap_or_default();
        Argon2Params {
            memory_kib: p.m_cost(),
            iterations: p.t_cost(),
            parallelism: p.p_cost(),
        }
    }

    pub(super) fn parsed(&self) -> &argon2::PasswordHash {
        &self.parsed
    }

    /// Whether this hash was made with anything but Argon2id v0x13, `current` costs, a 32-byte
    /// output and a salt of at least 16 bytes.
    pub(super) fn is_outdated(&self, current: Argon2Params) -> bool {
        let algorithm_ok = self.parsed.algorithm.as_str() == Algorithm::Argon2id.ident().as_str();
        let version_ok = self.parsed.version == Some(Version::V0x13.into());
        let output_ok = self
            .parsed
            .hash
            .as_ref()
            .is_some_and(|h| h.len() == Params::DEFAULT_OUTPUT_LEN);
        let salt_ok = self
            .parsed
            .salt
            .as_ref()
            .is_some_and(|s| s.len() >= argon2::RECOMMENDED_SALT_LEN);
        !(algorithm_ok && version_ok && output_ok && salt_ok && self.params() == current)
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHash")
            .field("algorithm", &self.parsed.algorithm.as_str())
            .field("version", &self.parsed.version)
            .field("params", &self.parsed.params.as_str())
            .finish_non_exhaustive()
    }
}
