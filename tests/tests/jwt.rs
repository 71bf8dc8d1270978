//! Access tokens against every "must reject" rule, the Wycheproof JWS corpus, the known-good
//! vectors, and round trips for HS256, EdDSA and ES256. Keys are generated here.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, EncodingKey};
use secure_core::SecretBox;
use secure_core::auth::jwt::{
    AccessTokenKey, AccessTokens, IssueError, TokenConfigError, TokenError,
};
use secure_core::auth::{Amr, Identity};
use serde_json::{Value, json};

const ISS: &str = "https://auth.example";
const AUD: &str = "notes-api";

// ---------------------------------------------------------------------------------------------
// keys and hand-made tokens

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).unwrap()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn random_secret() -> Vec<u8> {
    rand::random::<[u8; 32]>().to_vec()
}

/// PKCS#8 v1 DER of an Ed25519 seed (RFC 8410 §7: a fixed prefix, then the 32-byte seed).
fn ed25519_der(seed: [u8; 32]) -> Vec<u8> {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&seed);
    der
}

/// PKCS#8 DER of a P-256 scalar (RFC 5915 ECPrivateKey without the optional fields).
fn p256_der(d: [u8; 32]) -> Vec<u8> {
    let mut der = vec![
        0x30, 0x41, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
        0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x04, 0x27, 0x30, 0x25,
        0x02, 0x01, 0x01, 0x04, 0x20,
    ];
    der.extend_from_slice(&d);
    der
}

/// A fresh key of `alg`, its raw DER/secret (to forge tokens with) and its public bytes.
struct TestKey {
    alg: Algorithm,
    private: Vec<u8>,
}

impl TestKey {
    fn new(alg: Algorithm) -> Self {
        loop {
            let private = match alg {
                Algorithm::HS256 => random_secret(),
                Algorithm::EdDSA => ed25519_der(rand::random()),
                Algorithm::ES256 => p256_der(rand::random()),
                _ => unreachable!(),
            };
            let key = TestKey { alg, private };
            // A random P-256 scalar is >= n with probability 2^-32: draw again.
            if key.access_key().is_ok() {
                return key;
            }
        }
    }

    fn access_key(&self) -> Result<AccessTokenKey, TokenConfigError> {
        let secret = SecretBox::from(self.private.clone());
        match self.alg {
            Algorithm::HS256 => AccessTokenKey::hs256(secret),
            Algorithm::EdDSA => AccessTokenKey::ed25519_pkcs8_der(secret),
            Algorithm::ES256 => AccessTokenKey::es256_pkcs8_der(secret),
            _ => unreachable!(),
        }
    }

    fn encoding(&self) -> EncodingKey {
        match self.alg {
            Algorithm::HS256 => EncodingKey::from_secret(&self.private),
            Algorithm::EdDSA => EncodingKey::from_ed_der(&self.private),
            Algorithm::ES256 => EncodingKey::from_ec_der(&self.private),
            _ => unreachable!(),
        }
    }

    /// Raw Ed25519 public key, or SEC1 `04 || x || y` for P-256.
    fn public(&self) -> Vec<u8> {
        let jwk = Jwk::from_encoding_key(&self.encoding(), self.alg).unwrap();
        match jwk.algorithm {
            AlgorithmParameters::OctetKeyPair(p) => unb64(&p.x),
            AlgorithmParameters::EllipticCurve(p) => {
                let mut point = vec![4];
                point.extend(unb64(&p.x));
                point.extend(unb64(&p.y));
                point
            }
            _ => unreachable!(),
        }
    }

    fn tokens(&self) -> AccessTokens {
        AccessTokens::builder(self.access_key().unwrap(), ISS, AUD)
            .build()
            .unwrap()
    }
}

/// `base64url(header).base64url(payload).signature`, signed with `key` under `alg`.
fn forge_raw(header: &[u8], payload: &[u8], key: &EncodingKey, alg: Algorithm) -> String {
    let message = format!("{}.{}", b64(header), b64(payload));
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, alg).unwrap();
    format!("{message}.{signature}")
}

fn forge(header: &Value, claims: &Value, key: &TestKey) -> String {
    forge_raw(
        header.to_string().as_bytes(),
        claims.to_string().as_bytes(),
        &key.encoding(),
        key.alg,
    )
}

fn good_claims() -> Value {
    let now = now();
    json!({
        "iss": ISS, "sub": "user-1", "aud": AUD,
        "exp": now + 600, "nbf": now, "iat": now, "jti": "Zq2f0bqvS0Kk1y7aXo3x1w",
        "roles": ["admin"], "amr": ["pwd", "otp"], "auth_time": now - 30, "sid": "s-1",
    })
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().unwrap().remove(key);
    claims
}

fn hs_header() -> Value {
    json!({"alg": "HS256", "typ": "at+jwt"})
}

// ---------------------------------------------------------------------------------------------
// round trips

