//! The fixture of the provider-token benchmarks (`oidc.rs`, and `instructions.rs`): a key
//! generated with `openssl`, its JWKS given to an `OidcProvider`, a token shaped as
//! Keycloak's, and the `Validation` of the `jsonwebtoken::decode` baseline.

use std::process::Command;
use std::sync::Arc;

use axum::http::{Request, request::Parts};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secure_core::auth::oidc::OidcProvider;
use secure_core::auth::{Authenticator, Role};
use serde::Deserialize;

const ISS: &str = "https://id.example/realms/notes";
const AUD: &str = "notes-api";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
pub(crate) enum AppRole {
    Admin,
    Member,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct RealmAccess {
    roles: Vec<String>,
}

/// The claims the provider's rules read.
#[derive(Deserialize)]
#[allow(dead_code)]
pub(crate) struct Claims {
    iss: String,
    sub: String,
    exp: i64,
    #[serde(default)]
    nbf: Option<i64>,
    iat: i64,
    #[serde(default)]
    auth_time: Option<i64>,
    #[serde(default)]
    scope: Option<String>,
    realm_access: RealmAccess,
}

/// A fresh private key as DER from `openssl`: generated, then converted.
fn openssl_der(generate: &[&str], to_der: &[&str]) -> Vec<u8> {
    let pem = Command::new("openssl")
        .args(generate)
        .output()
        .expect("openssl");
    assert!(pem.status.success());
    let mut child = Command::new("openssl")
        .args(to_der)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("openssl");
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(&pem.stdout).unwrap();
    let der = child.wait_with_output().unwrap();
    assert!(der.status.success());
    der.stdout
}

pub(crate) struct Fixture {
    pub(crate) token: String,
    pub(crate) decoding: DecodingKey,
    pub(crate) validation: Validation,
    pub(crate) parts: Parts,
    pub(crate) auth: Authenticator,
}

pub(crate) fn fixture(alg: Algorithm) -> Fixture {
    let encoding = match alg {
        Algorithm::RS256 => EncodingKey::from_rsa_der(&openssl_der(
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
            ],
            &["rsa", "-traditional", "-outform", "DER"],
        )),
        _ => EncodingKey::from_ec_der(&openssl_der(
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
            ],
            &["pkcs8", "-topk8", "-nocrypt", "-outform", "DER"],
        )),
    };
    let mut jwk = Jwk::from_encoding_key(&encoding, alg).expect("jwk");
    jwk.common.key_id = Some("key-2026-12".to_owned());
    let decoding = DecodingKey::from_jwk(&jwk).expect("decoding key");
    let jwks = serde_json::to_vec(&serde_json::json!({ "keys": [jwk] })).unwrap();
    let provider = OidcProvider::builder(ISS, AUD)
        .roles_claim(["realm_access", "roles"])
        .role("notes-admin", AppRole::Admin)
        .role("notes-member", AppRole::Member)
        .with_keys(&jwks)
        .expect("provider");

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let claims = serde_json::json!({
        "exp": now + 300, "iat": now, "auth_time": now - 60, "jti": "0f3a9c1e-7b2d-4e58-a1c3",
        "iss": ISS, "aud": AUD, "sub": "7d0c3a52-91f4-4d0e-8a3b-2f6c1e9b7a44", "typ": "Bearer",
        "azp": "notes-web", "scope": "openid notes:read notes:write",
        "realm_access": { "roles": ["notes-admin", "notes-member", "offline_access"] },
    });
    let mut header = Header::new(alg);
    header.typ = Some("JWT".to_owned());
    header.kid = Some("key-2026-12".to_owned());
    let token = jsonwebtoken::encode(&header, &claims, &encoding).expect("token");

    let mut validation = Validation::new(alg);
    validation.leeway = 5;
    validation.validate_nbf = true;
    validation.set_issuer(&[ISS]);
    validation.set_audience(&[AUD]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);

    let (parts, ()) = Request::get("/notes")
        .header("authorization", format!("Bearer {token}"))
        .body(())
        .expect("request")
        .into_parts();
    Fixture {
        token,
        decoding,
        validation,
        parts,
        auth: Authenticator::from_provider(Arc::new(provider)),
    }
}
