//! The refresh-token rotation comparison (issue 23), shared by the criterion bench
//! (`refresh.rs`) and the instruction counts (`instructions.rs`): `RefreshTokens<SqlRefreshTokenStore>`
//! and a hand-written sqlx rotation (one indexed read, one write, in a transaction, with the
//! same token hashing and generation) on one SQLite database.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secure_core::ExposeSecret;
use secure_core::auth::refresh::{RefreshToken, RefreshTokens, SqlRefreshTokenStore};
use secure_core::sql::Database;
use sha2::{Digest, Sha256};
use sqlx::SqlitePool;

/// Both rotations on one database, each with the token it presents next.
pub(crate) struct Fixture {
    pub(crate) tokens: RefreshTokens<SqlRefreshTokenStore>,
    pub(crate) pool: SqlitePool,
    /// The secure family's current token.
    pub(crate) secure: String,
    /// The hand-written table's current token.
    pub(crate) hand: String,
}

/// A new opaque token as the store keeps it: 256 random bits, base64url, and its SHA-256.
fn new_token() -> (String, String) {
    let text = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let hash = hash(&text);
    (text, hash)
}

fn hash(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes()))
}

/// The database, one secure family and one hand-written token, each rotated once.
pub(crate) async fn fixture() -> Fixture {
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
    let mut f = Fixture {
        secure: issued.token.expose_secret().to_owned(),
        tokens,
        pool,
        hand,
    };
    // Both answer the same way before they are measured: a rotated token is replaced.
    secure_rotate(&mut f).await;
    hand_rotate(&mut f).await;
    f
}

/// One rotation of the secure family.
pub(crate) async fn secure_rotate(f: &mut Fixture) {
    let presented = RefreshToken::from_client(f.secure.as_str());
    let next = f.tokens.rotate(&presented).await.expect("rotation");
    f.secure = next.token.expose_secret().to_owned();
}

/// The hand-written rotation: find the token by its hash, replace it with the next one.
pub(crate) async fn hand_rotate(f: &mut Fixture) {
    let old = hash(&f.hand);
    let (next, next_hash) = new_token();
    let mut tx = f.pool.begin().await.expect("begin");
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
    f.hand = next;
}
