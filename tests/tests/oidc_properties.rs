//! Properties of the OpenID provider's parsers, on any input (no provider needed): a JWKS of
//! any bytes or any shape is taken or refused, never a panic; a token of any bytes is
//! refused; a token whose signature is right but whose header and claims are anything is
//! refused or read into an identity that keeps the rules (the issuer's subject, only mapped
//! roles), never a panic.

mod ed25519;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use proptest::prelude::*;
use secure_core::auth::Role;
use secure_core::auth::oidc::OidcProvider;
use serde_json::{Map, Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum AppRole {
    Admin,
}

const ISS: &str = "https://id.example/realms/notes";

/// An Ed25519 key generated for this run, and a provider that knows only it.
fn signer() -> (EncodingKey, OidcProvider) {
    let key = ed25519::key();
    let mut jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(&key, Algorithm::EdDSA).unwrap();
    jwk.common.key_id = Some("ed-1".to_owned());
    let jwks = serde_json::to_vec(&json!({ "keys": [jwk] })).unwrap();
    let provider = OidcProvider::builder(ISS, "notes-api")
        .roles_claim(["realm_access", "roles"])
        .role("notes-admin", AppRole::Admin)
        .mfa_acr("2")
        .with_keys(&jwks)
        .unwrap();
    (key, provider)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(".{0,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Names the parsers look for, so generated objects hit them often.
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "iss", "aud", "sub", "exp", "nbf", "iat", "scope", "scp", "amr", "acr", "auth_time",
            "realm_access", "roles", "alg", "kid", "typ", "crit", "jwk", "jku", "x5u", "x5t",
            "kty", "use", "n", "e", "crv", "x", "y", "keys", "key_ops",
        ])
        .prop_map(str::to_owned),
        1 => ".{0,8}",
    ]
}

/// An object of known and unknown fields, each holding anything (or, for some, a value of
/// the expected type).
fn any_object() -> impl Strategy<Value = Map<String, Value>> {
    object_of(0..10)
}

/// A few fields of [`any_object`]: edits of a right token.
fn edits() -> impl Strategy<Value = Map<String, Value>> {
    object_of(0..3)
}

fn object_of(len: std::ops::Range<usize>) -> impl Strategy<Value = Map<String, Value>> {
    let value = prop_oneof![
        2 => any_json(),
        1 => prop::sample::select(vec![
            json!(ISS), json!("notes-api"), json!(["notes-api"]), json!("u-1"),
            json!(i64::MAX), json!(-1), json!(0), json!(4_102_444_800i64), json!("EdDSA"),
            json!("ed-1"), json!("none"), json!("HS256"), json!({"roles": ["notes-admin"]}),
            json!(["mfa"]), json!("2"), json!("openid notes:read"),
        ]),
    ];
    prop::collection::btree_map(field(), value, len).prop_map(|m| m.into_iter().collect())
}

/// Claims the provider accepts.
fn right_claims() -> Map<String, Value> {
    json!({"iss": ISS, "aud": "notes-api", "sub": "u-1", "exp": 4_102_444_800i64,
        "realm_access": {"roles": ["notes-admin"]}})
    .as_object()
    .unwrap()
    .clone()
}

/// `header` and `claims` as a token, signed with `key` whatever the header says.
fn signed(key: &EncodingKey, header: &Value, claims: &[u8]) -> String {
    let head = URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).unwrap());
    let message = format!("{head}.{}", URL_SAFE_NO_PAD.encode(claims));
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, Algorithm::EdDSA).unwrap();
    format!("{message}.{signature}")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_jwks_of_any_bytes_is_taken_or_refused(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = OidcProvider::builder(ISS, "notes-api").with_keys(&bytes);
    }

    #[test]
    fn a_jwks_of_any_shape_is_taken_or_refused(keys in prop::collection::vec(any_object(), 0..4)) {
        let jwks = serde_json::to_vec(&json!({ "keys": keys })).unwrap();
        let _ = OidcProvider::builder(ISS, "notes-api").with_keys(&jwks);
    }

    #[test]
    fn a_token_of_any_bytes_is_refused(token in "[A-Za-z0-9_.=+/-]{0,300}|.{0,64}") {
        let (_, provider) = signer();
        let verdict = runtime().block_on(provider.verify(&token));
        prop_assert!(matches!(verdict, Err(Some(_))), "{verdict:?}");
    }

    #[test]
    fn a_signed_token_with_any_header_and_claims_keeps_the_rules(
        header_edits in edits(),
        claim_edits in edits(),
        raw in prop::option::weighted(0.1, prop::collection::vec(any::<u8>(), 0..64)),
    ) {
        // A right token, then any fields added or replaced: many are still accepted, so
        // the rules for what the claims may hold are exercised, not only the refusals.
        let mut header = json!({"alg": "EdDSA", "kid": "ed-1"}).as_object().unwrap().clone();
        header.extend(header_edits);
        let mut claims = right_claims();
        claims.extend(claim_edits);
        let (key, provider) = signer();
        let body = raw.unwrap_or_else(|| serde_json::to_vec(&claims).unwrap());
        let token = signed(&key, &Value::Object(header.clone()), &body);
        let verdict = runtime().block_on(provider.verify(&token));
        match verdict {
            Err(Some(_)) => {}
            Err(None) => prop_assert!(false, "the keys are configured"),
            Ok(identity) => {
                // Accepted only as the key allows, for this issuer and audience, unexpired.
                prop_assert_eq!(header.get("alg"), Some(&json!("EdDSA")));
                prop_assert_eq!(claims.get("iss"), Some(&json!(ISS)));
                let own = format!("{ISS}#");
                prop_assert!(identity.subject.starts_with(&own), "{}", identity.subject);
                prop_assert!(identity.roles.iter().all(|r| r == "admin"), "{:?}", identity.roles);
                for name in ["jwk", "jku", "x5u", "crit"] {
                    prop_assert!(!header.contains_key(name), "{name} in an accepted header");
                }
            }
        }
    }
}

/// A token with every claim right is accepted: the property above reaches its `Ok` arm.
#[test]
fn the_signed_token_property_can_accept() {
    let (key, provider) = signer();
    let token = signed(
        &key,
        &json!({"alg": "EdDSA", "kid": "ed-1"}),
        &serde_json::to_vec(&right_claims()).unwrap(),
    );
    let identity = runtime().block_on(provider.verify(&token)).unwrap();
    assert_eq!(identity.subject, format!("{ISS}#u-1"));
    assert_eq!(identity.roles, ["admin"]);
}
