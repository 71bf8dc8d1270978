//! Instruction counts under Callgrind (gungraun) beside the criterion figures: the handler, the
//! validation and the rate-limit comparisons, each against its baseline. A count does not move
//! with the load of a shared machine, where single criterion runs move by a quarter.
//!
//! Run (from the workspace root; needs `valgrind` and the matching `gungraun-runner`, which the
//! script installs when missing):
//!
//! ```text
//! bash benches/instructions.sh
//! ```
//!
//! Each benchmark runs once, in a process of its own under Callgrind; only the benchmark
//! function is counted. Its setup builds the inputs and runs the measured call once first, so
//! what is built lazily on a first call (compiled patterns, tracing call sites, limiter
//! entries, the runtime's first poll) is not counted, as it is not in a running service.
//! Results are handed back out of the function, so dropping them is not counted either.
//! - `handler`: `REQUESTS` requests through the app of `handler.rs` (routing, the stack, the
//!   extractors, the handler, collecting the body), after as many to warm up: `secure`
//!   against `manual` (the hand-written twin on the same stack), `public_secure` against
//!   `public_plain` (per request: divide by `REQUESTS`).
//! - `validate`: one `validate()` of the `Signup` of `validate.rs`, valid and invalid, in
//!   secure, validator and garde.
//! - `resource`: `REQUESTS` reads of one note through the app of `resource.rs`:
//!   `authorized` (`Authorized<Note, Read>`) against `manual` (the hand-written query), after
//!   as many to warm up (per request: divide by `REQUESTS`). SQLite's worker thread is
//!   counted too.
//! - `ratelimit`: `KEYS` allow decisions, one per client address, through
//!   `RateLimiter::check` and through governor's `check_key` (per decision: divide by `KEYS`).
//! - `refresh`: `ROTATIONS` refresh-token rotations on SQLite (`refresh.rs`): `secure`
//!   (`RefreshTokens<SqlRefreshTokenStore>`) against `manual` (a hand-written sqlx rotation),
//!   after as many to warm up (per rotation: divide by `ROTATIONS`). SQLite's worker thread is
//!   counted too.
//! - `oidc`: one provider token (`oidc.rs`'s fixture, RS256 and ES256) through the
//!   `Authenticator` of an `OidcProvider` and `Principal::from_caller` (`provider`), against
//!   `jsonwebtoken::decode` with the same key (`decode`).

use std::hint::black_box;
use std::net::IpAddr;

use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode};
use governor::DefaultKeyedRateLimiter;
use gungraun::prelude::*;
use secure_core::ratelimit::{ClientKey, RateLimiter};
use tokio::runtime::Runtime;

#[path = "support/handler.rs"]
#[allow(
    dead_code,
    reason = "the member token and the path list serve handler.rs's checks"
)]
mod handler_support;
#[path = "support/measure.rs"]
mod measure;
#[path = "support/oidc.rs"]
mod oidc_support;
#[path = "support/oneshot.rs"]
mod oneshot;
#[path = "support/ratelimit.rs"]
mod ratelimit_support;
#[path = "support/refresh.rs"]
mod refresh_support;
#[path = "support/resource.rs"]
#[allow(
    dead_code,
    reason = "the other user's token and the note id serve resource.rs's checks"
)]
mod resource_support;
#[path = "support/validate.rs"]
mod validate_support;

use handler_support::{Fixture, fixture, request, send};
use validate_support::{
    Input, check_agreement, garde_def, invalid_input, secure_def, valid_input, validator_def,
};

/// Requests counted per handler benchmark: the count divided by this is one request's.
const REQUESTS: usize = 20;

type Served = (Fixture, Runtime, Vec<Request<Body>>);

/// The app, its runtime, warm-up requests on `path` (the allocator's caches and every lazily
/// built thing reach their steady state), and the `REQUESTS` requests to count.
fn served(path: &str) -> Served {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let f = fixture();
    for _ in 0..REQUESTS {
        let (status, _) = rt.block_on(send(&f.router, request(&f, path, &f.admin)));
        assert_eq!(status, StatusCode::CREATED, "{path}");
    }
    let next = (0..REQUESTS).map(|_| request(&f, path, &f.admin)).collect();
    (f, rt, next)
}

