//! Rate limits end to end through `SecureRouter::into_app`: the client address (socket
//! peer, trusted proxies read from the right, IPv6 grouped by /56), the keys, the 429 and the
//! `RateLimit` fields of draft-ietf-httpapi-ratelimit-headers-09, the per-IP default limit,
//! and eviction of idle keys.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use secure_core::SecretBox;
use secure_core::auth::jwt::{AccessTokenKey, AccessTokens};
use secure_core::auth::{Amr, Authenticator, Identity, Principal, Role};
use secure_core::config::SecurityConfig;
use secure_core::http::client::ClientAddresses;
use secure_core::policy::SecureRouter;
use secure_core::ratelimit::{ClientKey, RATELIMIT, RATELIMIT_POLICY, RateLimiter};
use secure_core::ratelimit::{RateKey, RateLimit};
use secure_core::routing::get;
use secure_core::secure_handler;
use tower::ServiceExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum AppRole {
    Member,
}

#[secure_handler(public, rate_limit("2/min", key = ip))]
async fn login() -> &'static str {
    "token"
}

#[secure_handler(public, rate_limit("3/min", key = global))]
async fn search() -> &'static str {
    "results"
}

#[secure_handler(auth, rate_limit("2/min", key = user))]
async fn export(user: Principal<AppRole>) -> String {
    user.subject().to_owned()
}

#[secure_handler(public)]
async fn health() -> &'static str {
    "ok"
}

fn tokens(key: [u8; 32]) -> AccessTokens {
    let key = AccessTokenKey::hs256(SecretBox::from(key.to_vec())).unwrap();
    AccessTokens::builder(key, "https://auth.test", "notes")
        .build()
        .unwrap()
}

struct App {
    router: secure_core::policy::SecureApp,
    tokens: AccessTokens,
}

fn app(limiter: RateLimiter) -> App {
    app_with(limiter, ClientAddresses::new())
}

fn app_with(limiter: RateLimiter, clients: ClientAddresses) -> App {
    let key: [u8; 32] = rand::random();
    let config = SecurityConfig::new()
        .authenticator(Authenticator::new(tokens(key)))
        .rate_limiter(limiter)
        .client_addresses(clients);
    let router = SecureRouter::new()
        .route("/login", get(login))
        .route("/search", get(search))
        .route("/export", get(export))
        .route("/health", get(health))
        .into_app(config)
        .expect("the app assembles");
    App {
        router,
        tokens: tokens(key),
    }
}

fn token(app: &App, subject: &str) -> String {
    let identity = Identity::new(subject, 1_700_000_000)
        .with_roles(["member"])
        .with_amr(vec![Amr::Pwd]);
    app.tokens.issue(&identity).unwrap()
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

fn req(path: &str, peer: &str, xff: Option<&str>, bearer: Option<&str>) -> Request<Body> {
    let mut b = Request::get(path);
    if let Some(xff) = xff {
        b = b.header("x-forwarded-for", xff);
    }
    if let Some(t) = bearer {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let mut request = b.body(Body::empty()).unwrap();
    let ip: IpAddr = peer.parse().unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::new(ip, 40_000)));
    request
}

