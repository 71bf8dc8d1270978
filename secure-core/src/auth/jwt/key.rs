//! [`AccessTokenKey`]: the one key, and with it the one algorithm, an [`AccessTokens`] uses.
//!
//! [`AccessTokens`]: super::AccessTokens

use std::fmt;

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use zeroize::Zeroize;

use super::TokenConfigError;
use crate::redact::{ExposeSecret, SecretBox};

/// Minimum HS256 secret length in bytes (RFC 7518 §3.2: a key of the hash's size or larger).
pub const MIN_HS256_KEY_BYTES: usize = 32;

/// The signing key (or, for a verify-only service, the public key) of access tokens, and the
/// algorithm it pins: HS256, EdDSA (Ed25519) or ES256 (P-256).
///
/// The key material lives in a [`SecretBox`] (wiped on drop) and `Debug` never shows it. Every
/// constructor checks the key by signing and verifying a probe message, so a key that does not
/// work is a [`TokenConfigError`] at start-up, not a failure per request.
///
/// ```
/// use secure_core::SecretBox;
/// use secure_core::auth::jwt::AccessTokenKey;
///
/// let secret: Vec<u8> = (0..32).collect(); // load 32+ random bytes from your secret store
/// let key = AccessTokenKey::hs256(SecretBox::from(secret)).unwrap();
/// assert_eq!(key.algorithm_name(), "HS256");
/// assert!(key.can_sign());
/// assert!(!format!("{key:?}").contains("31"));
/// ```
#[derive(Clone)]
pub struct AccessTokenKey {
    pub(super) algorithm: Algorithm,
    /// Shared, so clones of the tokens (in app state, in the authenticator) hold one copy.
    pub(super) material: std::sync::Arc<SecretBox<KeyMaterial>>,
}

/// What jsonwebtoken needs; both halves wipe themselves on drop.
pub(super) struct KeyMaterial {
    pub(super) encoding: Option<EncodingKey>,
    pub(super) decoding: DecodingKey,
}

impl Zeroize for KeyMaterial {
    fn zeroize(&mut self) {
        if let Some(encoding) = &mut self.encoding {
            encoding.zeroize();
        }
        self.decoding.zeroize();
    }
}

impl AccessTokenKey {
    /// HMAC-SHA256 with a shared secret of at least [`MIN_HS256_KEY_BYTES`] bytes. The default
    /// choice when the issuer and the verifier are the same service.
    ///
    /// ```
    /// use secure_core::SecretBox;
    /// use secure_core::auth::jwt::{AccessTokenKey, TokenConfigError};
    ///
    /// assert!(AccessTokenKey::hs256(SecretBox::from(vec![1u8; 32])).is_ok());
    /// let weak = AccessTokenKey::hs256(SecretBox::from(b"secret".to_vec()));
    /// assert_eq!(weak.unwrap_err(), TokenConfigError::WeakKey);
    /// ```
    pub fn hs256(secret: SecretBox<[u8]>) -> Result<Self, TokenConfigError> {
        let bytes = secret.expose_secret();
        if bytes.len() < MIN_HS256_KEY_BYTES {
            return Err(TokenConfigError::WeakKey);
        }
        Self::checked(
            Algorithm::HS256,
            Some(EncodingKey::from_secret(bytes)),
            DecodingKey::from_secret(bytes),
        )
    }

    /// Ed25519 (`alg` EdDSA) from a PKCS#8 v1 DER private key, the 48-byte form that
    /// `openssl genpkey -algorithm ed25519 -outform DER` writes. The public key is derived.
    ///
    /// ```
    /// use secure_core::SecretBox;
    /// use secure_core::auth::jwt::AccessTokenKey;
    ///
    /// // PKCS#8 v1 prefix for Ed25519 (RFC 8410) followed by a 32-byte seed. Use a random seed.
    /// let mut der = vec![0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70,
    ///                    0x04, 0x22, 0x04, 0x20];
    /// der.extend_from_slice(&[9u8; 32]);
    /// let key = AccessTokenKey::ed25519_pkcs8_der(SecretBox::from(der)).unwrap();
    /// assert_eq!(key.algorithm_name(), "EdDSA");
    /// ```
    pub fn ed25519_pkcs8_der(private_key: SecretBox<[u8]>) -> Result<Self, TokenConfigError> {
        Self::from_private_der(
            Algorithm::EdDSA,
            EncodingKey::from_ed_der(private_key.expose_secret()),
        )
    }