#[test]
fn round_trips_for_every_algorithm() {
    for alg in [Algorithm::HS256, Algorithm::EdDSA, Algorithm::ES256] {
        let key = TestKey::new(alg);
        let tokens = key.tokens();
        let identity = Identity::new("user-7", now() - 60)
            .with_roles(["admin", "member"])
            .with_amr([Amr::Pwd, Amr::Otp])
            .with_session("s-42");
        let token = tokens.issue(&identity).unwrap();

        let header: Value =
            serde_json::from_slice(&unb64(token.split('.').next().unwrap())).unwrap();
        assert_eq!(header["typ"], "at+jwt", "{alg:?}");
        assert_eq!(header["alg"], tokens_alg_name(alg));

        let claims = tokens.verify(&token).unwrap();
        assert_eq!(claims.iss, ISS);
        assert_eq!(claims.sub, "user-7");
        assert_eq!(claims.roles, ["admin", "member"]);
        assert_eq!(claims.amr, [Amr::Pwd, Amr::Otp]);
        assert_eq!(claims.sid.as_deref(), Some("s-42"));
        assert_eq!(claims.exp - claims.iat, 15 * 60);
        assert_eq!(claims.nbf, Some(claims.iat));
        assert_eq!(Identity::from(claims), identity);

        // Another key of the same algorithm: the signature fails.
        assert_eq!(
            TestKey::new(alg).tokens().verify(&token),
            Err(TokenError::Signature)
        );
        // A verifier of another algorithm: refused before any cryptography.
        for other in [Algorithm::HS256, Algorithm::EdDSA, Algorithm::ES256] {
            if other != alg {
                assert_eq!(
                    TestKey::new(other).tokens().verify(&token),
                    Err(TokenError::Algorithm)
                );
            }
        }
    }
}

fn tokens_alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::HS256 => "HS256",
        Algorithm::EdDSA => "EdDSA",
        Algorithm::ES256 => "ES256",
        _ => unreachable!(),
    }
}

#[test]
fn long_payloads_and_escaped_strings_verify() {
    let key = TestKey::new(Algorithm::HS256);
    let tokens = key.tokens();
    // A payload longer than the verifier's stack buffer (1 KiB decoded) is read all the same.
    let roles: Vec<String> = (0..200).map(|i| format!("role-{i}")).collect();
    let token = forge(
        &hs_header(),
        &with(good_claims(), "roles", json!(roles)),
        &key,
    );
    assert!(token.len() > 2000);
    assert_eq!(tokens.verify(&token).unwrap().roles, roles);
    // Strings with escapes cannot be borrowed from the payload: compared all the same.
    let escape = |s: &str| format!("\\u{:04x}{}", s.as_bytes()[0], &s[1..]);
    let payload = good_claims()
        .to_string()
        .replace(&format!("\"{ISS}\""), &format!("\"{}\"", escape(ISS)))
        .replace(&format!("\"{AUD}\""), &format!("[\"{}\"]", escape(AUD)))
        .replace("\"Zq2f", "\"\\u005aq2f");
    assert!(payload.matches("\\u00").count() == 3, "{payload}");
    let token = forge_raw(
        hs_header().to_string().as_bytes(),
        payload.as_bytes(),
        &key.encoding(),
        Algorithm::HS256,
    );
    let claims = tokens.verify(&token).unwrap();
    assert_eq!(
        (claims.iss.as_str(), claims.jti.as_str()),
        (ISS, "Zq2f0bqvS0Kk1y7aXo3x1w")
    );
    // An escaped issuer that differs is still refused.
    let other = payload.replace(&escape(ISS), &escape("https://evil.example"));
    let token = forge_raw(
        hs_header().to_string().as_bytes(),
        other.as_bytes(),
        &key.encoding(),
        Algorithm::HS256,
    );
    assert_eq!(tokens.verify(&token), Err(TokenError::Issuer));
}

#[test]
fn verify_only_keys_verify_but_cannot_issue() {
    let ed = TestKey::new(Algorithm::EdDSA);
    let es = TestKey::new(Algorithm::ES256);
    for (signer, public) in [
        (&ed, AccessTokenKey::ed25519_public(&ed.public()).unwrap()),
        (
            &es,
            AccessTokenKey::es256_public_sec1(&es.public()).unwrap(),
        ),
    ] {
        assert!(!public.can_sign());
        let verifier = AccessTokens::builder(public, ISS, AUD).build().unwrap();
        let token = signer.tokens().issue(&Identity::new("u", now())).unwrap();
        assert_eq!(verifier.verify(&token).unwrap().sub, "u");
        assert_eq!(
            verifier.issue(&Identity::new("u", now())),
            Err(IssueError::NoSigningKey)
        );
    }
}