async fn send_to(router: &secure_core::policy::SecureApp, request: Request<Body>) -> Reply {
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

async fn send(app: &App, request: Request<Body>) -> Reply {
    send_to(&app.router, request).await
}

async fn status(app: &App, request: Request<Body>) -> StatusCode {
    send(app, request).await.status
}

fn header_values(reply: &Reply, name: &axum::http::HeaderName) -> Vec<String> {
    reply
        .headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn spoofed_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let app = app(RateLimiter::new());
    for spoof in ["1.1.1.1", "2.2.2.2"] {
        let r = req("/login", "203.0.113.5", Some(spoof), None);
        assert_eq!(status(&app, r).await, StatusCode::OK);
    }
    let r = req("/login", "203.0.113.5", Some("3.3.3.3"), None);
    assert_eq!(status(&app, r).await, StatusCode::TOO_MANY_REQUESTS);
    // Another peer has its own budget.
    let r = req("/login", "203.0.113.6", None, None);
    assert_eq!(status(&app, r).await, StatusCode::OK);
}

#[tokio::test]
async fn a_trusted_proxy_is_read_from_the_right_most_untrusted_hop() {
    let app = app_with(
        RateLimiter::new(),
        ClientAddresses::new()
            .trust_proxies(["10.0.0.0/8"])
            .unwrap(),
    );
    // The client forges the left-most entries; the proxies append what they saw.
    for xff in ["1.1.1.1, 198.51.100.7, 10.0.0.2", "2.2.2.2, 198.51.100.7"] {
        let r = req("/login", "10.0.0.1", Some(xff), None);
        assert_eq!(status(&app, r).await, StatusCode::OK);
    }
    let r = req("/login", "10.0.0.1", Some("9.9.9.9, 198.51.100.7"), None);
    assert_eq!(status(&app, r).await, StatusCode::TOO_MANY_REQUESTS);
    // Another client behind the same proxy, and the proxy itself, are not affected.
    let r = req(
        "/login",
        "10.0.0.1",
        Some("198.51.100.7, 198.51.100.8"),
        None,
    );
    assert_eq!(status(&app, r).await, StatusCode::OK);
    // A malformed header counts under the proxy's own address.
    let r = req("/login", "10.0.0.1", Some("198.51.100.9, not-an-ip"), None);
    assert_eq!(status(&app, r).await, StatusCode::OK);
}

#[tokio::test]
async fn audit_events_name_the_client_the_limiter_counts_not_the_proxy() {
    let app = app_with(
        RateLimiter::new(),
        ClientAddresses::new()
            .trust_proxies(["10.0.0.0/8"])
            .unwrap(),
    );
    let (_, log) = secure_tests::with_logs(async {
        for _ in 0..3 {
            let r = req("/login", "10.0.0.1", Some("9.9.9.9, 198.51.100.7"), None);
            let _ = status(&app, r).await;
        }
    })
    .await;
    let refusal = log
        .lines()
        .find(|l| l.contains("rate_limited"))
        .unwrap_or_else(|| panic!("no rate_limited event in {log}"));
    assert!(refusal.contains("client_ip=198.51.100.7"), "{refusal}");
    assert!(!refusal.contains("10.0.0.1"), "{refusal}");
}

#[tokio::test]
async fn ipv6_clients_are_grouped_by_56() {
    let app = app(RateLimiter::new());
    for peer in ["2001:db8:1:200::1", "2001:db8:1:2ff:ffff::1"] {
        assert_eq!(
            status(&app, req("/login", peer, None, None)).await,
            StatusCode::OK
        );
    }
    let r = req("/login", "2001:db8:1:2aa::7", None, None);
    assert_eq!(status(&app, r).await, StatusCode::TOO_MANY_REQUESTS);
    let r = req("/login", "2001:db8:1:300::1", None, None);
    assert_eq!(status(&app, r).await, StatusCode::OK);

    // Configurable: with /64, two /64s of one /56 are two clients.
    let app = app_with(RateLimiter::new(), ClientAddresses::new().ipv6_prefix(64));
    for _ in 0..2 {
        let r = req("/login", "2001:db8:1:200::1", None, None);
        assert_eq!(status(&app, r).await, StatusCode::OK);
    }
    let r = req("/login", "2001:db8:1:201::1", None, None);
    assert_eq!(status(&app, r).await, StatusCode::OK);
}

#[tokio::test]
async fn refusal_is_a_429_with_retry_after_and_ratelimit_fields() {
    let app = app(RateLimiter::new().without_default_limit());
    for _ in 0..2 {
        send(&app, req("/login", "203.0.113.5", None, None)).await;
    }
    let reply = send(&app, req("/login", "203.0.113.5", None, None)).await;
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        reply.body
    );
    assert_eq!(
        reply.headers[header::CONTENT_TYPE],
        "application/problem+json"
    );
    assert!(reply.body.contains("\"status\":429"), "{}", reply.body);
    let retry: u64 = reply.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry), "{retry}");
    assert_eq!(
        header_values(&reply, &RATELIMIT_POLICY),
        ["\"route\";q=2;w=60"]
    );
    assert_eq!(
        header_values(&reply, &RATELIMIT),
        [format!("\"route\";r=0;t={retry}")]
    );
}

#[tokio::test]
async fn success_carries_the_ratelimit_fields() {
    let app = app(RateLimiter::new().without_default_limit());
    let reply = send(&app, req("/login", "203.0.113.5", None, None)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, "token");
    // 2/min: one used, the budget is full again 30 s later.
    assert_eq!(header_values(&reply, &RATELIMIT), ["\"route\";r=1;t=30"]);
    assert_eq!(
        header_values(&reply, &RATELIMIT_POLICY),
        ["\"route\";q=2;w=60"]
    );
    let reply = send(&app, req("/login", "203.0.113.5", None, None)).await;
    assert_eq!(header_values(&reply, &RATELIMIT), ["\"route\";r=0;t=60"]);
    // A route without a limit carries none.
    let reply = send(&app, req("/health", "203.0.113.5", None, None)).await;
    assert!(reply.headers.get(RATELIMIT).is_none());
}

