//! Rate limits shared through Redis (`RedisStore`): two independent routers, each with its
//! own connection, enforce one limit together; one round trip per decision; keys expire;
//! an unreachable Redis fails closed (503) unless `fail_open`.
//!
//! The suites that need a server skip, with a notice, when `SECURE_TEST_REDIS_URL` is unset
//! (`.ci/redis.sh` starts a throwaway one). They take one lock: the round-trip test reads the
//! server's global command counters, which other tests of this file would move.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use secure_core::config::SecurityConfig;
use secure_core::policy::SecureRouter;
use secure_core::ratelimit::{
    ClientKey, RATELIMIT, RATELIMIT_POLICY, RateLimiter, RedisStore, Scope,
};
use secure_core::routing::get;
use secure_core::secure_handler;
use tower::ServiceExt;

static SERVER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[secure_handler(public, rate_limit("5/min", key = ip))]
async fn login() -> &'static str {
    "token"
}

#[secure_handler(public)]
async fn health() -> &'static str {
    "ok"
}

fn redis_url(test: &str) -> Option<String> {
    let url = std::env::var("SECURE_TEST_REDIS_URL").ok();
    if url.is_none() {
        secure_tests::skipped(test, "Redis: SECURE_TEST_REDIS_URL (`. .ci/redis.sh`)");
    }
    url
}

/// A prefix of its own per test, so tests never share keys.
fn unique_prefix() -> String {
    format!("secure:test:{:016x}:", rand::random::<u64>())
}

async fn store(url: &str, prefix: &str) -> RedisStore {
    RedisStore::connect(url).await.unwrap().prefix(prefix)
}

fn router(limiter: RateLimiter) -> secure_core::policy::SecureApp {
    SecureRouter::new()
        .route("/login", get(login))
        .route("/health", get(health))
        .into_app(SecurityConfig::new().rate_limiter(limiter))
        .expect("the app assembles")
}