#[test]
fn jti_is_random_and_128_bits() {
    let tokens = TestKey::new(Algorithm::HS256).tokens();
    let identity = Identity::new("u", now());
    let a = tokens
        .verify(&tokens.issue(&identity).unwrap())
        .unwrap()
        .jti;
    let b = tokens
        .verify(&tokens.issue(&identity).unwrap())
        .unwrap()
        .jti;
    assert_ne!(a, b);
    assert_eq!(unb64(&a).len(), 16);
}

#[test]
fn issue_refuses_empty_subject_and_roles() {
    let tokens = TestKey::new(Algorithm::HS256).tokens();
    assert_eq!(
        tokens.issue(&Identity::new("", 0)),
        Err(IssueError::Identity)
    );
    assert_eq!(
        tokens.issue(&Identity::new("u", 0).with_roles([""])),
        Err(IssueError::Identity)
    );
}

// ---------------------------------------------------------------------------------------------
// configuration

#[test]
fn configuration_errors_are_results() {
    assert_eq!(
        AccessTokenKey::hs256(SecretBox::from(vec![1u8; 31])).unwrap_err(),
        TokenConfigError::WeakKey
    );
    assert_eq!(
        AccessTokenKey::ed25519_pkcs8_der(SecretBox::from(vec![1u8; 48])).unwrap_err(),
        TokenConfigError::InvalidKey
    );
    assert_eq!(
        AccessTokenKey::es256_pkcs8_der(SecretBox::from(p256_der([0xff; 32]))).unwrap_err(),
        TokenConfigError::InvalidKey,
        "a scalar >= n is not a key"
    );
    assert_eq!(
        AccessTokenKey::ed25519_public(&[]).unwrap_err(),
        TokenConfigError::InvalidKey
    );
    assert_eq!(
        AccessTokenKey::es256_public_sec1(&[4, 1, 2]).unwrap_err(),
        TokenConfigError::InvalidKey
    );

    let key = || TestKey::new(Algorithm::HS256).access_key().unwrap();
    let leeway = |s| {
        AccessTokens::builder(key(), ISS, AUD)
            .leeway(Duration::from_secs(s))
            .build()
    };
    assert!(leeway(30).is_ok());
    assert_eq!(leeway(31).unwrap_err(), TokenConfigError::LeewayTooLarge);
    let lifetime = |s| {
        AccessTokens::builder(key(), ISS, AUD)
            .lifetime(Duration::from_secs(s))
            .build()
    };
    assert_eq!(
        lifetime(0).unwrap_err(),
        TokenConfigError::LifetimeOutOfRange
    );
    assert_eq!(
        lifetime(3601).unwrap_err(),
        TokenConfigError::LifetimeOutOfRange
    );
    assert_eq!(
        AccessTokens::builder(key(), "", AUD).build().unwrap_err(),
        TokenConfigError::EmptyName
    );
    assert_eq!(
        AccessTokens::builder(key(), ISS, AUD)
            .kid("")
            .build()
            .unwrap_err(),
        TokenConfigError::EmptyName
    );
}

#[test]
fn debug_never_shows_key_material() {
    let secret: Vec<u8> = (0x41..0x61).collect(); // "ABC...`": would be visible as text or bytes
    let key = AccessTokenKey::hs256(SecretBox::from(secret.clone())).unwrap();
    let tokens = AccessTokens::builder(key, ISS, AUD).build().unwrap();
    let debug = format!("{tokens:?} {tokens:#?}");
    assert!(debug.contains("[REDACTED]"), "{debug}");
    assert!(!debug.contains("ABCDEF"), "{debug}");
    assert!(!debug.contains(&format!("{secret:?}")[1..20]), "{debug}");
    assert!(!debug.contains("65, 66, 67"), "{debug}");
}

// ---------------------------------------------------------------------------------------------
// every "must reject" rule, on otherwise valid, correctly signed tokens

#[test]
fn control_a_hand_made_token_verifies() {
    let key = TestKey::new(Algorithm::HS256);
    let claims = key
        .tokens()
        .verify(&forge(&hs_header(), &good_claims(), &key))
        .unwrap();
    assert_eq!(claims.sub, "user-1");
}

#[test]
fn alg_none_in_any_casing() {
    let key = TestKey::new(Algorithm::HS256);
    let tokens = key.tokens();
    let payload = b64(good_claims().to_string());
    for alg in ["none", "None", "NONE", "nOnE", ""] {
        let header = b64(json!({"alg": alg}).to_string());
        for signature in ["", "AAAA"] {
            let token = format!("{header}.{payload}.{signature}");
            assert_eq!(tokens.verify(&token), Err(TokenError::Algorithm), "{alg}");
        }
    }
    // Also a header without alg, and alg of another HMAC size signed with the same key.
    let token = forge_raw(b"{}", payload.as_bytes(), &key.encoding(), Algorithm::HS256);
    assert_eq!(tokens.verify(&token), Err(TokenError::Header));
    for (name, alg) in [("HS384", Algorithm::HS384), ("HS512", Algorithm::HS512)] {
        let header = json!({"alg": name}).to_string();
        let token = forge_raw(
            header.as_bytes(),
            good_claims().to_string().as_bytes(),
            &key.encoding(),
            alg,
        );
        assert_eq!(tokens.verify(&token), Err(TokenError::Algorithm), "{name}");
    }
}