#[library_benchmark]
#[bench::secure(args = ("/secure"), setup = served)]
#[bench::manual(args = ("/manual"), setup = served)]
#[bench::public_secure(args = ("/public/secure"), setup = served)]
#[bench::public_plain(args = ("/public/plain"), setup = served)]
fn handler(served: Served) -> (Fixture, Runtime, Vec<(StatusCode, Bytes)>) {
    let (f, rt, next) = served;
    let mut replies = Vec::with_capacity(REQUESTS);
    for request in next {
        replies.push(rt.block_on(send(&f.router, request)));
    }
    black_box((f, rt, replies))
}

/// The input of `validate.rs`, after the check that the three definitions agree on it.
fn input(valid: bool) -> Input {
    check_agreement();
    if valid {
        valid_input()
    } else {
        invalid_input()
    }
}

fn secure_signup(valid: bool) -> secure_def::Signup {
    let input = input(valid);
    let signup = input.secure();
    assert_eq!(secure_core::Validate::validate(&signup).is_ok(), valid);
    signup
}

fn validator_signup(valid: bool) -> validator_def::Signup {
    let input = input(valid);
    let signup = input.validator();
    assert_eq!(validator::Validate::validate(&signup).is_ok(), valid);
    signup
}

fn garde_signup(valid: bool) -> garde_def::Signup {
    let input = input(valid);
    let signup = input.garde();
    assert_eq!(garde::Validate::validate(&signup).is_ok(), valid);
    signup
}

type ResourceServed = (resource_support::Fixture, Runtime, Vec<Request<Body>>);

/// The app of `resource.rs`, warm-up reads of the note on `path`, and the reads to count.
fn resource_served(path: &str) -> ResourceServed {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let f = rt.block_on(resource_support::fixture());
    for _ in 0..REQUESTS {
        let request = resource_support::request(path, &f.owner);
        let (status, _) = rt.block_on(resource_support::send(&f.app, request));
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    let next = (0..REQUESTS)
        .map(|_| resource_support::request(path, &f.owner))
        .collect();
    (f, rt, next)
}

#[library_benchmark]
#[bench::authorized(args = ("/notes/AAAAAAAAAAAAAAAAAAA100"), setup = resource_served)]
#[bench::manual(args = ("/manual/AAAAAAAAAAAAAAAAAAA100"), setup = resource_served)]
fn resource(
    served: ResourceServed,
) -> (resource_support::Fixture, Runtime, Vec<(StatusCode, Bytes)>) {
    let (f, rt, next) = served;
    let mut replies = Vec::with_capacity(REQUESTS);
    for request in next {
        replies.push(rt.block_on(resource_support::send(&f.app, request)));
    }
    black_box((f, rt, replies))
}

/// Rotations counted per refresh benchmark.
const ROTATIONS: usize = 20;

/// Which rotation a refresh benchmark counts.
#[derive(Clone, Copy)]
enum Rotation {
    Secure,
    Manual,
}

async fn rotate(f: &mut refresh_support::Fixture, which: Rotation) {
    match which {
        Rotation::Secure => refresh_support::secure_rotate(f).await,
        Rotation::Manual => refresh_support::hand_rotate(f).await,
    }
}

/// The database with both rotations warmed up by `ROTATIONS` each.
fn refresh_served(which: Rotation) -> (refresh_support::Fixture, Runtime, Rotation) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut f = rt.block_on(refresh_support::fixture());
    for _ in 0..ROTATIONS {
        rt.block_on(rotate(&mut f, which));
    }
    (f, rt, which)
}

#[library_benchmark]
#[bench::secure(args = (Rotation::Secure), setup = refresh_served)]
#[bench::manual(args = (Rotation::Manual), setup = refresh_served)]
fn refresh(
    served: (refresh_support::Fixture, Runtime, Rotation),
) -> (refresh_support::Fixture, Runtime) {
    let (mut f, rt, which) = served;
    for _ in 0..ROTATIONS {
        rt.block_on(rotate(&mut f, which));
    }
    black_box((f, rt))
}

#[library_benchmark]
#[bench::valid(args = (true), setup = secure_signup)]
#[bench::invalid(args = (false), setup = secure_signup)]
fn validate_secure(
    signup: secure_def::Signup,
) -> (
    secure_def::Signup,
    Result<(), secure_core::validate::ValidationErrors>,
) {
    let result = secure_core::Validate::validate(black_box(&signup));
    black_box((signup, result))
}

#[library_benchmark]
#[bench::valid(args = (true), setup = validator_signup)]
#[bench::invalid(args = (false), setup = validator_signup)]
fn validate_validator(
    signup: validator_def::Signup,
) -> (
    validator_def::Signup,
    Result<(), validator::ValidationErrors>,
) {
    let result = validator::Validate::validate(black_box(&signup));
    black_box((signup, result))
}

