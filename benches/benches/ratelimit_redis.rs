//! One rate-limit decision in Redis (`RedisStore`, feature `redis`), and the round trips it
//! takes. Needs a server: skipped, with a notice, without `SECURE_TEST_REDIS_URL`.
//!
//! ```text
//! . .ci/redis.sh   # or any redis-server you can flush scripts on
//! cargo bench -p secure-benches --bench ratelimit_redis
//! ```
//!
//! Before criterion runs, the binary prints the client commands per decision over 1000
//! decisions (from `INFO stats commandstats`, less the commands the script runs inside Redis;
//! other clients of the server would add to it).
//!
//! - `redis_decide`: `RedisStore::decide` (key hashing, EVALSHA, the reply) over 1024 client
//!   addresses in turn, with a quota no request reaches, so every decision writes.
//! - `limiter_decide_redis`: the same through `RateLimiter::decide` (what the generated
//!   handler awaits), with the `Verdict`.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{Criterion, criterion_group, criterion_main};
use secure_core::ratelimit::{ClientKey, RateLimiter, RedisStore, Scope, Verdict};
use secure_core::ratelimit::{RateKey, RateLimit};

const KEYS: u32 = 1024;
const LIMIT: RateLimit = RateLimit {
    rate: secure_core::ratelimit::Rate {
        count: 1_000_000,
        period_secs: 1,
    },
    key: RateKey::Ip,
};
const ROUTE: &str = "secure_benches::ratelimit_redis::login";

fn keys() -> Vec<ClientKey> {
    (0..KEYS)
        .map(|i| ClientKey::Ip(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i))))
        .collect()
}

/// Commands clients sent, and commands scripts ran inside Redis (no round trip), so far.
async fn counters(con: &mut redis::aio::MultiplexedConnection) -> (u64, u64) {
    let info: String = redis::cmd("INFO")
        .arg("stats")
        .arg("commandstats")
        .query_async(con)
        .await
        .expect("INFO");
    let field = |prefix: &str, key: &str| -> u64 {
        info.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .and_then(|rest| {
                rest.split(',')
                    .find_map(|kv| kv.strip_prefix(key))
                    .and_then(|v| v.trim().parse().ok())
            })
            .unwrap_or(0)
    };
    let in_script = ["time", "get", "set"]
        .iter()
        .map(|c| field(&format!("cmdstat_{c}:"), "calls="))
        .sum();
    (field("total_commands_processed:", ""), in_script)
}

fn bench(c: &mut Criterion) {
    let Ok(url) = std::env::var("SECURE_TEST_REDIS_URL") else {
        eprintln!(
            "NOTICE: SECURE_TEST_REDIS_URL is not set; Redis rate-limit bench skipped \
             (.ci/redis.sh starts a throwaway server)"
        );
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let prefix = format!("secure:bench:{:016x}:", rand::random::<u64>());
    let store = rt.block_on(async {
        RedisStore::connect(&url)
            .await
            .expect("connect")
            .prefix(prefix.clone())
    });
    let limiter = rt.block_on(async {
        RateLimiter::new().redis(
            RedisStore::connect(&url)
                .await
                .expect("connect")
                .prefix(prefix.clone()),
        )
    });
    let keys = keys();

    // Round trips per decision, the script loaded by the first decision.
    rt.block_on(async {
        let mut admin = redis::Client::open(url.as_str())
            .expect("url")
            .get_multiplexed_async_connection()
            .await
            .expect("connect");
        store
            .decide(Scope::Route(ROUTE), &keys[0], LIMIT)
            .await
            .expect("decide");
        let before = counters(&mut admin).await;
        for key in keys.iter().cycle().take(1000) {
            store
                .decide(Scope::Route(ROUTE), key, LIMIT)
                .await
                .expect("decide");
        }
        let after = counters(&mut admin).await;
        // Less the first INFO itself.
        let sent = (after.0 - before.0) - (after.1 - before.1) - 1;
        println!(
            "round trips per decision: {:.3} ({sent} commands for 1000 decisions)",
            sent as f64 / 1000.0
        );
    });

    let mut group = c.benchmark_group("ratelimit_redis");
    let mut turn = 0usize;
    group.bench_function("redis_decide", |b| {
        b.iter(|| {
            turn = (turn + 1) % keys.len();
            let d = rt
                .block_on(store.decide(Scope::Route(ROUTE), black_box(&keys[turn]), LIMIT))
                .expect("decide");
            assert!(black_box(d).allowed);
        })
    });
    group.bench_function("limiter_decide_redis", |b| {
        b.iter(|| {
            turn = (turn + 1) % keys.len();
            let v = rt.block_on(limiter.decide(ROUTE, LIMIT, black_box(&keys[turn])));
            assert!(matches!(black_box(v), Verdict::Decided(d) if d.allowed));
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
