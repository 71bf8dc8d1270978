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

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::Algorithm;

#[path = "support/measure.rs"]
mod measure;
#[path = "support/oidc.rs"]
mod oidc_support;

use measure::{extract, interleaved};
use oidc_support::{AppRole, Claims, fixture};

fn bench(c: &mut Criterion) {
    for (name, alg) in [("rs256", Algorithm::RS256), ("es256", Algorithm::ES256)] {
        let f = fixture(alg);
        assert!(
            jsonwebtoken::decode::<Claims>(&f.token, &f.decoding, &f.validation).is_ok(),
            "baseline accepts"
        );
        let principal = extract::<AppRole>(&f.auth, &f.parts).expect("principal");
        assert_eq!(principal.roles(), [AppRole::Admin, AppRole::Member]);

        let probe = std::cell::RefCell::new(f.parts.clone());
        interleaved(
            &format!("{name} "),
            60,
            50,
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
                    black_box(extract::<AppRole>(&f.auth, black_box(&*parts)).is_ok());
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
            b.iter(|| extract::<AppRole>(&f.auth, black_box(&f.parts)))
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
