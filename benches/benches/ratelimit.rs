//! One rate-limit decision through `secure_core::ratelimit::RateLimiter::check` against
//! governor used directly (the same keyed GCRA limiter on a `DashMap`, `check_key`), in the
//! same criterion run. Target: at most 1.2x.
//!
//! Run and report (from the workspace root):
//!
//! ```text
//! python3 benches/rounds.py ratelimit      # the figure: 7 alternating rounds, median ratio
//! cargo bench -p secure-benches --bench ratelimit && python3 benches/report.py --ratelimit
//! ```
//!
//! The figure is for the workspace's release profile (fat LTO, one codegen unit): without it,
//! governor's `check_key` with the state snapshot is not inlined and costs about 1.35x its
//! bare `check_key` by itself (see the README).
//!
//! Before criterion runs, the binary prints `interleaved median` lines (the four timed in
//! alternation) as a check against load from other processes.
//!
//! What each bench does, over the same 1024 client addresses in turn, with a quota no request
//! reaches (a burst of one million per second), so every decision is an allow:
//! - `governor_check_key`: `DefaultKeyedRateLimiter<IpAddr>::check_key` (no state returned).
//! - `secure_check`: `RateLimiter::check(route, limit, &ClientKey::Ip(..))`: the route's
//!   limiter looked up, the check with governor's state snapshot (for `RateLimit`'s `r` and
//!   `t`), the `Decision`, the eviction counter.
//! - `secure_from_parts` (for information, not the target): what the generated handler does,
//!   from a request's `Parts`: client address from `ConnectInfo`, the key, the check, and
//!   formatting the two header values.

use std::cell::Cell;
use std::hint::black_box;
use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::Request;
use criterion::{Criterion, criterion_group, criterion_main};
use governor::DefaultKeyedRateLimiter;
use secure_core::ratelimit::{ClientKey, RateLimiter};

#[path = "support/ratelimit.rs"]
mod support;

use support::{KEYS, LIMIT, ROUTE, addrs, quota};

#[path = "support/measure.rs"]
mod measure;

use measure::interleaved;

fn bench(c: &mut Criterion) {
    let ips = addrs();
    let keys: Vec<ClientKey> = ips.iter().map(|ip| ClientKey::Ip(*ip)).collect();
    let parts: Vec<_> = ips
        .iter()
        .map(|ip| {
            let mut request = Request::new(());
            request
                .extensions_mut()
                .insert(ConnectInfo(SocketAddr::new(*ip, 40_000)));
            request.into_parts().0
        })
        .collect();

    let direct: DefaultKeyedRateLimiter<IpAddr> = governor::RateLimiter::keyed(quota());
    let with_state = governor::RateLimiter::keyed(quota())
        .with_middleware::<governor::middleware::StateInformationMiddleware>();
    let ours = RateLimiter::new();
    let next = Cell::new(0usize);
    let turn = || {
        let i = next.get();
        next.set((i + 1) % KEYS);
        i
    };

    let governor_check_key = || {
        assert!(black_box(direct.check_key(black_box(&ips[turn()]))).is_ok());
    };
    let governor_check_key_state = || {
        let state = black_box(with_state.check_key(black_box(&ips[turn()]))).expect("allowed");
        black_box(state.remaining_burst_capacity());
    };
    let secure_check = || {
        assert!(black_box(ours.check(ROUTE, LIMIT, black_box(&keys[turn()]))).allowed);
    };
    let secure_from_parts = || {
        let parts = black_box(&parts[turn()]);
        let key = ours.key_for(parts, LIMIT.key, None);
        let decision = ours.check(ROUTE, LIMIT, &key);
        assert!(decision.allowed);
        drop(black_box(decision.headers()));
    };

    interleaved(
        "",
        300,
        2000,
        &[
            ("governor_check_key", &governor_check_key),
            ("governor_check_key_state", &governor_check_key_state),
            ("secure_check", &secure_check),
            ("secure_from_parts", &secure_from_parts),
        ],
    );

    let mut group = c.benchmark_group("ratelimit");
    group.bench_function("governor_check_key", |b| b.iter(governor_check_key));
    group.bench_function("governor_check_key_state", |b| {
        b.iter(governor_check_key_state)
    });
    group.bench_function("secure_check", |b| b.iter(secure_check));
    group.bench_function("secure_from_parts", |b| b.iter(secure_from_parts));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