#[test]
fn public_key_as_hmac_secret_is_refused() {
    // The RS256 -> HS256 confusion, with the public keys of the asymmetric algorithms we
    // support: the attacker signs HS256 with the verifier's public key (raw, or as a JWK/SEC1
    // encoding) as the HMAC secret.
    for alg in [Algorithm::EdDSA, Algorithm::ES256] {
        let key = TestKey::new(alg);
        let tokens = key.tokens();
        let public = key.public();
        let jwk =
            serde_json::to_vec(&Jwk::from_encoding_key(&key.encoding(), alg).unwrap()).unwrap();
        for secret in [public.clone(), jwk, b64(&public).into_bytes()] {
            let token = forge_raw(
                br#"{"alg":"HS256"}"#,
                good_claims().to_string().as_bytes(),
                &EncodingKey::from_secret(&secret),
                Algorithm::HS256,
            );
            assert_eq!(tokens.verify(&token), Err(TokenError::Algorithm), "{alg:?}");
        }
    }
}

#[test]
fn sender_supplied_keys_and_key_urls_are_refused() {
    let key = TestKey::new(Algorithm::HS256);
    let tokens = key.tokens();
    let attacker = TestKey::new(Algorithm::HS256);
    let attacker_jwk = json!({"kty": "oct", "k": b64(&attacker.private)});
    // An embedded jwk with a token signed by the attacker's key...
    let token = forge(
        &json!({"alg": "HS256", "jwk": attacker_jwk}),
        &good_claims(),
        &attacker,
    );
    assert_eq!(tokens.verify(&token), Err(TokenError::Header));
    // ...and each parameter even on a token signed with the right key: refused by the header
    // check, not by luck of the signature.
    for (name, value) in [
        ("jwk", attacker_jwk),
        ("jku", json!("https://attacker.example/jwks.json")),
        ("x5u", json!("https://attacker.example/cert.pem")),
        ("x5c", json!(["MIIBszCCAVmgAwIBAgIUFAKE"])),
        ("x5t", json!("dGh1bWJwcmludA")),
        ("cty", json!("JWT")),
        ("b64", json!(false)),
        ("zip", json!("DEF")),
        ("enc", json!("A256GCM")),
        ("unknown", json!("untrustworthy")),
    ] {
        let mut header = hs_header();
        header[name] = value;
        assert_eq!(
            tokens.verify(&forge(&header, &good_claims(), &key)),
            Err(TokenError::Header),
            "{name}"
        );
    }
}

#[test]
fn kid_never_selects_a_key() {
    let key = TestKey::new(Algorithm::HS256);
    // Without a configured kid, any kid is ignored: the one key is used.
    let tokens = key.tokens();
    for kid in ["", "k1", "../../etc/passwd", "https://attacker.example/k"] {
        let header = json!({"alg": "HS256", "kid": kid});
        assert!(
            tokens.verify(&forge(&header, &good_claims(), &key)).is_ok(),
            "{kid}"
        );
    }
    // With a configured kid, a token naming another kid is refused; none or the same is fine.
    let tokens = AccessTokens::builder(key.access_key().unwrap(), ISS, AUD)
        .kid("2025-01")
        .build()
        .unwrap();
    assert_eq!(
        tokens.verify(&forge(
            &json!({"alg": "HS256", "kid": "2024-12"}),
            &good_claims(),
            &key
        )),
        Err(TokenError::Header)
    );
    assert!(
        tokens
            .verify(&forge(
                &json!({"alg": "HS256", "kid": "2025-01"}),
                &good_claims(),
                &key
            ))
            .is_ok()
    );
    assert!(
        tokens
            .verify(&forge(&json!({"alg": "HS256"}), &good_claims(), &key))
            .is_ok()
    );
    // Issued tokens carry the configured kid.
    let issued = tokens.issue(&Identity::new("u", now())).unwrap();
    let header: Value = serde_json::from_slice(&unb64(issued.split('.').next().unwrap())).unwrap();
    assert_eq!(header["kid"], "2025-01");
}

#[test]
fn crit_is_refused() {
    let key = TestKey::new(Algorithm::HS256);
    let tokens = key.tokens();
    for crit in [json!(["exp"]), json!([]), json!(["b64"]), json!("exp")] {
        let header = json!({"alg": "HS256", "crit": crit});
        assert_eq!(
            tokens.verify(&forge(&header, &good_claims(), &key)),
            Err(TokenError::Header)
        );
    }
}

