//! A request through `#[secure_handler(auth, roles(Admin))]` with `Valid<Json<T>>` against a
//! hand-written axum handler doing the same checks with the same crates, in the same run.
//! Target: secure/manual at most 1.05x (ratio of criterion medians).
//!
//! Run and report (from the workspace root):
//!
//! ```text
//! cargo bench -p secure-benches --bench handler && python3 benches/report.py --handler
//! ```
//!
//! Both handlers are routes of ONE `axum::Router` with the same layers (the `Authenticator`
//! extension and the `RateLimiter` extension), routed with axum's own `axum::routing::post`,
//! so both pay the same routing and middleware:
//! - `auth/secure`: `POST /secure`, `#[secure_handler(auth, roles(Admin))] async fn
//!   create(user: Principal<AppRole>, body: Valid<Json<NewNote>>)`.
//! - `auth/manual`: `POST /manual`, a plain `async fn` taking the same extractors, checking
//!   `user.has_role(AppRole::Admin)` itself (403 otherwise), answering the same body.
//! - `public/secure` and `public/plain`: `POST /public/secure` (`#[secure_handler(public)]`) and
//!   `POST /public/plain` (plain `async fn`), both taking `Valid<Json<NewNote>>` and answering
//!   the same body: the wrapper's own cost without authentication.
//!
//! Each iteration builds the request (same headers and JSON body for every path; a
//! `Request<Body>` cannot be cloned), runs `router.clone().oneshot(request)` and collects the
//! response body, in a tokio current-thread runtime (`rt.block_on` inside `b.iter`: the
//! workspace's criterion has no `async_tokio` feature). The token is HS256 with a key
//! generated at start-up.
//!
//! Before criterion runs, the binary checks that both paths of each pair answer 200 with the
//! same body (and 403 for a member token on the auth pair), then prints `interleaved median`
//! lines: every path timed in alternation (rounds of requests), so load from other processes on
//! a shared machine hits them alike. Criterion's medians are the reported figures; the
//! interleaved ratios are the check that they are not an artefact of load.

use std::hint::black_box;
use std::time::Instant;

use axum::http::{HeaderValue, StatusCode};
use criterion::{Criterion, criterion_group, criterion_main};
use tokio::runtime::Runtime;

#[path = "support/oneshot.rs"]
mod oneshot;
#[path = "support/handler.rs"]
mod support;

use support::{Fixture, PATHS, fixture, request, send};

/// Both paths of every pair answer 200-class with the same body; a member gets 403 from both.
fn check(f: &Fixture, rt: &Runtime) {
    let reply =
        |path: &str, bearer: &HeaderValue| rt.block_on(send(&f.router, request(f, path, bearer)));
    let secure = reply("/secure", &f.admin);
    assert_eq!(secure.0, StatusCode::CREATED, "{:?}", secure.1);
    assert_eq!(
        &secure.1[..],
        br#"{"author":"user-1234567","title":"Quarterly report","priority":3}"#
    );
    assert_eq!(reply("/manual", &f.admin), secure);
    let public = reply("/public/secure", &f.admin);
    assert_eq!(public.0, StatusCode::CREATED, "{:?}", public.1);
    assert_eq!(reply("/public/plain", &f.admin), public);
    assert_eq!(reply("/secure", &f.member).0, StatusCode::FORBIDDEN);
    assert_eq!(reply("/manual", &f.member).0, StatusCode::FORBIDDEN);
}

/// Medians of the paths timed in alternation (rounds of `CALLS` requests each), printed with
/// the ratio of each path to the other of its pair.
fn interleaved(f: &Fixture, rt: &Runtime) {
    const ROUNDS: usize = 200;
    const CALLS: u32 = 200;
    let mut samples = vec![Vec::with_capacity(ROUNDS); PATHS.len()];
    for round in 0..ROUNDS {
        // Alternate which path of each pair goes first.
        for k in 0..PATHS.len() {
            let i = if round % 2 == 0 { k } else { k ^ 1 };
            let path = PATHS[i].2;
            let start = Instant::now();
            for _ in 0..CALLS {
                black_box(rt.block_on(send(&f.router, request(f, path, &f.admin))));
            }
            samples[i].push(start.elapsed().as_nanos() as f64 / f64::from(CALLS));
        }
    }
    let medians: Vec<f64> = samples
        .iter_mut()
        .map(|s| {
            s.sort_by(f64::total_cmp);
            s[s.len() / 2]
        })
        .collect();
    for pair in [0, 2] {
        let (a, b) = (PATHS[pair], PATHS[pair + 1]);
        eprintln!(
            "interleaved median {}: {} {:.0} ns, {} {:.0} ns, {}/{} = {:.3}x",
            a.0,
            a.1,
            medians[pair],
            b.1,
            medians[pair + 1],
            a.1,
            b.1,
            medians[pair] / medians[pair + 1]
        );
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let f = fixture();
    check(&f, &rt);
    interleaved(&f, &rt);

    for (group, name, path) in PATHS {
        c.benchmark_group(format!("handler_{group}"))
            .bench_function(name, |b| {
                b.iter(|| rt.block_on(send(&f.router, request(&f, path, &f.admin))))
            });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
