//! Issue 23: one refresh-token rotation through `RefreshTokens<SqlRefreshTokenStore>` (the
//! presented token claimed as used and its family's state returned by one statement, a new
//! token inserted, in one transaction: what detects reuse) against a hand-written sqlx rotation on the same SQLite
//! database (one indexed read and one write in a transaction, with the same token hashing
//! and generation). Target: at most 1.2x.
//!
//! ```text
//! python3 benches/rounds.py refresh
//! cargo bench -p secure-benches --bench refresh
//! ```

use std::cell::RefCell;
use std::hint::black_box;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use secure_core::ExposeSecret;
use secure_core::auth::refresh::{RefreshToken, RefreshTokens, SqlRefreshTokenStore};
use secure_core::sql::Database;
use sha2::{Digest, Sha256};
use sqlx::SqlitePool;

/// A new opaque token as the store keeps it: 256 random bits, base64url, and its SHA-256.
fn new_token() -> (String, String) {
    let text = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let hash = hash(&text);
    (text, hash)
}

fn hash(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes()))
}

/// The hand-written rotation: find the token by its hash, replace it with the next one.
async fn hand_rotate(pool: &SqlitePool, presented: &str) -> String {
    let old = hash(presented);
    let (next, next_hash) = new_token();
    let mut tx = pool.begin().await.expect("begin");
    let row: Option<(String, i64)> =
        sqlx::query_as("SELECT family_id, expires_at FROM hand_tokens WHERE token_hash = $1")
            .bind(&old)
            .fetch_optional(&mut *tx)
            .await
            .expect("read");
    let (_family, expires_at) = row.expect("a token the bench issued");
    assert!(expires_at > 0);
    sqlx::query("UPDATE hand_tokens SET token_hash = $2 WHERE token_hash = $1")
        .bind(&old)
        .bind(&next_hash)
        .execute(&mut *tx)
        .await
        .expect("write");
    tx.commit().await.expect("commit");
    next
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (tokens, pool, secure_first, hand_first) = rt.block_on(async {
        let db = Database::connect("sqlite::memory:")
            .await
            .expect("database");
        db.migrate().await.expect("migrations");
        let Database::Sqlite(pool) = db.clone() else {
            unreachable!("an SQLite URL")
        };
        sqlx::query(
            "CREATE TABLE hand_tokens (token_hash TEXT PRIMARY KEY, \
             family_id TEXT NOT NULL, expires_at BIGINT NOT NULL)",
        )
        .execute(&pool)
        .await
        .expect("table");
        let (hand, hand_hash) = new_token();
        sqlx::query("INSERT INTO hand_tokens VALUES ($1, 'family', 4102444800)")
            .bind(&hand_hash)
            .execute(&pool)
            .await
            .expect("insert");
        let tokens = RefreshTokens::new(SqlRefreshTokenStore::new(db));
        let issued = tokens.issue("user-1").await.expect("issue");
        let secure = issued.token.expose_secret().to_owned();
        (tokens, pool, secure, hand)
    });
    // Both answer the same way before they are timed: a rotated token is replaced.
    let current = RefCell::new(secure_first);
    let hand = RefCell::new(hand_first);
    let rotate = || {
        let presented = RefreshToken::from_client(current.borrow().as_str());
        let next = rt.block_on(tokens.rotate(&presented)).expect("rotation");
        *current.borrow_mut() = next.token.expose_secret().to_owned();
    };
    rotate();
    let next = rt.block_on(hand_rotate(&pool, &hand.borrow()));
    *hand.borrow_mut() = next;

    let mut group = c.benchmark_group("refresh");
    group.bench_function("secure", |b| b.iter(&rotate));
    group.bench_function("manual", |b| {
        b.iter(|| {
            let presented = hand.borrow().clone();
            let next = rt.block_on(hand_rotate(&pool, &presented));
            *hand.borrow_mut() = black_box(next);
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
