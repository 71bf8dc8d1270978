//! Issue 15: a request through `Authorized<Note, Read>` (the path id's format, the scoped
//! load) against a hand-written handler running `SELECT .. WHERE id = $1 AND owner_id = $2`
//! on the same SQLite database, both `#[secure_handler(auth)]` routes of one app. Target:
//! at most 1.05x.
//!
//! ```text
//! python3 benches/rounds.py resource
//! cargo bench -p secure-benches --bench resource
//! ```
//!
//! Before criterion runs, the binary checks that both answer the owner 200 with the same
//! body and another user 404 with the same body.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tokio::runtime::Runtime;

#[path = "support/oneshot.rs"]
mod oneshot;
#[path = "support/resource.rs"]
mod support;

use support::{Fixture, NOTE, PATHS, fixture, request, send};

fn check(f: &Fixture, rt: &Runtime) {
    let reply = |path: &str, bearer| rt.block_on(send(&f.app, request(path, bearer)));
    let (a, m) = (reply(PATHS[0].1, &f.owner), reply(PATHS[1].1, &f.owner));
    assert_eq!(a.0.as_u16(), 200);
    assert_eq!(a, m, "both paths answer the owner alike");
    assert!(std::str::from_utf8(&a.1).expect("utf-8").contains(NOTE));
    let (a, m) = (reply(PATHS[0].1, &f.other), reply(PATHS[1].1, &f.other));
    assert_eq!(a.0.as_u16(), 404);
    assert_eq!(a, m, "both paths answer another user alike");
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let f = rt.block_on(fixture());
    check(&f, &rt);
    let mut group = c.benchmark_group("resource");
    for (name, path) in PATHS {
        group.bench_function(name, |b| {
            b.iter(|| black_box(rt.block_on(send(&f.app, request(path, &f.owner)))));
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
