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

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use criterion::{Criterion, criterion_group, criterion_main};
use http_body_util::BodyExt;
use secure_core::app::SecureApp;
use secure_core::auth::jwt::{AccessTokenKey, AccessTokens};
use secure_core::auth::{Amr, Authenticator, Identity, Principal, Role};
use secure_core::config::SecurityConfig;
use secure_core::policy::SecureRouter;
use secure_core::prelude::*;
use secure_core::ratelimit::RateLimiter;
use secure_core::{SecretBox, secure_handler};
use serde::{Deserialize, Serialize};
use tokio::runtime::Runtime;
use tower::ServiceExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum AppRole {
    Admin,
    Member,
}

#[derive(Debug, Deserialize, Validated)]
struct NewNote {
    #[validate(trim, length(min = 1, max = 80))]
    title: String,
    #[validate(length(max = 2000))]
    body: String,
    #[validate(range(min = 0, max = 5))]
    priority: u8,
}

#[derive(Serialize)]
struct Created<'a> {
    author: &'a str,
    title: &'a str,
    priority: u8,
}

/// The answer of every path: 201 and the same JSON.
fn created(author: &str, note: &NewNote) -> Response {
    (
        StatusCode::CREATED,
        Json(Created {
            author,
            title: &note.title,
            priority: note.priority,
        }),
    )
        .into_response()
}

#[secure_handler(auth, roles(Admin))]
async fn create(user: Principal<AppRole>, body: Valid<Json<NewNote>>) -> Response {
    created(user.subject(), &body)
}

/// What a careful hand-written axum handler does: the same extractors, its own role check.
async fn manual(user: Principal<AppRole>, body: Valid<Json<NewNote>>) -> Response {
    if !user.has_role(AppRole::Admin) {
        return StatusCode::FORBIDDEN.into_response();
    }
    created(user.subject(), &body)
}

#[secure_handler(public)]
async fn public_secure(body: Valid<Json<NewNote>>) -> Response {
    created("anonymous", &body)
}

async fn public_plain(body: Valid<Json<NewNote>>) -> Response {
    created("anonymous", &body)
}

const BODY: &str = r#"{"title":"  Quarterly report  ","body":"Numbers are up; see the attached sheet for the details.","priority":3}"#;

/// The four paths, in bench order.
const PATHS: [(&str, &str, &str); 4] = [
    ("auth", "secure", "/secure"),
    ("auth", "manual", "/manual"),
    ("public", "secure", "/public/secure"),
    ("public", "plain", "/public/plain"),
];

struct Fixture {
    router: SecureApp,
    admin: HeaderValue,
    member: HeaderValue,
    json: HeaderValue,
}

fn fixture() -> Fixture {
    let secret: [u8; 32] = rand::random();
    let tokens = AccessTokens::builder(
        AccessTokenKey::hs256(SecretBox::from(secret.to_vec())).expect("key"),
        "https://auth.example",
        "notes-api",
    )
    .build()
    .expect("config");
    let bearer = |roles: &[&str]| {
        let identity = Identity::new("user-1234567", 1_700_000_000)
            .with_roles(roles.iter().copied())
            .with_amr([Amr::Pwd]);
        let token = tokens.issue(&identity).expect("token");
        HeaderValue::from_str(&format!("Bearer {token}")).expect("header")
    };
    let (admin, member) = (bearer(&["admin", "member"]), bearer(&["member"]));
    // One app, one stack, for both kinds: the hand-written handlers are unprotected rows, so
    // only what the declared policy adds (or saves) differs between the pairs.
    let config = SecurityConfig::new()
        .authenticator(Authenticator::new(tokens))
        .rate_limiter(RateLimiter::new().without_default_limit());
    let router = SecureRouter::new()
        .route("/secure", secure_core::routing::post(create))
        .unprotected(
            Method::POST,
            "/manual",
            manual,
            "the hand-written baseline of the benchmark",
        )
        .route("/public/secure", secure_core::routing::post(public_secure))
        .unprotected(
            Method::POST,
            "/public/plain",
            public_plain,
            "the hand-written baseline of the benchmark",
        )
        .into_app(config)
        .expect("the app assembles");
    Fixture {
        router,
        admin,
        member,
        json: HeaderValue::from_static("application/json"),
    }
}

fn request(f: &Fixture, path: &str, bearer: &HeaderValue) -> Request<Body> {
    Request::post(path)
        .header(header::AUTHORIZATION, bearer.clone())
        .header(header::CONTENT_TYPE, f.json.clone())
        .body(Body::from(BODY))
        .expect("request")
}

/// One full request: routing, layers, extractors, handler, and reading the body.
async fn send(router: &SecureApp, request: Request<Body>) -> (StatusCode, Bytes) {
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, body)
}

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
