//! Security metrics (`secure_core::metrics`): every audit event counted, every request timed,
//! with labels from closed sets. Thousands of requests with distinct paths, tokens, users and client addresses
//! add no series: the subject, the address and the raw path are never labels.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use secure_core::SecretBox;
use secure_core::audit::{self, Outcome};
use secure_core::auth::jwt::{AccessTokenKey, AccessTokens};
use secure_core::auth::{Authenticator, Principal, Role};
use secure_core::config::SecurityConfig;
use secure_core::policy::{SecureApp, SecureRouter};
use secure_core::routing::get;
use secure_core::secure_handler;
use tower::ServiceExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum AppRole {
    Member,
}

#[secure_handler(auth)]
async fn note(user: Principal<AppRole>) -> String {
    user.subject().to_owned()
}

/// The `secure_security_events_total` series of the rendered text (but those of the span
/// test's route, which runs meanwhile in this process).
fn series(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.starts_with("secure_security_events_total{") && !l.contains("/drafts/"))
        .map(|l| l.rsplit_once(' ').map_or(l, |(s, _)| s))
        .collect()
}

/// An app whose one route at `path` needs an access token (of a key nobody else has).
fn authenticated_app(path: &str) -> SecureApp {
    let key = AccessTokenKey::hs256(SecretBox::from(rand::random::<[u8; 32]>().to_vec())).unwrap();
    let tokens = AccessTokens::builder(key, "https://auth.example", "notes-api")
        .build()
        .unwrap();
    SecureRouter::<()>::new()
        .route(path, get(note))
        .into_app(SecurityConfig::new().authenticator(Authenticator::new(tokens)))
        .unwrap()
}

