//! An API key checked as the authenticator runs it, against two baselines, in one run:
//!
//! - `secure`: `Authenticator::authenticate` with the accounts' keys (the bearer header, the
//!   form and checksum, the record from the in-memory cache (30 s), the SHA-256 compared in
//!   constant time, revocation and expiry, the key's own rate limit, the identity), on a
//!   current-thread runtime's `block_on`;
//! - `hand_written`: the same `Authenticator` over a hand-written `KeyAuthenticator` that
//!   finds the record by the key's SHA-256 in a `HashMap` and does the same rate limit and
//!   identity: what an app would write, so the two differ only in how the key is checked;
//! - `sha256_hashmap`: the bare SHA-256 of the key and a `HashMap` lookup, nothing else.
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
use secure_core::auth::{AuthError, Authenticator, Identity, KeyAuthenticator, Scope};
use secure_core::config::{Keys, SecurityConfig};
use secure_core::policy::SecureRouter;
use secure_core::ratelimit::{ClientKey, Rate, RateKey, RateLimit, RateLimiter, Verdict};
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

/// What an app would write: the key's SHA-256 finds the owner's identity in a map; the same
/// per-key rate limit as the accounts' keys.
struct HandWritten {
    keys: HashMap<[u8; 32], (ClientKey, Identity)>,
    limiter: RateLimiter,
}

impl KeyAuthenticator for HandWritten {
    fn recognises(&self, token: &str) -> bool {
        token.starts_with("bench_")
    }

    fn authenticate<'a>(
        &'a self,
        token: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Identity, AuthError>> + Send + 'a>>
    {
        Box::pin(async move {
            let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
            let (limit_key, identity) = self.keys.get(&digest).ok_or(AuthError::Invalid)?;
            let limit = RateLimit {
                rate: Rate {
                    count: u32::MAX,
                    period_secs: 1,
                },
                key: RateKey::User,
            };
            match self
                .limiter
                .decide("bench::api_key", limit, limit_key)
                .await
            {
                Verdict::Decided(d) if d.allowed => Ok(identity.clone()),
                _ => Err(AuthError::Unavailable),
            }
        })
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let authenticator = rt.block_on(async {
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
        let secure = accounts.authenticator();
        let identity = secure
            .authenticate(&Request::get("/").header(header::AUTHORIZATION, format!("Bearer {key}")).body(()).expect("request").into_parts().0)
            .await
            .expect("the key works")
            .0;
        (secure, key, identity)
    });
    let (authenticator, key, identity) = (authenticator.0, authenticator.1, authenticator.2);
    let hand_written = {
        let mut keys = HashMap::new();
        keys.insert(
            Sha256::digest(key.as_bytes()).into(),
            (ClientKey::User("api_key\nbench".into()), identity),
        );
        let tokens = secure_core::auth::jwt::AccessTokens::builder(
            secure_core::auth::jwt::AccessTokenKey::hs256(secure_core::SecretBox::from(vec![
                7u8;
                32
            ]))
            .expect("key"),
            "https://bench.example",
            "bench",
        )
        .build()
        .expect("tokens");
        Authenticator::new(tokens).with_api_keys(std::sync::Arc::new(HandWritten {
            keys,
            limiter: RateLimiter::new(),
        }))
    };
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
        assert!(rt.block_on(hand_written.authenticate(&parts)).is_ok());
    }
    let mut group = c.benchmark_group("api_key");
    group.bench_function("secure", |b| {
        b.iter(|| black_box(rt.block_on(authenticator.authenticate(black_box(&parts)))).is_ok())
    });
    group.bench_function("hand_written", |b| {
        b.iter(|| black_box(rt.block_on(hand_written.authenticate(black_box(&parts)))).is_ok())
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