#[tokio::test]
async fn user_keys_count_per_subject_and_global_keys_count_everyone() {
    let app = app(RateLimiter::new());
    let (alice, bob) = (token(&app, "alice"), token(&app, "bob"));
    // One subject from two addresses shares one budget.
    for peer in ["203.0.113.1", "203.0.113.2"] {
        let r = req("/export", peer, None, Some(&alice));
        let reply = send(&app, r).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{:?} {}",
            reply.headers,
            reply.body
        );
    }
    let r = req("/export", "203.0.113.3", None, Some(&alice));
    assert_eq!(status(&app, r).await, StatusCode::TOO_MANY_REQUESTS);
    let r = req("/export", "203.0.113.1", None, Some(&bob));
    let reply = send(&app, r).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    // Global: three requests a minute from anyone.
    for peer in ["203.0.113.1", "198.51.100.1", "2001:db8::1"] {
        assert_eq!(
            status(&app, req("/search", peer, None, None)).await,
            StatusCode::OK
        );
    }
    let r = req("/search", "192.0.2.99", None, None);
    assert_eq!(status(&app, r).await, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_default_limit_counts_every_route_per_client_ip() {
    let limiter = RateLimiter::new().default_limit(3, Duration::from_secs(60));
    let router = app(limiter).router;
    let reply = send_to(&router, req("/health", "203.0.113.5", None, None)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(header_values(&reply, &RATELIMIT), ["\"default\";r=2;t=20"]);
    assert_eq!(
        header_values(&reply, &RATELIMIT_POLICY),
        ["\"default\";q=3;w=60"]
    );
    // Both policies on a rate-limited route.
    let reply = send_to(&router, req("/login", "203.0.113.5", None, None)).await;
    assert_eq!(
        header_values(&reply, &RATELIMIT),
        ["\"route\";r=1;t=30", "\"default\";r=1;t=40"]
    );
    let reply = send_to(&router, req("/search", "203.0.113.5", None, None)).await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = send_to(&router, req("/nowhere", "203.0.113.5", None, None)).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(reply.headers.get(header::RETRY_AFTER).is_some());
    assert_eq!(
        header_values(&reply, &RATELIMIT_POLICY),
        ["\"default\";q=3;w=60"]
    );
    // Another address is untouched.
    let reply = send_to(&router, req("/health", "203.0.113.6", None, None)).await;
    assert_eq!(reply.status, StatusCode::OK);
}

/// A burst of 1000, refilled one per millisecond: one request leaves a key idle again after
/// 2 ms (governor keeps a key one emission interval past its arrival time).
const FAST: RateLimit = RateLimit {
    rate: secure_core::ratelimit::Rate {
        count: 1000,
        period_secs: 1,
    },
    key: RateKey::Ip,
};

fn ip_key(i: u32) -> ClientKey {
    ClientKey::Ip(IpAddr::from(i.to_be_bytes()))
}

#[test]
fn a_million_distinct_keys_are_evicted_once_idle() {
    let limiter = RateLimiter::new().sweep_interval(Duration::from_secs(3600));
    for i in 0..1_000_000 {
        assert!(limiter.check("evict", FAST, &ip_key(i)).allowed);
    }
    assert_eq!(limiter.key_count(), 1_000_000);
    // One key in use: its whole burst spent, its budget full again only in about a second.
    let busy = ip_key(u32::MAX);
    for _ in 0..1000 {
        limiter.check("evict", FAST, &busy);
    }
    std::thread::sleep(Duration::from_millis(50));
    limiter.evict_idle();
    assert_eq!(limiter.key_count(), 1);
}

#[test]
fn the_periodic_sweep_runs_without_being_asked() {
    let limiter = RateLimiter::new().sweep_interval(Duration::ZERO);
    for i in 0..10_000 {
        limiter.check("sweep", FAST, &ip_key(i));
    }
    std::thread::sleep(Duration::from_millis(50));
    // One key, checked often enough to reach the next sweep (no runtime here: inline).
    for _ in 0..2048 {
        limiter.check("sweep", FAST, &ip_key(u32::MAX));
    }
    // Only the key in use is left.
    assert_eq!(limiter.key_count(), 1);
}