    /// ES256 (ECDSA P-256 with SHA-256) from a PKCS#8 DER private key
    /// (`openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -outform DER`).
    /// The public key is derived.
    ///
    /// ```
    /// use secure_core::SecretBox;
    /// use secure_core::auth::jwt::{AccessTokenKey, TokenConfigError};
    ///
    /// let not_a_key = AccessTokenKey::es256_pkcs8_der(SecretBox::from(vec![0u8; 64]));
    /// assert_eq!(not_a_key.unwrap_err(), TokenConfigError::InvalidKey);
    /// ```
    pub fn es256_pkcs8_der(private_key: SecretBox<[u8]>) -> Result<Self, TokenConfigError> {
        Self::from_private_der(
            Algorithm::ES256,
            EncodingKey::from_ec_der(private_key.expose_secret()),
        )
    }

    /// A verify-only Ed25519 key: the 32 raw public key bytes (a JWK's `x`, decoded).
    ///
    /// ```
    /// use secure_core::auth::jwt::{AccessTokenKey, TokenConfigError};
    ///
    /// assert_eq!(
    ///     AccessTokenKey::ed25519_public(&[1u8; 31]).unwrap_err(),
    ///     TokenConfigError::InvalidKey
    /// );
    /// ```
    pub fn ed25519_public(public_key: &[u8]) -> Result<Self, TokenConfigError> {
        // jsonwebtoken slices the first 32 bytes: insist on exactly 32.
        if public_key.len() != 32 {
            return Err(TokenConfigError::InvalidKey);
        }
        Self::checked(Algorithm::EdDSA, None, DecodingKey::from_ed_der(public_key))
    }

    /// A verify-only ES256 key: a SEC1 point, `04 || x || y` (65 bytes) or compressed (33).
    ///
    /// ```
    /// use secure_core::auth::jwt::{AccessTokenKey, TokenConfigError};
    ///
    /// let mut point = vec![4u8];
    /// point.extend_from_slice(&[0u8; 64]); // not on the curve
    /// assert_eq!(
    ///     AccessTokenKey::es256_public_sec1(&point).unwrap_err(),
    ///     TokenConfigError::InvalidKey
    /// );
    /// ```
    pub fn es256_public_sec1(public_key: &[u8]) -> Result<Self, TokenConfigError> {
        Self::checked(Algorithm::ES256, None, DecodingKey::from_ec_der(public_key))
    }

    /// The pinned algorithm's JOSE name: `HS256`, `EdDSA` or `ES256`.
    pub fn algorithm_name(&self) -> &'static str {
        algorithm_name(self.algorithm)
    }

    /// Whether this key can issue tokens (it holds a private or shared key).
    pub fn can_sign(&self) -> bool {
        self.material.expose_secret().encoding.is_some()
    }

    fn from_private_der(
        algorithm: Algorithm,
        encoding: EncodingKey,
    ) -> Result<Self, TokenConfigError> {
        let public = Jwk::from_encoding_key(&encoding, algorithm)
            .map_err(|_| TokenConfigError::InvalidKey)?;
        let decoding = DecodingKey::from_jwk(&public).map_err(|_| TokenConfigError::InvalidKey)?;
        Self::checked(algorithm, Some(encoding), decoding)
    }

    /// Proves the key works: a signing key signs a probe that its public half verifies; a
    /// public key is accepted by the verifier (a bad point is refused before any signature
    /// check).
    fn checked(
        algorithm: Algorithm,
        encoding: Option<EncodingKey>,
        decoding: DecodingKey,
    ) -> Result<Self, TokenConfigError> {
        const PROBE: &[u8] = b"secure-core access token key probe";
        let works = match &encoding {
            Some(encoding) => jsonwebtoken::crypto::sign(PROBE, encoding, algorithm)
                .and_then(|sig| jsonwebtoken::crypto::verify(&sig, PROBE, &decoding, algorithm))
                .unwrap_or(false),
            None => jsonwebtoken::crypto::verify("AAAA", PROBE, &decoding, algorithm).is_ok(),
        };
        if !works {
            return Err(TokenConfigError::InvalidKey);
        }
        Ok(AccessTokenKey {
            algorithm,
            material: std::sync::Arc::new(SecretBox::new(Box::new(KeyMaterial {
                encoding,
                decoding,
            }))),
        })
    }
}

pub(super) fn algorithm_name(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::HS256 => "HS256",
        Algorithm::EdDSA => "EdDSA",
        Algorithm::ES256 => "ES256",
        // Only the three above are constructible.
        _ => "unsupported",
    }
}

impl fmt::Debug for AccessTokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessTokenKey")
            .field("algorithm", &self.algorithm_name())
            .field("can_sign", &self.can_sign())
            .field("key", &crate::redact::Redacted)
            .finish()
    }
}
