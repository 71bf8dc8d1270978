//! Issue 23: one refresh-token rotation through `RefreshTokens<SqlRefreshTokenStore>` (the
//! presented token claimed as used and its family's state returned by one statement, a new
//! token inserted, in one transaction: what detects reuse) against a hand-written sqlx rotation on the same SQLite
//! database (one indexed read and one write in a transaction, with the same token hashing
//! and generation). Target: at most 1.2x.
//!
//! ```text
//! python3 benches/rounds.py refresh
//! cargo bench -p secure-benches --bench refresh
//! bash benches/instructions.sh       # the same two as instruction counts
//! ```

use std::cell::RefCell;

use criterion::{Criterion, criterion_group, criterion_main};

#[path = "support/refresh.rs"]
mod refresh_support;

use refresh_support::{fixture, hand_rotate, secure_rotate};

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let f = RefCell::new(rt.block_on(fixture()));
    let mut group = c.benchmark_group("refresh");
    group.bench_function("secure", |b| {
        b.iter(|| rt.block_on(secure_rotate(&mut f.borrow_mut())))
    });
    group.bench_function("manual", |b| {
        b.iter(|| rt.block_on(hand_rotate(&mut f.borrow_mut())))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