#[tokio::test]
async fn events_are_counted_and_the_series_stay_bounded() {
    let metrics = secure_core::metrics::install().expect("the recorder");
    let app = authenticated_app("/notes/{id}");

    let before = series(&metrics.render()).len();
    for i in 0..3000u32 {
        let from = SocketAddr::from(([10, (i >> 16) as u8, (i >> 8) as u8, i as u8], 40000));
        let mut request = Request::get(format!("/notes/n-{i}"))
            .header(header::AUTHORIZATION, format!("Bearer not-a-token-{i}"))
            .body(Body::empty())
            .unwrap();
        request.extensions_mut().insert(ConnectInfo(from));
        let status = app.clone().oneshot(request).await.unwrap().status();
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        audit::emit(
            "auth.login",
            Outcome::Failure,
            Some(&format!("user-{i}")),
            "bad_password",
        );
    }
    // Paths no route has, and methods of every spelling: no series of their own.
    for i in 0..500u32 {
        let method = ["GET", "PURGE", "X-CUSTOM", "get"][i as usize % 4];
        let request = Request::builder()
            .method(method)
            .uri(format!("/nowhere/{i}/{}", "x".repeat(i as usize % 7)))
            .body(Body::empty())
            .unwrap();
        let _ = app.clone().oneshot(request).await.unwrap();
    }
    let text = metrics.render();
    let after = series(&text);
    // auth.token/malformed on the route, auth.login/bad_password, and the per-address limit
    // refusing the unrouted flood (it came with no address: one shared bucket).
    assert!(
        after.len() <= before + 3,
        "{} series before, {}: {after:#?}",
        before,
        after.len()
    );
    assert!(after.iter().any(|s| s.contains(r#"event="auth.token""#)
        && s.contains(r#"outcome="failure""#)
        && s.contains(r#"route="/notes/{id}""#)));
    assert!(after.iter().any(|s| s.contains(r#"event="auth.login""#)
        && s.contains(r#"reason="bad_password""#)
        && s.contains(r#"route="-""#)));
    // Each request timed under its route template, method and status class: one series.
    let timed: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.starts_with("secure_http_request_duration_seconds_count{") && !l.contains("/drafts/")
        })
        .collect();
    let notes: Vec<&&str> = timed
        .iter()
        .filter(|l| l.contains(r#"route="/notes/{id}""#))
        .collect();
    assert_eq!(notes.len(), 1, "{timed:#?}");
    for label in [r#"method="GET""#, r#"status="4xx""#] {
        assert!(notes[0].contains(label), "{label} in {}", notes[0]);
    }
    assert!(notes[0].ends_with(" 3000"), "{}", notes[0]);
    // The rest: at most the unmatched route under GET and `other`.
    assert!(timed.len() <= 3, "{timed:#?}");
    assert!(!text.contains("nowhere") && !text.contains("PURGE"));
    for leaked in ["user-1", "n-17", "10.0.0.", "not-a-token"] {
        assert!(!text.contains(leaked), "{leaked} in the metrics");
    }
}

/// Each request runs in a `request` span (DEBUG, target `secure::request`) with its route
/// template and request id (what an OpenTelemetry layer exports): the audit events inside it
/// carry them. A subscriber at INFO does not see the span. (Another route than the other
/// test's: the recorder is the process's.)
#[tokio::test]
async fn each_request_has_a_span_with_its_route_template() {
    let app = authenticated_app("/drafts/{id}");
    let audit_line = |level| {
        let app = app.clone();
        async move {
            let ((), logs) = secure_tests::with_logs_at(level, async {
                let mut request = Request::get("/drafts/secret-path-42")
                    .header(header::AUTHORIZATION, "Bearer nope")
                    .header("x-request-id", "req-7f3a")
                    .body(Body::empty())
                    .unwrap();
                request
                    .extensions_mut()
                    .insert(ConnectInfo(SocketAddr::from(([10, 1, 2, 3], 5000))));
                let status = app.oneshot(request).await.unwrap().status();
                assert_eq!(status, StatusCode::UNAUTHORIZED);
            })
            .await;
            assert!(!logs.contains("secret-path-42"), "{logs}");
            logs.lines()
                .find(|l| l.contains("security::audit"))
                .unwrap_or_else(|| panic!("an audit line in {logs}"))
                .to_owned()
        }
    };
    let line = audit_line(tracing::Level::DEBUG).await;
    assert!(line.contains("request{"), "{line}");
    assert!(line.contains("route=/drafts/{id}"), "{line}");
    assert!(line.contains("request_id=req-7f3a"), "{line}");
    let line = audit_line(tracing::Level::INFO).await;
    assert!(!line.contains("request{"), "{line}");
    assert!(
        line.contains("request_id=req-7f3a"),
        "the event's own field: {line}"
    );
}

/// A rate-limit store that never answers: its calls are timed and counted as errors.
#[derive(Debug)]
struct DownStore;

impl secure_core::ratelimit::RateLimitStore for DownStore {
    fn decide<'a>(
        &'a self,
        _: secure_core::ratelimit::Scope,
        _: &'a secure_core::ratelimit::ClientKey,
        _: secure_core::ratelimit::RateLimit,
    ) -> secure_core::ratelimit::StoreFuture<'a> {
        Box::pin(async { Err(secure_core::error::StoreError::new("down")) })
    }

    fn throttle<'a>(
        &'a self,
        _: &'a secure_core::ratelimit::ThrottleKey,
        _: secure_core::ratelimit::ThrottleOp,
        _: secure_core::ratelimit::AccountThrottle,
    ) -> secure_core::ratelimit::ThrottleFuture<'a> {
        Box::pin(async { Err(secure_core::error::StoreError::new("down")) })
    }
}

#[secure_handler(public, rate_limit("2/min", key = ip))]
async fn limited() -> &'static str {
    "ok"
}

/// The count of the series whose line starts with `prefix` and holds every label of `labels`
/// (0 when there is none).
fn count(text: &str, prefix: &str, labels: &[&str]) -> u64 {
    text.lines()
        .filter(|l| l.starts_with(prefix) && labels.iter().all(|label| l.contains(label)))
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

/// The metrics recorded at their sources, beside the events: refused input by route and
/// extractor, rate-limit refusals by limit and key kind, store calls and store errors,
/// Argon2id hashes and the wait for a slot, sign-ins by outcome. Through the accounts
/// module's own routes, as a service uses them.
#[tokio::test]
async fn refusals_stores_hashes_and_sign_ins_are_measured() {
    use secure_core::accounts::Accounts;
    use secure_core::auth::password::{Argon2Params, PasswordHasher};
    use secure_core::config::Keys;
    use secure_core::sql::Database;

    let metrics = secure_core::metrics::install().expect("the recorder");
    let db = Database::connect("sqlite::memory:").await.unwrap();
    db.migrate().await.unwrap();
    let config = SecurityConfig::new().with_keys(Keys::ephemeral());
    let accounts = Accounts::builder(db, &config, AppRole::Member)
        .password_hasher(
            PasswordHasher::with_params(Argon2Params {
                memory_kib: 8 * 1024,
                iterations: 1,
                parallelism: 1,
            })
            .unwrap(),
        )
        .build()
        .await
        .unwrap();
    let app = SecureRouter::<()>::new()
        .route("/limited", get(limited))
        .merge(accounts.router())
        .into_app(config.authenticator(accounts.authenticator()))
        .unwrap();
    let call = |path: &'static str, body: &'static str, from: u8| {
        let app = app.clone();
        async move {
            let mut request = Request::post(path)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body))
                .unwrap();
            request
                .extensions_mut()
                .insert(ConnectInfo(SocketAddr::from(([10, 9, 0, from], 5000))));
            app.oneshot(request).await.unwrap().status()
        }
    };
    let signup = r#"{"username":"metrics_user","email":"m@example.com","password":"a long enough passphrase"}"#;
    assert_eq!(call("/auth/signup", signup, 1).await, StatusCode::CREATED);
    // A user name the signup's rules refuse: 422, counted by route and extractor.
    let bad = r#"{"username":"no spaces allowed","email":"m@example.com","password":"a long enough passphrase"}"#;
    assert_eq!(
        call("/auth/signup", bad, 2).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let right = r#"{"username":"metrics_user","password":"a long enough passphrase"}"#;
    let wrong = r#"{"username":"metrics_user","password":"not the passphrase at all"}"#;
    assert_eq!(call("/auth/sign-in", right, 3).await, StatusCode::OK);
    // Wrong passwords from one address until its sign-in limit (5 a minute) refuses.
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(call("/auth/sign-in", wrong, 4).await);
    }
    assert_eq!(statuses[0], StatusCode::UNAUTHORIZED, "{statuses:?}");
    assert_eq!(statuses[5], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");

    let text = metrics.render();
    let input = "secure_input_rejected_total{";
    let labels = [
        r#"route="/auth/signup""#,
        r#"extractor="json""#,
        r#"status="422""#,
    ];
    assert_eq!(count(&text, input, &labels), 1, "{text}");
    let refused = "secure_rate_limited_total{";
    let labels = [
        r#"route="/auth/sign-in""#,
        r#"limit="secure::accounts::sign_in(ip, username)""#,
        r#"key="user""#,
    ];
    assert_eq!(count(&text, refused, &labels), 1, "{text}");
    let store = "secure_store_duration_seconds_count{";
    assert!(
        count(
            &text,
            store,
            &[r#"store="accounts""#, r#"operation="by_username""#]
        ) >= 6
    );
    assert!(
        count(
            &text,
            store,
            &[r#"store="refresh_tokens""#, r#"operation="create_family""#]
        ) >= 1
    );
    let hashes = "secure_password_hash_duration_seconds_count{";
    assert!(
        count(&text, hashes, &[r#"operation="hash""#]) >= 1,
        "{text}"
    );
    assert!(
        count(&text, hashes, &[r#"operation="verify""#]) >= 6,
        "{text}"
    );
    assert!(
        count(&text, "secure_password_hash_wait_seconds_count", &[]) >= 7,
        "{text}"
    );
    let sign_ins = "secure_sign_in_duration_seconds_count{";
    assert_eq!(
        count(&text, sign_ins, &[r#"outcome="signed_in""#]),
        1,
        "{text}"
    );
    assert_eq!(
        count(&text, sign_ins, &[r#"outcome="invalid_credentials""#]),
        5,
        "{text}"
    );
    assert_eq!(
        count(&text, sign_ins, &[r#"outcome="rate_limited""#]),
        1,
        "{text}"
    );
    for leaked in ["metrics_user", "passphrase", "10.9.0."] {
        assert!(!text.contains(leaked), "{leaked} in the metrics");
    }

    // A rate-limit store that is down: each call timed and counted as an error (and the
    // route answers 503, failing closed).
    let app = SecureRouter::<()>::new()
        .route("/limited", get(limited))
        .into_app(
            SecurityConfig::new()
                .rate_limiter(secure_core::ratelimit::RateLimiter::new().store(DownStore)),
        )
        .unwrap();
    let errors = "secure_store_errors_total{";
    let labels = [r#"store="rate_limits""#, r#"operation="decide""#];
    let before = count(&metrics.render(), errors, &labels);
    let request = Request::get("/limited").body(Body::empty()).unwrap();
    let status = app.oneshot(request).await.unwrap().status();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(count(&metrics.render(), errors, &labels), before + 1);
}
