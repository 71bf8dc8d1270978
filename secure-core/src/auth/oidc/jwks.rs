//! A provider's JWKS (RFC 7517) read into verification keys, each pinned to one algorithm.
//!
//! Keys this service cannot or must not use are skipped, never fatal, so a provider that adds
//! an encryption key or a new key type does not take the service down:
//! * `use` other than `sig`, or `key_ops` without `verify`;
//! * a `kty` other than `RSA`, `EC` (P-256) and `OKP` (Ed25519); `oct` (a shared secret) never;
//! * an `alg` outside the allowlist (RS256, PS256 for RSA; ES256; EdDSA or Ed25519);
//! * RSA moduli under 2048 or over 8192 bits; points not on their curve (a probe verification
//!   refuses them, as for the service's own keys).
//!
//! An RSA key without `alg` is pinned to RS256, the algorithm OpenID Connect providers sign
//! with by default (Entra ID publishes its keys without `alg`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

/// Largest JWKS document read, in bytes.
pub(super) const MAX_JWKS_BYTES: usize = 256 * 1024;
/// Most usable keys kept from one set (a token without `kid` is tried against those of its
/// algorithm, so the set stays small).
pub(super) const MAX_KEYS: usize = 32;

/// One usable key: what a token's `kid` and `alg` select.
pub(super) struct ProviderKey {
    pub(super) kid: Option<String>,
    pub(super) alg: Algorithm,
    pub(super) decoding: DecodingKey,
}

/// The usable keys of a set, and how many were skipped.
pub(super) struct Parsed {
    pub(super) keys: Vec<ProviderKey>,
    pub(super) skipped: usize,
}

#[derive(Deserialize)]
struct Set {
    keys: Vec<serde_json::Value>,
}

/// A member of a JWK as the rules read it: absent, or a string.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Members {
    kty: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    key_ops: Option<Vec<String>>,
    alg: Option<String>,
    kid: Option<String>,
    crv: Option<String>,
    n: Option<String>,
    e: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

/// The usable keys of a JWKS document. `Err` when it is not a JSON object with a `keys` array.
pub(super) fn parse(body: &[u8]) -> Result<Parsed, serde_json::Error> {
    let set: Set = serde_json::from_slice(body)?;
    let mut keys: Vec<ProviderKey> = Vec::new();
    let mut skipped = 0;
    for value in set.keys {
        let key = serde_json::from_value::<Members>(value)
            .ok()
            .and_then(|m| usable(&m));
        match key {
            Some(key)
                if keys.len() < MAX_KEYS
                    && !keys.iter().any(|k| k.kid == key.kid && k.alg == key.alg) =>
            {
                keys.push(key);
            }
            _ => skipped += 1,
        }
    }
    Ok(Parsed { keys, skipped })
}

fn usable(m: &Members) -> Option<ProviderKey> {
    if m.use_.as_deref().is_some_and(|u| u != "sig")
        || m.key_ops
            .as_ref()
            .is_some_and(|ops| !ops.iter().any(|op| op == "verify"))
        || m.kid
            .as_ref()
            .is_some_and(|k| k.is_empty() || k.len() > 256)
    {
        return None;
    }
    let (alg, decoding) = match (m.kty.as_deref()?, m.alg.as_deref()) {
        ("RSA", alg @ (None | Some("RS256" | "PS256"))) => {
            let (n, e) = (m.n.as_deref()?, m.e.as_deref()?);
            let bits = modulus_bits(n)?;
            if !(2048..=8192).contains(&bits) {
                return None;
            }
            let alg = if alg == Some("PS256") {
                Algorithm::PS256
            } else {
                Algorithm::RS256
            };
            (alg, DecodingKey::from_rsa_components(n, e).ok()?)
        }
        ("EC", None | Some("ES256")) if m.crv.as_deref() == Some("P-256") => {
            let key = DecodingKey::from_ec_components(m.x.as_deref()?, m.y.as_deref()?).ok()?;
            (Algorithm::ES256, key)
        }
        ("OKP", None | Some("EdDSA" | "Ed25519")) if m.crv.as_deref() == Some("Ed25519") => {
            let x = URL_SAFE_NO_PAD.decode(m.x.as_deref()?).ok()?;
            if x.len() != 32 {
                return None;
            }
            (Algorithm::EdDSA, DecodingKey::from_ed_der(&x))
        }
        _ => return None,
    };
    // A key the backend cannot load fails here (an error), not per request; a good key merely
    // does not verify the probe.
    jsonwebtoken::crypto::verify("AAAA", b"secure-core provider key probe", &decoding, alg).ok()?;
    Some(ProviderKey {
        kid: m.kid.clone(),
        alg,
        decoding,
    })
}

/// The size of an RSA modulus given as base64url, leading zero bytes set aside.
fn modulus_bits(n: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(n).ok()?;
    let first = bytes.iter().position(|&b| b != 0)?;
    let lead = bytes[first];
    Some((bytes.len() - first - 1) * 8 + (8 - lead.leading_zeros() as usize))
}

/// The allowlisted algorithm a token's `alg` names, if any: never `HS*`, never `none`.
pub(super) fn allowed(alg: &str) -> Option<Algorithm> {
    match alg {
        "RS256" => Some(Algorithm::RS256),
        "PS256" => Some(Algorithm::PS256),
        "ES256" => Some(Algorithm::ES256),
        "EdDSA" | "Ed25519" => Some(Algorithm::EdDSA),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modulus_size_ignores_leading_zeros() {
        let mut n = vec![0u8, 0x80];
        n.extend([0u8; 255]);
        assert_eq!(modulus_bits(&URL_SAFE_NO_PAD.encode(&n)), Some(2048));
        assert_eq!(modulus_bits(&URL_SAFE_NO_PAD.encode([0x01])), Some(1));
        assert_eq!(modulus_bits(&URL_SAFE_NO_PAD.encode([0u8, 0])), None);
    }

    #[test]
    fn unusable_keys_are_skipped_not_fatal() {
        let body = br#"{"keys":[
            {"kty":"oct","k":"c2VjcmV0","alg":"HS256"},
            {"kty":"EC","crv":"P-384","x":"AA","y":"AA"},
            {"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"},
            {"kty":"RSA","alg":"RS512","n":"AQAB","e":"AQAB"},
            {"kty":"RSA","n":"AQAB","e":"AQAB"},
            {"kty":"OKP","crv":"Ed25519","x":"AA"},
            {"kty":"weird"},
            "not an object"
        ]}"#;
        let parsed = parse(body).unwrap();
        assert!(parsed.keys.is_empty());
        assert_eq!(parsed.skipped, 8);
        assert!(parse(b"[]").is_err());
        assert!(parse(br#"{"keys":{}}"#).is_err());
    }

    #[test]
    fn only_the_allowlist_is_allowed() {
        for bad in ["none", "HS256", "RS512", "ES384", "rs256", ""] {
            assert!(allowed(bad).is_none(), "{bad}");
        }
        assert_eq!(allowed("PS256"), Some(Algorithm::PS256));
    }
}