#[library_benchmark]
#[bench::valid(args = (true), setup = garde_signup)]
#[bench::invalid(args = (false), setup = garde_signup)]
fn validate_garde(signup: garde_def::Signup) -> (garde_def::Signup, Result<(), garde::Report>) {
    let result = garde::Validate::validate(black_box(&signup));
    black_box((signup, result))
}

/// Our limiter with every client address seen once (its entries exist, as in a running
/// service), and the keys.
fn secure_limiter() -> (RateLimiter, Vec<ClientKey>) {
    let limiter = RateLimiter::new();
    let keys: Vec<ClientKey> = ratelimit_support::addrs()
        .into_iter()
        .map(ClientKey::Ip)
        .collect();
    for key in &keys {
        let limit = ratelimit_support::LIMIT;
        assert!(limiter.check(ratelimit_support::ROUTE, limit, key).allowed);
    }
    (limiter, keys)
}

/// governor's keyed limiter with every client address seen once, and the addresses.
fn governor_limiter() -> (DefaultKeyedRateLimiter<IpAddr>, Vec<IpAddr>) {
    let limiter = governor::RateLimiter::keyed(ratelimit_support::quota());
    let ips = ratelimit_support::addrs();
    for ip in &ips {
        assert!(limiter.check_key(ip).is_ok());
    }
    (limiter, ips)
}

#[library_benchmark]
#[bench::secure_check(setup = secure_limiter)]
fn ratelimit_secure(state: (RateLimiter, Vec<ClientKey>)) -> (RateLimiter, Vec<ClientKey>) {
    let (limiter, keys) = state;
    for key in &keys {
        let decision = limiter.check(ratelimit_support::ROUTE, ratelimit_support::LIMIT, key);
        assert!(black_box(decision).allowed);
    }
    (limiter, keys)
}

#[library_benchmark]
#[bench::governor_check_key(setup = governor_limiter)]
fn ratelimit_governor(
    state: (DefaultKeyedRateLimiter<IpAddr>, Vec<IpAddr>),
) -> (DefaultKeyedRateLimiter<IpAddr>, Vec<IpAddr>) {
    let (limiter, ips) = state;
    for ip in &ips {
        assert!(black_box(limiter.check_key(black_box(ip))).is_ok());
    }
    (limiter, ips)
}

/// The fixture, with one extraction and one decode done (first-call work not counted).
fn oidc_served(alg: &str) -> oidc_support::Fixture {
    let alg = match alg {
        "rs256" => jsonwebtoken::Algorithm::RS256,
        _ => jsonwebtoken::Algorithm::ES256,
    };
    let f = oidc_support::fixture(alg);
    assert!(measure::extract::<oidc_support::AppRole>(&f.auth, &f.parts).is_ok());
    assert!(
        jsonwebtoken::decode::<oidc_support::Claims>(&f.token, &f.decoding, &f.validation).is_ok()
    );
    f
}

#[library_benchmark]
#[bench::rs256(args = ("rs256"), setup = oidc_served)]
#[bench::es256(args = ("es256"), setup = oidc_served)]
fn oidc_provider(f: oidc_support::Fixture) -> oidc_support::Fixture {
    assert!(
        black_box(measure::extract::<oidc_support::AppRole>(
            &f.auth,
            black_box(&f.parts),
        ))
        .is_ok()
    );
    f
}

#[library_benchmark]
#[bench::rs256(args = ("rs256"), setup = oidc_served)]
#[bench::es256(args = ("es256"), setup = oidc_served)]
fn oidc_decode(f: oidc_support::Fixture) -> oidc_support::Fixture {
    let claims = jsonwebtoken::decode::<oidc_support::Claims>(
        black_box(&f.token),
        &f.decoding,
        &f.validation,
    );
    assert!(black_box(claims).is_ok());
    f
}

library_benchmark_group!(name = handler_group, benchmarks = [handler]);
library_benchmark_group!(name = oidc_group, benchmarks = [oidc_provider, oidc_decode]);
library_benchmark_group!(
    name = validate_group,
    benchmarks = [validate_secure, validate_validator, validate_garde]
);
library_benchmark_group!(
    name = ratelimit_group,
    benchmarks = [ratelimit_secure, ratelimit_governor]
);
library_benchmark_group!(name = resource_group, benchmarks = [resource]);
library_benchmark_group!(name = refresh_group, benchmarks = [refresh]);

main!(
    library_benchmark_groups = handler_group,
    validate_group,
    ratelimit_group,
    resource_group,
    refresh_group,
    oidc_group
);