#[test]
fn typ_must_be_jwt_or_at_jwt() {
    let key = TestKey::new(Algorithm::HS256);
    let tokens = key.tokens();
    for typ in ["JWT", "jwt", "at+jwt", "AT+JWT", "application/at+jwt"] {
        let header = json!({"alg": "HS256", "typ": typ});
        assert!(
            tokens.verify(&forge(&header, &good_claims(), &key)).is_ok(),
            "{typ}"
        );
    }
    for typ in [
        json!("JOSE"),
        json!("refresh+jwt"),
        json!("dpop+jwt"),
        json!("secevent+jwt"),
        json!(""),
        json!(1),
        json!(null),
    ] {
        let header = json!({"alg": "HS256", "typ": typ});
        assert_eq!(
            tokens.verify(&forge(&header, &good_claims(), &key)),
            Err(TokenError::Header),
            "{typ}"
        );
    }
}

#[test]
fn times_are_checked_with_bounded_leeway() {
    let key = TestKey::new(Algorithm::HS256);
    let tokens = key.tokens(); // default leeway 5 s
    let t = now();
    let check = |claims: Value| tokens.verify(&forge(&hs_header(), &claims, &key));
    let issued_earlier = || with(good_claims(), "iat", json!(t - 900));
    assert_eq!(
        check(with(issued_earlier(), "exp", json!(t - 60))),
        Err(TokenError::Expired)
    );
    assert!(
        check(with(issued_earlier(), "exp", json!(t - 2))).is_ok(),
        "within leeway"
    );
    // exp before iat is nonsense, whatever the clock says.
    assert_eq!(
        check(with(good_claims(), "exp", json!(t - 2))),
        Err(TokenError::Claims)
    );
    assert_eq!(
        check(with(good_claims(), "nbf", json!(t + 60))),
        Err(TokenError::NotYetValid)
    );
    assert!(
        check(with(good_claims(), "nbf", json!(t + 2))).is_ok(),
        "within leeway"
    );
    assert_eq!(
        check(with(good_claims(), "iat", json!(t + 60))),
        Err(TokenError::NotYetValid)
    );
    assert_eq!(
        check(with(good_claims(), "auth_time", json!(t + 60))),
        Err(TokenError::NotYetValid)
    );
    // A lifetime longer than this configuration issues (15 min + leeway).
    let long = with(
        with(good_claims(), "iat", json!(t)),
        "exp",
        json!(t + 2 * 3600),
    );
    assert_eq!(check(long), Err(TokenError::Claims));
    assert_eq!(
        check(with(good_claims(), "exp", json!(t - 3600))),
        Err(TokenError::Expired)
    );
}

#[test]
fn issuer_and_audience_must_match() {
    let key = TestKey::new(Algorithm::HS256);
    let tokens = key.tokens();
    let check = |claims: Value| tokens.verify(&forge(&hs_header(), &claims, &key));
    assert_eq!(
        check(with(good_claims(), "iss", json!("https://evil.example"))),
        Err(TokenError::Issuer)
    );
    assert_eq!(
        check(with(good_claims(), "aud", json!("billing-api"))),
        Err(TokenError::Audience)
    );
    assert_eq!(
        check(with(good_claims(), "aud", json!(["billing-api"]))),
        Err(TokenError::Audience)
    );
    assert!(check(with(good_claims(), "aud", json!(["billing-api", AUD]))).is_ok());
    assert_eq!(
        check(without(good_claims(), "aud")),
        Err(TokenError::Claims)
    );
    for (aud, want) in [
        (json!([]), TokenError::Audience),
        (json!(7), TokenError::Claims),
        (json!([AUD, 7]), TokenError::Claims),
        (json!(null), TokenError::Claims),
    ] {
        assert_eq!(
            check(with(good_claims(), "aud", aud.clone())),
            Err(want),
            "{aud}"
        );
    }
    assert_eq!(
        check(with(good_claims(), "iss", json!([ISS]))),
        Err(TokenError::Claims)
    );
    assert_eq!(
        check(with(good_claims(), "iss", json!("https://AUTH.example"))),
        Err(TokenError::Issuer)
    );
    assert_eq!(
        check(without(good_claims(), "iss")),
        Err(TokenError::Claims)
    );
}

