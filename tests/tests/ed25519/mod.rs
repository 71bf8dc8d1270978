//! A fresh Ed25519 signing key, for the suites that sign provider tokens themselves.

use jsonwebtoken::EncodingKey;

/// An Ed25519 key from 32 random bytes (PKCS#8: this fixed prefix, then the seed).
pub(crate) fn key() -> EncodingKey {
    let seed: [u8; 32] = rand::random();
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&seed);
    EncodingKey::from_ed_der(&der)
}
