//! Secrets at rest: values the service must read back (TOTP secrets, device tokens) sealed
//! with an AEAD under a data key, so a database dump or a backup alone gives them away no
//! more than a password table does (OWASP ASVS 4.0.3 2.9.1 and 6.2.1; ASVS 5.0 11.3.2).
//!
//! - **Cipher**: XChaCha20-Poly1305 (RustCrypto `chacha20poly1305`) with a random 192-bit
//!   nonce per value, so nonces never repeat in practice however many values one key seals.
//! - **Keys**: the configured key text (`SECURE_DATA_KEY`, 32 bytes or more, checked like the
//!   other keys) goes through HKDF-SHA256 into a 256-bit cipher key and a short key id. The id
//!   is written beside each value, so a rotated key still opens what it sealed
//!   (`SECURE_DATA_KEY_PREVIOUS`) while [`DataKeys::needs_reseal`] finds what to seal again.
//! - **Context**: every value is sealed with associated data naming what it is and whose
//!   (`"notes-api totp\0<user id>"`): a sealed value copied to another row or another use
//!   does not open.
//! - **Format**: `v1.<key id>.<base64url(nonce || ciphertext || tag)>`, ASCII, safe in a
//!   TEXT column.
//!
//! ```
//! use secure_core::crypto::{DataKey, DataKeys};
//!
//! let keys = DataKeys::new(DataKey::generate());
//! let sealed = keys.seal(b"totp\0user-42", b"JBSWY3DPEHPK3PXP");
//! assert!(sealed.starts_with("v1."));
//! assert_eq!(&keys.open(b"totp\0user-42", &sealed).unwrap()[..], b"JBSWY3DPEHPK3PXP");
//! // Another user's row, or a tampered value: refused.
//! assert!(keys.open(b"totp\0user-7", &sealed).is_err());
//! ```

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use zeroize::{Zeroize, Zeroizing};

const VERSION: &str = "v1";
const NONCE_BYTES: usize = 24;
/// HKDF `info` of the cipher key and of the key id: one input key, two unrelated outputs.
const KEY_INFO: &[u8] = b"secure-core data key v1";
const ID_INFO: &[u8] = b"secure-core data key id v1";

/// One data key: the cipher key and its id. `Debug` shows the id only.
#[derive(Clone)]
pub struct DataKey {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl DataKey {
    /// The data key derived from configured key material (already checked for strength by
    /// the configuration; see [`Keys`](crate::config::Keys)).
    pub fn derive(material: &[u8]) -> Self {
        let hkdf = hkdf::Hkdf::<sha2::Sha256>::new(None, material);
        let mut key = Zeroizing::new([0u8; 32]);
        let mut id = [0u8; 6];
        // 32 and 6 bytes are far below HKDF-SHA256's limit of 255 * 32.
        let derived =
            hkdf.expand(KEY_INFO, &mut key[..]).is_ok() && hkdf.expand(ID_INFO, &mut id).is_ok();
        debug_assert!(derived);
        let cipher = XChaCha20Poly1305::new(&Key::from(*key));
        DataKey {
            id: URL_SAFE_NO_PAD.encode(id),
            cipher,
        }
    }

    /// A random key for one process (development and tests): what it seals dies with it.
    pub fn generate() -> Self {
        let mut material = Zeroizing::new([0u8; 32]);
        rand::fill(&mut material[..]);
        DataKey::derive(&material[..])
    }

    /// The key id written beside every value it seals (8 base64url characters, derived from
    /// the key; it tells nothing about the key).
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// Why a sealed value did not open. Never carries the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// Not `v1.<key id>.<base64url>`: not a sealed value (or a future format).
    #[error("not a sealed value")]
    Malformed,
    /// Sealed under a key that is neither the current nor a previous data key.
    #[error("sealed under an unknown data key (id not configured)")]
    UnknownKey,
    /// The key is known but the value or its context does not match: tampered, copied from
    /// another row, or corrupt.
    #[error("sealed value failed authentication")]
    Forged,
}

/// `?` in a handler: a stored value that does not open is a 500 whose cause is logged.
impl From<SealError> for crate::error::ApiError {
    fn from(error: SealError) -> Self {
        crate::error::ApiError::internal(error)
    }
}

/// The current data key, which seals, and previous ones, which still open what they sealed.
///
/// ```
/// use secure_core::crypto::{DataKey, DataKeys};
///
/// let old = DataKey::generate();
/// let sealed = DataKeys::new(old.clone()).seal(b"ctx", b"secret");
///
/// let rotated = DataKeys::new(DataKey::generate()).with_previous(old);
/// assert!(rotated.needs_reseal(&sealed));
/// let again = rotated.reseal(b"ctx", &sealed).unwrap();
/// assert!(!rotated.needs_reseal(&again));
/// ```
#[derive(Debug, Clone)]
pub struct DataKeys {
    current: DataKey,
    previous: Vec<DataKey>,
}

impl DataKeys {
    /// Seals with `current`; opens what `current` sealed.
    pub fn new(current: DataKey) -> Self {
        DataKeys {
            current,
            previous: Vec::new(),
        }
    }