#[test]
fn claims_must_be_an_object_of_the_right_types() {
    let key = TestKey::new(Algorithm::HS256);
    let tokens = key.tokens();
    let check = |claims: Value| tokens.verify(&forge(&hs_header(), &claims, &key));
    let t = now();
    for (what, claims) in [
        ("missing exp", without(good_claims(), "exp")),
        (
            "string exp",
            with(good_claims(), "exp", json!((t + 600).to_string())),
        ),
        (
            "float exp",
            with(good_claims(), "exp", json!(t as f64 + 600.5)),
        ),
        ("null exp", with(good_claims(), "exp", json!(null))),
        ("missing sub", without(good_claims(), "sub")),
        ("empty sub", with(good_claims(), "sub", json!(""))),
        ("numeric sub", with(good_claims(), "sub", json!(7))),
        ("missing jti", without(good_claims(), "jti")),
        ("missing iat", without(good_claims(), "iat")),
        ("missing auth_time", without(good_claims(), "auth_time")),
        (
            "roles not strings",
            with(good_claims(), "roles", json!([1])),
        ),
        (
            "roles a string",
            with(good_claims(), "roles", json!("admin")),
        ),
        ("unknown amr", with(good_claims(), "amr", json!(["sms"]))),
        ("string nbf", with(good_claims(), "nbf", json!("0"))),
        (
            "array",
            json!([
                ISS,
                "user-1",
                t + 600,
                t,
                t,
                "jti",
                ["admin"],
                ["pwd"],
                t,
                null
            ]),
        ),
        ("string", json!("claims")),
        ("number", json!(1)),
        ("null", json!(null)),
    ] {
        assert_eq!(check(claims), Err(TokenError::Claims), "{what}");
    }
    // Duplicate members and non-JSON payloads.
    let text = good_claims().to_string();
    let duplicate = text.replacen('{', &format!("{{\"exp\":{},", t - 3600), 1);
    for payload in [
        duplicate.as_str(),
        "foo",
        "",
        "{",
        "{\"sub\":\"u\"} trailing",
    ] {
        let token = forge_raw(
            br#"{"alg":"HS256"}"#,
            payload.as_bytes(),
            &key.encoding(),
            Algorithm::HS256,
        );
        assert_eq!(tokens.verify(&token), Err(TokenError::Claims), "{payload}");
    }
}

#[test]
fn structure_and_base64_are_strict() {
    let key = TestKey::new(Algorithm::HS256);
    let tokens = key.tokens();
    let good = forge(&hs_header(), &good_claims(), &key);
    let [h, p, s]: [&str; 3] = good.split('.').collect::<Vec<_>>().try_into().unwrap();
    let sign = |h: &str, p: &str| {
        let message = format!("{h}.{p}");
        let sig = jsonwebtoken::crypto::sign(message.as_bytes(), &key.encoding(), Algorithm::HS256)
            .unwrap();
        format!("{message}.{sig}")
    };
    let malformed = [
        String::new(),
        ".".into(),
        "..".into(),
        h.into(),
        format!("{h}.{p}"),
        format!("{h}.{p}.{s}."),
        format!("{h}.{p}.{s}.{s}"),
        format!("{h}.{p}.{s}.{s}.{s}"),
        format!("{h}=.{p}.{s}"),
        format!("{h}.{p}.{s}="),
        format!(" {good}"),
        format!("{good}\n"),
        format!("{h}.{p}.{s}+"),
        format!(
            "{h}.{p}.{}",
            s.replace(|c: char| c.is_ascii_alphabetic(), "/")
        ),
        format!("{}.{p}.{s}", "e".repeat(9000)),
        format!("é{good}"),
        // The payload is not base64url but the signature over the raw text is right.
        sign(h, &format!("{p}!")),
        sign(h, &format!("{p}==")),
    ];
    for token in &malformed {
        assert_eq!(
            tokens.verify(token),
            Err(TokenError::Malformed),
            "{token:?}"
        );
    }
    // A signature from another key, or altered.
    let mut tampered = good.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert!(matches!(
        tokens.verify(&tampered),
        Err(TokenError::Signature | TokenError::Malformed)
    ));
    assert_eq!(
        tokens.verify(&format!("{h}.{p}.")),
        Err(TokenError::Signature)
    );
}

