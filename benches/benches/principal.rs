//! Bearer-token authentication: `Principal<R>` extraction and `AccessTokens::verify` against a
//! bare `jsonwebtoken::decode` with an equivalent `Validation`, in the same criterion run.
//!
//! Run and report (from the workspace root):
//!
//! ```text
//! cargo bench -p secure-benches --bench principal
//! python3 - <<'PY'
//! import json, pathlib
//! root = pathlib.Path("target/criterion/principal")
//! m = {b: json.load(open(root / b / "new/estimates.json"))["median"]["point_estimate"]
//!      for b in ["jsonwebtoken_decode", "access_tokens_verify", "principal_extract"]}
//! for b, ns in m.items():
//!     print(f"| {b} | {ns:.0f} ns | {ns / m['jsonwebtoken_decode']:.3f}x |")
//! PY
//! ```
//!
//! Before criterion runs, the binary also prints `interleaved median` lines: the three timed in
//! alternation (300 rounds of 2000 calls), so load from other processes on a shared machine
//! hits all three alike. Criterion's medians are the reported figures; the interleaved ratios
//! are the check that they are not an artefact of load.
//!
//! What each bench does, on the same HS256 token (issued by `AccessTokens`, 4 claims of text,
//! two roles, two `amr`, a `sid`):
//! - `jsonwebtoken_decode`: `jsonwebtoken::decode::<Claims>` with `Validation` pinned to HS256,
//!   `iss`, `aud`, required `exp`/`iss`/`aud`/`sub`, `nbf` checked, 5 s leeway, into a struct
//!   with the same fields and types as `AccessClaims`. The baseline: what a careful hand-written
//!   axum extractor would do.
//! - `access_tokens_verify`: the same plus the strict header pre-check (allowlist, typ, kid,
//!   canonical base64url, JSON object), the character/segment shape check, and the `iat`,
//!   `auth_time` and lifetime checks.
//! - `principal_extract`: what the stack does on prepared `Parts` (`Authorization: Bearer
//!   ...`): `Authenticator::authenticate` (header lookup, verify), then
//!   `Principal::<AppRole>::from_caller` (role parsing into the enum, building the principal).

use std::hint::black_box;

use axum::http::{Request, request::Parts};
use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secure_core::SecretBox;
use secure_core::auth::jwt::{AccessTokenKey, AccessTokens};
use secure_core::auth::{Amr, Authenticator, Identity, Role};
use serde::Deserialize;

#[path = "support/measure.rs"]
mod measure;

use measure::{extract, interleaved};

const ISS: &str = "https://auth.example";
const AUD: &str = "notes-api";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum AppRole {
    Admin,
    Member,
}

/// The same members and types as `AccessClaims`.
#[derive(Deserialize)]
#[allow(dead_code)]
struct Claims {
    iss: String,
    sub: String,
    exp: i64,
    #[serde(default)]
    nbf: Option<i64>,
    iat: i64,
    jti: String,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    amr: Vec<Amr>,
    auth_time: i64,
    #[serde(default)]
    sid: Option<String>,
}

/// Runs a future that never waits (the bearer path has no I/O) to completion.
fn bench(c: &mut Criterion) {
    let secret: [u8; 32] = rand::random();
    let tokens = AccessTokens::builder(
        AccessTokenKey::hs256(SecretBox::from(secret.to_vec())).expect("key"),
        ISS,
        AUD,
    )
    .build()
    .expect("config");
    let identity = Identity::new("user-1234567", 1_700_000_000)
        .with_roles(["admin", "member"])
        .with_amr([Amr::Pwd, Amr::Otp])
        .with_session("s-0f3a9c");
    let token = tokens.issue(&identity).expect("token");

    let key = DecodingKey::from_secret(&secret);
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 5;
    validation.validate_nbf = true;
    validation.set_issuer(&[ISS]);
    validation.set_audience(&[AUD]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);

    let (mut parts, ()) = Request::get("/notes")
        .header("authorization", format!("Bearer {token}"))
        .body(())
        .expect("request")
        .into_parts();
    let tokens_for_verify = AccessTokens::builder(
        AccessTokenKey::hs256(SecretBox::from(secret.to_vec())).expect("key"),
        ISS,
        AUD,
    )
    .build()
    .expect("config");
    let auth = Authenticator::new(tokens);
    let parts: &mut Parts = &mut parts;

    // Sanity: all three accept the token.
    assert!(jsonwebtoken::decode::<Claims>(&token, &key, &validation).is_ok());
    assert!(tokens_for_verify.verify(&token).is_ok());
    let principal = extract::<AppRole>(&auth, parts).expect("principal");
    assert!(principal.has_role(AppRole::Admin) && principal.mfa());

    let probe = std::cell::RefCell::new(parts.clone());
    interleaved(
        "",
        300,
        2000,
        &[
            ("jsonwebtoken_decode", &|| {
                black_box(
                    jsonwebtoken::decode::<Claims>(black_box(&token), &key, &validation).is_ok(),
                );
            }),
            ("access_tokens_verify", &|| {
                black_box(tokens_for_verify.verify(black_box(&token)).is_ok());
            }),
            ("principal_extract", &|| {
                let parts = probe.borrow();
                black_box(extract::<AppRole>(&auth, black_box(&*parts)).is_ok());
            }),
        ],
    );

    let mut group = c.benchmark_group("principal");
    group.bench_function("jsonwebtoken_decode", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<Claims>(black_box(&token), &key, &validation).map(|t| t.claims)
        })
    });
    group.bench_function("access_tokens_verify", |b| {
        b.iter(|| tokens_for_verify.verify(black_box(&token)))
    });
    group.bench_function("principal_extract", |b| {
        b.iter(|| extract::<AppRole>(&auth, black_box(&*parts)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