    /// Also opens what `previous` sealed (during a key rotation).
    pub fn with_previous(mut self, previous: DataKey) -> Self {
        if previous.id != self.current.id {
            self.previous.push(previous);
        }
        self
    }

    /// The key new values are sealed with.
    pub fn current(&self) -> &DataKey {
        &self.current
    }

    /// Seals `plaintext` bound to `context` (what the value is and whose): only the same
    /// context opens it.
    pub fn seal(&self, context: &[u8], plaintext: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::fill(&mut nonce);
        let payload = Payload {
            msg: plaintext,
            aad: context,
        };
        // Encryption fails only for inputs longer than 2^38 bytes, which no caller has.
        let sealed = self
            .current
            .cipher
            .encrypt(&XNonce::from(nonce), payload)
            .unwrap_or_default();
        let mut raw = Vec::with_capacity(NONCE_BYTES + sealed.len());
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&sealed);
        format!(
            "{VERSION}.{}.{}",
            self.current.id,
            URL_SAFE_NO_PAD.encode(raw)
        )
    }

    /// Opens a value [`seal`](Self::seal) made with the same `context`, under the current or
    /// a previous key. The plaintext is wiped when dropped.
    pub fn open(&self, context: &[u8], sealed: &str) -> Result<Zeroizing<Vec<u8>>, SealError> {
        let (key_id, body) = split(sealed).ok_or(SealError::Malformed)?;
        let key = self.key(key_id).ok_or(SealError::UnknownKey)?;
        let raw = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| SealError::Malformed)?;
        if raw.len() < NONCE_BYTES {
            return Err(SealError::Malformed);
        }
        let (nonce, ciphertext) = raw.split_at(NONCE_BYTES);
        let nonce = XNonce::try_from(nonce).map_err(|_| SealError::Malformed)?;
        key.cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: ciphertext,
                    aad: context,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| SealError::Forged)
    }

    /// Whether `sealed` was made under a key other than the current one (or is not a sealed
    /// value at all): such values should be sealed again ([`reseal`](Self::reseal)).
    pub fn needs_reseal(&self, sealed: &str) -> bool {
        split(sealed).is_none_or(|(id, _)| id != self.current.id)
    }

    /// Opens `sealed` and seals it again under the current key.
    pub fn reseal(&self, context: &[u8], sealed: &str) -> Result<String, SealError> {
        let mut plain = self.open(context, sealed)?;
        let again = self.seal(context, &plain);
        plain.zeroize();
        Ok(again)
    }

    fn key(&self, id: &str) -> Option<&DataKey> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == id)
    }
}

/// `v1.<id>.<body>` -> (id, body).
fn split(sealed: &str) -> Option<(&str, &str)> {
    let rest = sealed.strip_prefix(VERSION)?.strip_prefix('.')?;
    let (id, body) = rest.split_once('.')?;
    (!id.is_empty() && !body.is_empty()).then_some((id, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_material_gives_the_same_key_and_id() {
        let a = DataKey::derive(b"0123456789abcdefghijklmnopqrstuvwxyz");
        let b = DataKey::derive(b"0123456789abcdefghijklmnopqrstuvwxyz");
        assert_eq!(a.id(), b.id());
        assert_eq!(a.id().len(), 8);
        let sealed = DataKeys::new(a).seal(b"c", b"v");
        assert_eq!(&DataKeys::new(b).open(b"c", &sealed).unwrap()[..], b"v");
    }

    #[test]
    fn every_seal_is_different_and_hides_the_plaintext() {
        let keys = DataKeys::new(DataKey::generate());
        let a = keys.seal(b"c", b"JBSWY3DPEHPK3PXP");
        let b = keys.seal(b"c", b"JBSWY3DPEHPK3PXP");
        assert_ne!(a, b);
        assert!(!a.contains("JBSWY3DPEHPK3PXP"));
    }

    #[test]
    fn tampering_unknown_keys_and_garbage_are_refused_without_panicking() {
        let keys = DataKeys::new(DataKey::generate());
        let sealed = keys.seal(b"c", b"secret value");
        let mut tampered = sealed.clone().into_bytes();
        // A character inside the body: the last one may only carry padding bits.
        let at = tampered.len() - 10;
        tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(keys.open(b"c", &tampered).unwrap_err(), SealError::Forged);
        let other = DataKeys::new(DataKey::generate());
        assert_eq!(
            other.open(b"c", &sealed).unwrap_err(),
            SealError::UnknownKey
        );
        for garbage in [
            "",
            "v1",
            "v1..",
            "v1.x.",
            "v2.abc.def",
            "JBSWY3DPEHPK3PXP",
            "v1.a.!!!",
        ] {
            assert!(keys.open(b"c", garbage).is_err(), "{garbage}");
        }
        let id = keys.current().id().to_owned();
        assert_eq!(
            keys.open(b"c", &format!("v1.{id}.AAAA")).unwrap_err(),
            SealError::Malformed
        );
    }

    #[test]
    fn debug_shows_the_id_only() {
        let key = DataKey::derive(b"0123456789abcdefghijklmnopqrstuvwxyz");
        let shown = format!("{key:?}");
        assert!(shown.contains(key.id()));
        assert!(!shown.contains("cipher"));
    }
}