#[test]
fn no_input_panics() {
    let key = TestKey::new(Algorithm::ES256);
    let tokens = key.tokens();
    let good = tokens.issue(&Identity::new("u", now())).unwrap();
    for cut in 0..good.len() {
        assert!(tokens.verify(&good[..cut]).is_err());
    }
    for (i, _) in good.char_indices() {
        for replacement in ['A', '.', '_', 'é', '\0'] {
            let mut mutated = good.clone();
            mutated.replace_range(i..i + 1, &replacement.to_string());
            if mutated != good {
                assert!(tokens.verify(&mutated).is_err(), "{mutated}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// corpora

/// The vendored vectors (`tests/vectors/jwt`; sources and licences in `tests/vectors/README.md`).
const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors/jwt/");

/// A vector file; a missing one fails the test, naming the path.
fn corpus(name: &str) -> Value {
    let path = format!("{CORPUS}{name}");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The verifier a Wycheproof test group's key gives, if the group applies to an algorithm we
/// support; else why not.
fn wycheproof_verifier(group: &Value) -> Result<AccessTokens, String> {
    let private = &group["private"];
    let public = &group["public"];
    let jwk = if public.is_object() { public } else { private };
    let alg = private["alg"]
        .as_str()
        .or(jwk["alg"].as_str())
        .unwrap_or("(none)");
    let usage = jwk["use"].as_str().unwrap_or("sig");
    let ops_ok = jwk["key_ops"]
        .as_array()
        .is_none_or(|ops| ops.iter().any(|o| o == "verify"));
    if usage != "sig" || !ops_ok {
        return Err(format!(
            "key for {usage}/{:?}, not a signature key",
            jwk["key_ops"]
        ));
    }
    let key = match (alg, jwk["kty"].as_str(), jwk["crv"].as_str()) {
        ("HS256", Some("oct"), _) => {
            AccessTokenKey::hs256(SecretBox::from(unb64(private["k"].as_str().unwrap())))
        }
        ("ES256", Some("EC"), Some("P-256")) => {
            let mut point = vec![4];
            point.extend(unb64(jwk["x"].as_str().unwrap()));
            point.extend(unb64(jwk["y"].as_str().unwrap()));
            AccessTokenKey::es256_public_sec1(&point)
        }
        ("EdDSA", Some("OKP"), Some("Ed25519")) => {
            AccessTokenKey::ed25519_public(&unb64(jwk["x"].as_str().unwrap()))
        }
        _ => return Err(format!("{alg} is not supported")),
    }
    .map_err(|e| format!("key refused: {e}"))?;
    let mut builder = AccessTokens::builder(key, ISS, AUD);
    if let Some(kid) = jwk["kid"].as_str() {
        builder = builder.kid(kid);
    }
    builder.build().map_err(|e| e.to_string())
}

/// Wycheproof cases whose text does not show the defect their label names: 367 and 370
/// ("invalidBase64Padding", "...InPayload") are the same well-formed, correctly MAC'd token,
/// and 372/373 ("InvalidCharacterInserted...", labelled valid) contain `?`. Wycheproof's own
/// Java harness excludes these four; we run them but do not count them.
const DEFECTIVE: [u64; 4] = [367, 370, 372, 373];

fn jws_text(test: &Value) -> String {
    match &test["jws"] {
        Value::String(s) => s.clone(),
        other => other.to_string(), // JSON serialization: must be refused as a compact token
    }
}

#[test]
fn wycheproof_json_web_signature() {
    let corpus = corpus("json_web_signature_test.json");
    let foreign = [
        TestKey::new(Algorithm::HS256).tokens(),
        TestKey::new(Algorithm::EdDSA).tokens(),
        TestKey::new(Algorithm::ES256).tokens(),
    ];
    let (mut applied, mut rejected, mut valid_seen, mut valid_to_claims) = (0, 0, 0, 0);
    let mut by_reason: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    let mut defective = Vec::new();
    let mut total = 0;
    for group in corpus["testGroups"].as_array().unwrap() {
        let tests = group["tests"].as_array().unwrap();
        total += tests.len();
        // Every token, valid or not, is refused by verifiers holding unrelated keys, and never
        // gets as far as its claims (so no signature ever verified).
        for test in tests {
            for verifier in &foreign {
                let result = verifier.verify(&jws_text(test));
                assert!(
                    matches!(&result, Err(e) if *e != TokenError::Claims),
                    "tc {} with an unrelated key: {result:?}",
                    test["tcId"]
                );
            }
        }
        let verifier = match wycheproof_verifier(group) {
            Ok(v) => v,
            Err(why) => {
                *skipped
                    .entry(format!("{} ({why})", group["comment"].as_str().unwrap()))
                    .or_default() += tests.len();
                continue;
            }
        };
        for test in tests {
            let jws = jws_text(test);
            let result = verifier.verify(&jws);
            if DEFECTIVE.contains(&test["tcId"].as_u64().unwrap()) {
                // Still never accepted: the payload is not a claims set.
                assert!(result.is_err());
                defective.push((test["tcId"].as_u64().unwrap(), result));
                continue;
            }
            if test["result"] == "invalid" {
                applied += 1;
                let error = result.expect_err(&format!("tc {} must be rejected", test["tcId"]));
                // Rejected before the claims stage: by shape, header or signature.
                assert_ne!(
                    error,
                    TokenError::Claims,
                    "tc {} ({})",
                    test["tcId"],
                    test["comment"]
                );
                rejected += 1;
                *by_reason.entry(error.reason()).or_default() += 1;
            } else {
                // Wycheproof payloads are not claims sets ("foo"): a valid signature is refused
                // at the claims stage, which proves it passed the header and signature checks.
                // Lenient-decoder cases ("valid" with a stray character) we refuse earlier.
                valid_seen += 1;
                assert!(result.is_err(), "tc {}", test["tcId"]);
                if result == Err(TokenError::Claims) {
                    valid_to_claims += 1;
                } else {
                    eprintln!(
                        "  valid tc {} ({}) refused early: {:?}",
                        test["tcId"], test["comment"], result
                    );
                }
            }
        }
    }
    eprintln!(
        "Wycheproof JWS: {total} cases; {applied} invalid cases applied to HS256/ES256/EdDSA verifiers, {rejected} rejected {by_reason:?}; {valid_to_claims}/{valid_seen} valid cases passed header+signature (refused at claims: payload is not a claims set)"
    );
    eprintln!("  not applicable: {skipped:?}");
    eprintln!("  known-defective vectors (not counted), with our result: {defective:?}");
    assert_eq!(applied, rejected);
    assert!(applied >= 60, "the HS256 and ES256 groups apply: {applied}");
}

#[test]
fn known_good_vectors() {
    let vectors = corpus("known_good_vectors.json");
    let mut used = 0;
    for v in vectors.as_array().unwrap() {
        let id = v["id"].as_str().unwrap();
        let token = v["token"].as_str().unwrap();
        let secret = if let Some(k) = v["jwk"]["k"].as_str() {
            unb64(k)
        } else if let Some(s) = v["secret_utf8"].as_str() {
            s.as_bytes().to_vec()
        } else {
            let hex = v["secret_hex"].as_str().unwrap();
            (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect()
        };
        used += 1;
        match AccessTokenKey::hs256(SecretBox::from(secret)) {
            // Short secrets ("secret", "your-256-bit-secret", 010203) are refused outright.
            Err(e) => assert_eq!(e, TokenConfigError::WeakKey, "{id}"),
            Ok(key) => {
                let tokens = AccessTokens::builder(key, "joe", AUD).build().unwrap();
                let result = tokens.verify(token);
                if v["signature_valid"] == true {
                    // RFC 7515 A.1: the header has CRLF and spaces; the signature verifies over
                    // the raw segments, then the claims are refused (no aud/sub/jti, expired).
                    assert_eq!(result, Err(TokenError::Claims), "{id}");
                } else {
                    assert!(
                        matches!(result, Err(TokenError::Signature | TokenError::Malformed)),
                        "{id}"
                    );
                }
            }
        }
        // Whatever the key, a 32-byte random one refuses every vector.
        assert!(
            TestKey::new(Algorithm::HS256)
                .tokens()
                .verify(token)
                .is_err(),
            "{id}"
        );
    }
    eprintln!("known-good vectors: {used} used");
}

#[test]
fn previous_keys_verify_by_kid_and_never_sign() {
    let hs = |b: u8| AccessTokenKey::hs256(SecretBox::from(vec![b; 32])).unwrap();
    let tokens = |current: u8, kid: &str, previous: &[(u8, &str)]| {
        let mut b = AccessTokens::builder(hs(current), "https://i.test", "api").kid(kid);
        for (key, kid) in previous {
            b = b.previous_key(hs(*key), *kid);
        }
        b.build().unwrap()
    };
    let who = Identity::new("user-1", 1_700_000_000);
    let one = tokens(1, "k1", &[]);
    let old = one.issue(&who).unwrap();
    let rotated = tokens(2, "k2", &[(1, "k1")]);
    assert!(rotated.verify(&old).is_ok());
    // Issued with the current key, named by its kid.
    let new = rotated.issue(&who).unwrap();
    assert!(one.verify(&new).is_err());
    assert!(tokens(2, "k2", &[]).verify(&new).is_ok());
    // A token naming a kid that no key has, or naming the other key's kid, is refused.
    let header = |json: &str| URL_SAFE_NO_PAD.encode(json);
    let rest = old.split_once('.').unwrap().1;
    let unknown = format!(
        "{}.{rest}",
        header(r#"{"alg":"HS256","typ":"at+jwt","kid":"k9"}"#)
    );
    assert_eq!(rotated.verify(&unknown).unwrap_err(), TokenError::Header);
    let swapped = format!(
        "{}.{rest}",
        header(r#"{"alg":"HS256","typ":"at+jwt","kid":"k2"}"#)
    );
    assert_eq!(rotated.verify(&swapped).unwrap_err(), TokenError::Signature);
    // Without a kid (tokens from before kids were written), each key is tried.
    let plain = AccessTokens::builder(hs(1), "https://i.test", "api")
        .build()
        .unwrap();
    assert!(rotated.verify(&plain.issue(&who).unwrap()).is_ok());
    // A previous key of another algorithm, or two keys with one kid, are refused.
    let ed = AccessTokenKey::ed25519_pkcs8_der(SecretBox::from(ed25519_der([7; 32]))).unwrap();
    let mixed = AccessTokens::builder(hs(1), "https://i.test", "api")
        .previous_key(ed, "ed")
        .build();
    assert_eq!(mixed.unwrap_err(), TokenConfigError::MixedAlgorithms);
    let twice = AccessTokens::builder(hs(1), "https://i.test", "api")
        .kid("k")
        .previous_key(hs(2), "k")
        .build();
    assert_eq!(twice.unwrap_err(), TokenConfigError::DuplicateKid);
}
