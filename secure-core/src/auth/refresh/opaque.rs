//! Opaque bearer values (refresh tokens, session ids): 256 bits from the CSPRNG, written as
//! base64url without padding (43 characters), stored only as their SHA-256.
//!
//! **Why a plain SHA-256 and not Argon2.** Slow, salted hashes exist to stop a guessing
//! attack on low-entropy secrets (passwords). A 256-bit uniformly random value cannot be
//! guessed: a leaked table of hashes gives nothing usable (SHA-256 is preimage resistant),
//! and a fast deterministic hash lets the store find a row by its hash with an index, so
//! the raw value is never compared at all (RFC 6819 5.1.4.1.3, ASVS 3.5.x, 2.10.4).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng as _;
use secrecy::SecretString;
use sha2::{Digest, Sha256};

/// Bytes of entropy in every opaque value.
pub(crate) const ENTROPY_BYTES: usize = 32;

/// Length of the base64url text of [`ENTROPY_BYTES`] bytes.
pub(crate) const ENCODED_LEN: usize = 43;

/// A fresh random value: the secret text for the client, and the hash to store.
pub(crate) fn generate() -> (SecretString, String) {
    let mut bytes = zeroize::Zeroizing::new([0u8; ENTROPY_BYTES]);
    // ThreadRng: ChaCha12 seeded from the OS and reseeded periodically (a CSPRNG).
    rand::rng().fill_bytes(bytes.as_mut_slice());
    let text = URL_SAFE_NO_PAD.encode(bytes.as_slice());
    let hash = hash(&text);
    (SecretString::from(text), hash)
}

/// A random non-secret identifier (128 bits, base64url): family ids.
pub(crate) fn identifier() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of an opaque value: base64url(SHA-256(text)).
pub(crate) fn hash(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes()))
}

/// Whether `text` has the shape of a value made by [`generate`]: 43 base64url characters.
/// Checked before any store lookup, so junk input costs nothing and reaches no database.
pub(crate) fn well_formed(text: &str) -> bool {
    text.len() == ENCODED_LEN
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn values_are_43_chars_and_distinct() {
        let (a, ha) = generate();
        let (b, hb) = generate();
        assert!(well_formed(a.expose_secret()));
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert_ne!(ha, hb);
        assert_eq!(hash(a.expose_secret()), ha);
        assert_ne!(ha, a.expose_secret());
    }

    #[test]
    fn shape_check() {
        assert!(!well_formed(""));
        assert!(!well_formed(&"a".repeat(44)));
        assert!(!well_formed(&format!("{}=", "a".repeat(42))));
        assert!(well_formed(&"a".repeat(43)));
    }
}