fn req(path: &str, peer: &str) -> Request<Body> {
    let mut request = Request::get(path).body(Body::empty()).unwrap();
    let ip: IpAddr = peer.parse().unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::new(ip, 40_000)));
    request
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn send(router: &secure_core::policy::SecureApp, request: Request<Body>) -> Reply {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

fn values(reply: &Reply, name: &axum::http::HeaderName) -> Vec<String> {
    reply
        .headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

async fn admin(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// Command counters of the server, read with one `INFO` command.
#[derive(Debug, Clone, Copy)]
struct Counters {
    total: u64,
    evalsha: u64,
    script_load: u64,
    /// Commands scripts ran inside Redis (`TIME`, `GET`, `SET`): in the total, but no round
    /// trip.
    in_script: u64,
}

impl Counters {
    /// Commands clients sent between `self` and `later` (less the first `INFO` itself).
    fn sent_until(self, later: Counters) -> u64 {
        (later.total - self.total) - (later.in_script - self.in_script) - 1
    }
}

async fn counters(con: &mut redis::aio::MultiplexedConnection) -> Counters {
    let info: String = redis::cmd("INFO")
        .arg("stats")
        .arg("commandstats")
        .query_async(con)
        .await
        .unwrap();
    let field = |prefix: &str, key: &str| -> u64 {
        info.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .and_then(|rest| {
                rest.split(',')
                    .find_map(|kv| kv.strip_prefix(key))
                    .map(|v| v.trim().parse().unwrap())
            })
            .unwrap_or(0)
    };
    Counters {
        total: field("total_commands_processed:", ""),
        evalsha: field("cmdstat_evalsha:", "calls="),
        script_load: field("cmdstat_script|load:", "calls="),
        in_script: ["time", "get", "set"]
            .iter()
            .map(|c| field(&format!("cmdstat_{c}:"), "calls="))
            .sum(),
    }
}

async fn keys(con: &mut redis::aio::MultiplexedConnection, prefix: &str) -> Vec<String> {
    let mut keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(con)
        .await
        .unwrap();
    keys.sort();
    keys
}

/// The default limit's item after request `i` (0-based) of one client: 300/min refills one
/// every 200 ms, so a slow machine may have refilled some since the first request.
fn assert_default_item(item: &str, i: u32) {
    let rest = item.strip_prefix("\"default\";r=").unwrap();
    let (r, t) = rest.split_once(";t=").unwrap();
    let (r, t): (u32, u64) = (r.parse().unwrap(), t.parse().unwrap());
    assert!((299 - i..=299).contains(&r), "{item} after request {i}");
    // Until every spent request is refilled.
    assert_eq!(t, (u64::from(300 - r) * 200).div_ceil(1000), "{item}");
}

#[tokio::test]
async fn two_routers_sharing_redis_let_through_exactly_the_limit_together() {
    let Some(url) = redis_url("two_routers_sharing_redis") else {
        return;
    };
    let _one = SERVER.lock().await;
    let prefix = unique_prefix();
    let a = router(RateLimiter::new().redis(store(&url, &prefix).await));
    let b = router(RateLimiter::new().redis(store(&url, &prefix).await));

    let mut statuses = Vec::new();
    for i in 0..10u32 {
        let app = if i % 2 == 0 { &a } else { &b };
        let reply = send(app, req("/login", "203.0.113.5")).await;
        statuses.push(reply.status);
        if i < 5 {
            assert_eq!(reply.body, "token");
            // Each allowed request spends one of the 5, refilled one every 12 s.
            assert_eq!(
                values(&reply, &RATELIMIT_POLICY),
                ["\"route\";q=5;w=60", "\"default\";q=300;w=60"]
            );
            let state = values(&reply, &RATELIMIT);
            assert_eq!(
                state[0],
                format!("\"route\";r={};t={}", 4 - i, 12 * (i + 1)),
                "request {i}"
            );
            assert_default_item(&state[1], i);
        } else {
            assert_eq!(reply.headers[header::RETRY_AFTER], "12", "request {i}");
            let state = values(&reply, &RATELIMIT);
            assert_eq!(state.len(), 2);
            assert_eq!(state[0], "\"route\";r=0;t=12");
            // The default limit counted this request too.
            assert_default_item(&state[1], i);
            assert_eq!(
                reply.headers[header::CONTENT_TYPE],
                "application/problem+json"
            );
        }
    }
    let ok = StatusCode::OK;
    let refused = StatusCode::TOO_MANY_REQUESTS;
    assert_eq!(
        statuses,
        [
            ok, ok, ok, ok, ok, refused, refused, refused, refused, refused
        ]
    );

    // Another client keeps its own budget on either instance.
    assert_eq!(send(&b, req("/login", "203.0.113.6")).await.status, ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_on_two_instances_never_exceed_the_limit() {
    let Some(url) = redis_url("concurrent_requests_on_two_instances") else {
        return;
    };
    let _one = SERVER.lock().await;
    let prefix = unique_prefix();
    let a = router(RateLimiter::new().redis(store(&url, &prefix).await));
    let b = router(RateLimiter::new().redis(store(&url, &prefix).await));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..40 {
        let app = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.spawn(async move { send(&app, req("/login", "198.51.100.1")).await.status });
    }
    let mut ok = 0;
    while let Some(status) = tasks.join_next().await {
        match status.unwrap() {
            StatusCode::OK => ok += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(ok, 5);
}

#[tokio::test]
async fn the_default_per_ip_limit_is_shared_too() {
    let Some(url) = redis_url("the_default_per_ip_limit_is_shared_too") else {
        return;
    };
    let _one = SERVER.lock().await;
    let prefix = unique_prefix();
    let limiter = || RateLimiter::new().default_limit(3, Duration::from_secs(60));
    let a = router(limiter().redis(store(&url, &prefix).await));
    let b = router(limiter().redis(store(&url, &prefix).await));
    let mut statuses = Vec::new();
    for i in 0..6 {
        let app = if i % 2 == 0 { &a } else { &b };
        let reply = send(app, req("/health", "2001:db8:7:700::1")).await;
        if i < 3 {
            assert_eq!(
                values(&reply, &RATELIMIT),
                [format!("\"default\";r={};t={}", 2 - i, 20 * (i + 1))]
            );
        } else {
            assert_eq!(reply.headers[header::RETRY_AFTER], "20");
            assert_eq!(values(&reply, &RATELIMIT), ["\"default\";r=0;t=20"]);
        }
        statuses.push(reply.status.as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429, 429]);
    // The same /56 is the same client, on either instance.
    let reply = send(&a, req("/health", "2001:db8:7:7ff::9")).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn one_round_trip_per_decision_once_the_script_is_loaded() {
    let Some(url) = redis_url("one_round_trip_per_decision") else {
        return;
    };
    let _one = SERVER.lock().await;
    let prefix = unique_prefix();
    let mut con = admin(&url).await;
    let a = router(RateLimiter::new().redis(store(&url, &prefix).await));
    let b = router(RateLimiter::new().redis(store(&url, &prefix).await));

    // A server that does not know the script yet: the first decision loads it.
    let () = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut con)
        .await
        .unwrap();
    let before = counters(&mut con).await;
    assert_eq!(
        send(&a, req("/health", "192.0.2.1")).await.status,
        StatusCode::OK
    );
    let after = counters(&mut con).await;
    // EVALSHA (NOSCRIPT), SCRIPT LOAD, EVALSHA.
    assert_eq!(before.sent_until(after), 3, "first decision");
    assert_eq!(after.evalsha - before.evalsha, 2);
    assert_eq!(after.script_load - before.script_load, 1);
    println!(
        "round trips: first decision after SCRIPT FLUSH = {}",
        before.sent_until(after)
    );

    // Loaded: /health is one decision (the default limit), /login two (default and route).
    let before = counters(&mut con).await;
    for i in 0..10 {
        let app = if i % 2 == 0 { &a } else { &b };
        assert_eq!(
            send(app, req("/health", "192.0.2.2")).await.status,
            StatusCode::OK
        );
    }
    let after = counters(&mut con).await;
    assert_eq!(before.sent_until(after), 10, "ten decisions");
    assert_eq!(after.evalsha - before.evalsha, 10);
    assert_eq!(after.script_load - before.script_load, 0);

    let before = counters(&mut con).await;
    let mut refused = 0;
    for i in 0..8 {
        let app = if i % 2 == 0 { &a } else { &b };
        if send(app, req("/login", "192.0.2.3")).await.status == StatusCode::TOO_MANY_REQUESTS {
            refused += 1;
        }
    }
    let after = counters(&mut con).await;
    // 8 default decisions and 8 route decisions (refusals are decisions too).
    assert_eq!(refused, 3);
    assert_eq!(before.sent_until(after), 16, "sixteen decisions");
    assert_eq!(after.evalsha - before.evalsha, 16);
    println!(
        "round trips per decision (script loaded): {}",
        before.sent_until(after) as f64 / 16.0
    );
}

#[tokio::test]
async fn keys_are_hashed_and_expire_by_themselves() {
    let Some(url) = redis_url("keys_are_hashed_and_expire_by_themselves") else {
        return;
    };
    let _one = SERVER.lock().await;
    let prefix = unique_prefix();
    let mut con = admin(&url).await;
    let app = router(RateLimiter::new().redis(store(&url, &prefix).await));
    assert_eq!(
        send(&app, req("/login", "203.0.113.77")).await.status,
        StatusCode::OK
    );

    let found = keys(&mut con, &prefix).await;
    assert_eq!(found.len(), 2, "{found:?}");
    let mut ttls = Vec::new();
    for key in &found {
        // prefix + 128 bits of SHA-256 in base64url: no address in the key.
        assert_eq!(key.len(), prefix.len() + 22, "{key}");
        assert!(!key.contains("203.0.113.77"));
        let ttl: i64 = redis::cmd("PTTL")
            .arg(key)
            .query_async(&mut con)
            .await
            .unwrap();
        ttls.push(ttl);
    }
    ttls.sort();
    // Until the budget is full again: 300/min refills one in 200 ms, 5/min one in 12 s.
    assert!((1..=200).contains(&ttls[0]), "{ttls:?}");
    assert!((11_000..=12_000).contains(&ttls[1]), "{ttls:?}");

    // The default limit's key has vanished once its budget is full again.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(keys(&mut con, &prefix).await.len(), 1);
}

#[tokio::test]
async fn store_keys_are_bounded_and_never_hold_the_subject() {
    // connect_lazy does not connect: no server needed to compute keys.
    let store = RedisStore::connect_lazy("redis://127.0.0.1:1/").unwrap();
    let long = "mallory@example.com".repeat(1000);
    let user = store.key(
        Scope::Route("app::export"),
        &ClientKey::User(long.as_str().into()),
    );
    assert!(user.starts_with("secure:rl:"));
    assert_eq!(user.len(), "secure:rl:".len() + 22);
    assert!(!user.contains("mallory"));
    // Scopes and key kinds do not collide.
    let keys = [
        user.clone(),
        store.key(Scope::Default, &ClientKey::User(long.as_str().into())),
        store.key(
            Scope::Route("app::other"),
            &ClientKey::User(long.as_str().into()),
        ),
        store.key(Scope::Route("app::export"), &ClientKey::Global),
        store.key(
            Scope::Route("app::export"),
            &ClientKey::Ip("192.0.2.1".parse().unwrap()),
        ),
        store.key(
            Scope::Route("app::export"),
            &ClientKey::Ip("192.0.2.2".parse().unwrap()),
        ),
    ];
    let distinct: std::collections::HashSet<_> = keys.iter().collect();
    assert_eq!(distinct.len(), keys.len());
    // The same input, the same key (every instance must agree).
    assert_eq!(
        user,
        store.key(
            Scope::Route("app::export"),
            &ClientKey::User(long.as_str().into())
        )
    );
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn unreachable_store() -> RedisStore {
    RedisStore::connect_lazy(&format!("redis://127.0.0.1:{}/", closed_port()))
        .unwrap()
        .timeout(Duration::from_millis(500))
}

#[tokio::test]
async fn unreachable_redis_fails_closed_with_a_503_and_one_log_line() {
    let app = router(RateLimiter::new().redis(unreachable_store()));
    let (replies, logs) = secure_tests::with_logs(async {
        let first = send(&app, req("/login", "203.0.113.99")).await;
        let second = send(&app, req("/health", "203.0.113.99")).await;
        (first, second)
    })
    .await;
    for reply in [&replies.0, &replies.1] {
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            reply.headers[header::CONTENT_TYPE],
            "application/problem+json"
        );
        assert!(!reply.headers.contains_key(RATELIMIT));
        // No internals: not the store, its address or its error.
        let body = reply.body.to_lowercase();
        for leak in ["redis", "127.0.0.1", "refused", "connect"] {
            assert!(!body.contains(leak), "{body}");
        }
    }
    let lines: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("secure::ratelimit"))
        .collect();
    // Logged once (then rate-limited), saying what happens; never the client's key.
    assert_eq!(lines.len(), 1, "{logs}");
    assert!(lines[0].contains("ERROR"), "{logs}");
    assert!(lines[0].contains("failing closed"), "{logs}");
    assert!(!lines[0].contains("203.0.113"), "{logs}");
    // The refusal is audited as a failure of the limiter, not as a client over its limit.
    assert!(logs.contains("store_unavailable"), "{logs}");
}

#[tokio::test]
async fn unreachable_redis_lets_requests_through_with_fail_open() {
    let app = router(RateLimiter::new().redis(unreachable_store()).fail_open());
    let (replies, logs) = secure_tests::with_logs(async {
        let mut replies = Vec::new();
        for _ in 0..7 {
            replies.push(send(&app, req("/login", "203.0.113.98")).await);
        }
        replies
    })
    .await;
    for reply in &replies {
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body, "token");
        // Nothing was counted: no numbers to report.
        assert!(!reply.headers.contains_key(RATELIMIT));
    }
    let lines: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("secure::ratelimit"))
        .collect();
    assert_eq!(lines.len(), 1, "{logs}");
    assert!(lines[0].contains("failing open"), "{logs}");
    assert!(!lines[0].contains("203.0.113"), "{logs}");
}

// ---------------------------------------------------------------------------------------------
// Account throttle counters in Redis

#[tokio::test]
async fn account_throttle_counters_are_shared_by_instances_and_match_memory() {
    use secure_core::auth::device::DeviceId;
    use secure_core::ratelimit::{AccountThrottle, Factor, ThrottleKey};
    let Some(url) = redis_url("account_throttle_counters_are_shared_by_instances_and_match_memory")
    else {
        return;
    };
    let _server = SERVER.lock().await;
    let prefix = unique_prefix();
    let policy = AccountThrottle {
        free_failures: 3,
        ..AccountThrottle::default()
    };
    let a = RateLimiter::new()
        .redis(store(&url, &prefix).await)
        .account_throttle(policy);
    let b = RateLimiter::new()
        .redis(store(&url, &prefix).await)
        .account_throttle(policy);
    let memory = RateLimiter::new().account_throttle(policy);
    let key = ThrottleKey::new(Factor::Password, "ada", None);

    // Three free failures and the fourth (which starts the back-off), spread over both
    // instances; then both refuse, with a wait of about the first delay (1 s).
    for (i, limiter) in [&a, &b, &a, &b].into_iter().enumerate() {
        assert!(
            limiter.account_attempt(&key, None).await.is_ok(),
            "attempt {i}"
        );
        assert!(
            memory.account_attempt(&key, None).await.is_ok(),
            "memory {i}"
        );
    }
    for limiter in [&a, &b, &memory] {
        let refused = limiter.account_attempt(&key, None).await.unwrap_err();
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(refused.headers()[header::RETRY_AFTER], "1");
    }
    // Another factor and another device have counters of their own.
    let mfa = ThrottleKey::new(Factor::SecondFactor, "ada", None);
    assert!(b.account_attempt(&mfa, None).await.is_ok());
    // (A device id comes from a device token; the store only sees its hash.)
    let phone = secure_core::auth::device::DeviceTokens::new(secure_core::crypto::DataKeys::new(
        secure_core::crypto::DataKey::generate(),
    ));
    let token = phone.issue("ada", None);
    let device: DeviceId = phone
        .verify(secure_core::ExposeSecret::expose_secret(&token), "ada")
        .unwrap();
    let from_phone = ThrottleKey::new(Factor::Password, "ada", Some(&device));
    assert!(a.account_attempt(&from_phone, None).await.is_ok());

    // A success (on either instance) forgives: the next attempt goes ahead at once.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(a.account_attempt(&key, None).await.is_ok());
    b.account_success(&key).await;
    assert!(a.account_attempt(&key, None).await.is_ok());

    // The counter's key is hashed and expires by itself; "ada" is never written.
    let mut con = admin(&url).await;
    let written = keys(&mut con, &prefix).await;
    assert_eq!(written.len(), 3, "{written:?}");
    for key in &written {
        assert!(!key.contains("ada"), "{key}");
        let ttl: i64 = redis::cmd("PTTL")
            .arg(key)
            .query_async(&mut con)
            .await
            .unwrap();
        assert!(ttl > 0 && ttl <= 3_600_000 + 1000, "{key}: {ttl}");
    }
}
