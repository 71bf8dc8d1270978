//! Provider tokens (RS256 and ES256): `Principal<R>` extraction through an `OidcProvider` with
//! its keys known, against a bare `jsonwebtoken::decode` with the same key, in one run.
//!
//! Run and report (from the workspace root):
//!
//! ```text
//! cargo bench -p secure-benches --bench oidc
//! python3 - <<'PY'
//! import json, pathlib
//! root = pathlib.Path("target/criterion")
//! for alg in ["rs256", "es256"]:
//!     m = {b: json.load(open(root / f"oidc_{alg}" / b / "new/estimates.json"))["median"]["point_estimate"]
//!          for b in ["jsonwebtoken_decode", "principal_extract"]}
//!     print(alg, {b: f"{ns:.0f} ns" for b, ns in m.items()},
//!           f"{m['principal_extract'] / m['jsonwebtoken_decode']:.3f}x")
//! PY
//! ```
//!
//! Before criterion, the binary prints `interleaved median` lines (the two timed in
//! alternation), the check that the figures are not an artefact of load.
//!
//! The token is shaped as Keycloak's (`realm_access.roles`, `scope`, `azp`, `typ: JWT`), its
//! key generated here with `openssl` (RSA 2048, P-256). `jsonwebtoken_decode`: `decode` into
//! a struct of the claims the rules read, `Validation` pinned to the algorithm with `iss`,
//! `aud`, required `exp`, `nbf` checked, 5 s leeway. `principal_extract`: what the stack does
//! on prepared `Parts`: `Authenticator::authenticate` with the provider only (bearer lookup,
//! `iss` routing, header check, key choice by `kid` and `alg`, signature, claims, the role
//! mapping), then `Principal::<AppRole>::from_caller`.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::process::Command;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use axum::http::{Request, request::Parts};
use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secure_core::auth::oidc::OidcProvider;
use secure_core::auth::{AuthError, Authenticator, Caller, Principal, Role};
use serde::Deserialize;

const ISS: &str = "https://id.example/realms/notes";
const AUD: &str = "notes-api";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum AppRole {
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
struct Claims {
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

/// What the stack does for a `Principal`: the authenticator verifies the request's credential
/// (the pipeline), then the extractor builds the principal from the `Caller` (the handler).
fn extract(auth: &Authenticator, parts: &Parts) -> Result<Principal<AppRole>, AuthError> {
    let (identity, carrier) = ready(auth.authenticate(parts))?;
    Principal::from_caller(&Caller { identity, carrier })
}

fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
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

struct Fixture {
    token: String,
    decoding: DecodingKey,
    validation: Validation,
    parts: Parts,
    auth: Authenticator,
}

fn fixture(alg: Algorithm) -> Fixture {
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

fn interleaved(name: &str, funcs: &[(&str, &dyn Fn())]) {
    const ROUNDS: usize = 60;
    const CALLS: u32 = 50;
    let mut samples = vec![Vec::with_capacity(ROUNDS); funcs.len()];
    for _ in 0..ROUNDS {
        for (i, (_, f)) in funcs.iter().enumerate() {
            let start = std::time::Instant::now();
            for _ in 0..CALLS {
                f();
            }
            samples[i].push(start.elapsed().as_nanos() as f64 / f64::from(CALLS));
        }
    }
    let mut base = None;
    for ((label, _), s) in funcs.iter().zip(&mut samples) {
        s.sort_by(f64::total_cmp);
        let median = s[s.len() / 2];
        let base = *base.get_or_insert(median);
        eprintln!(
            "interleaved median {name} {label:>20}: {median:8.0} ns  {:.3}x",
            median / base
        );
    }
}

fn bench(c: &mut Criterion) {
    for (name, alg) in [("rs256", Algorithm::RS256), ("es256", Algorithm::ES256)] {
        let f = fixture(alg);
        assert!(
            jsonwebtoken::decode::<Claims>(&f.token, &f.decoding, &f.validation).is_ok(),
            "baseline accepts"
        );
        let principal = extract(&f.auth, &f.parts).expect("principal");
        assert_eq!(principal.roles(), [AppRole::Admin, AppRole::Member]);

        let probe = std::cell::RefCell::new(f.parts.clone());
        interleaved(
            name,
            &[
                ("jsonwebtoken_decode", &|| {
                    black_box(
                        jsonwebtoken::decode::<Claims>(
                            black_box(&f.token),
                            &f.decoding,
                            &f.validation,
                        )
                        .is_ok(),
                    );
                }),
                ("principal_extract", &|| {
                    let parts = probe.borrow();
                    black_box(extract(&f.auth, black_box(&*parts)).is_ok());
                }),
            ],
        );

        let mut group = c.benchmark_group(format!("oidc_{name}"));
        group.bench_function("jsonwebtoken_decode", |b| {
            b.iter(|| {
                jsonwebtoken::decode::<Claims>(black_box(&f.token), &f.decoding, &f.validation)
                    .map(|t| t.claims)
            })
        });
        group.bench_function("principal_extract", |b| {
            b.iter(|| extract(&f.auth, black_box(&f.parts)))
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
