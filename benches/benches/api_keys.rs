//! Issue 24: the check of an API key as the authenticator runs it (form and checksum, the
//! stored record by id on SQLite, the SHA-256 compared in constant time, expiry, the key's
//! own rate limit) against a bare SHA-256 of the key and a `HashMap` lookup of the hash.
//! Target: at most 1.2x. Today the record comes from the database on every request, so this
//! measures how far that is from the target, for the design of a cache.
//!
//! ```text
//! cargo bench -p secure-benches --bench api_keys
//! ```

use std::collections::HashMap;
use std::hint::black_box;

use axum::body::Body;
use axum::http::{Request, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use http_body_util::BodyExt;
use secure_core::accounts::Accounts;
use secure_core::auth::Scope;
use secure_core::config::{Keys, SecurityConfig};
use secure_core::policy::SecureRouter;
use secure_core::ratelimit::Rate;
use secure_core::sql::Database;
use sha2::{Digest, Sha256};
use tower::ServiceExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Scope)]
enum BenchScope {
    Read,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, secure_core::auth::Role)]
enum BenchRole {
    Member,
}

const PASSWORD: &str = "a bench passphrase, long";

async fn call(
    app: &secure_core::policy::SecureApp,
    path: &str,
    token: Option<&str>,
    body: serde_json::Value,
) -> serde_json::Value {
    let mut request = Request::post(path).header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let mut request = request.body(Body::from(body.to_string())).expect("request");
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            [10, 0, 0, 1],
            1,
        ))));
    let response = app.clone().oneshot(request).await.expect("answer");
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null)
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (authenticator, key) = rt.block_on(async {
        let db = Database::connect("sqlite::memory:").await.expect("database");
        db.migrate().await.expect("migrations");
        let config = SecurityConfig::new().with_keys(Keys::ephemeral());
        let accounts = Accounts::builder(db, &config, BenchRole::Member)
            .api_keys::<BenchScope>("bench")
            // The budget is not what is measured.
            .api_key_rate(Rate { count: u32::MAX, period_secs: 1 })
            .build()
            .await
            .expect("accounts");
        let app = SecureRouter::<()>::new()
            .merge(accounts.router())
            .into_app(config.authenticator(accounts.authenticator()))
            .expect("app");
        let signup = serde_json::json!({"username": "bench", "email": "b@example.com", "password": PASSWORD});
        call(&app, "/auth/signup", None, signup).await;
        let pair = call(&app, "/auth/sign-in", None, serde_json::json!({"username": "bench", "password": PASSWORD})).await;
        let access = pair["access_token"].as_str().expect("signed in").to_owned();
        let created = call(&app, "/auth/api-keys", Some(&access), serde_json::json!({"name": "b", "scopes": ["read"]})).await;
        let key = created["key"].as_str().expect("a key").to_owned();
        (accounts.authenticator(), key)
    });
    let (parts, ()) = Request::get("/")
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .body(())
        .expect("request")
        .into_parts();
    // The baseline: the key's SHA-256 finds its record in a map.
    let mut map = HashMap::new();
    map.insert(
        URL_SAFE_NO_PAD.encode(Sha256::digest(key.as_bytes())),
        ("owner", ["read"]),
    );
    for _ in 0..3 {
        assert!(rt.block_on(authenticator.authenticate(&parts)).is_ok());
    }
    let mut group = c.benchmark_group("api_key");
    group.bench_function("secure", |b| {
        b.iter(|| black_box(rt.block_on(authenticator.authenticate(black_box(&parts)))).is_ok())
    });
    group.bench_function("sha256_hashmap", |b| {
        b.iter(|| {
            let hash = URL_SAFE_NO_PAD.encode(Sha256::digest(black_box(key.as_bytes())));
            black_box(map.get(&hash)).is_some()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
