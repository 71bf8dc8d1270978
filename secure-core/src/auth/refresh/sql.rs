//! [`RefreshTokenStore`] on SQLite and PostgreSQL through sqlx, with the same SQL for both
//! (bind parameters only; every statement is a `&'static str`).

use std::fmt;

use super::store::{NewFamily, NewToken, RefreshTokenStore, Rotation, TokenRecord};
use crate::error::StoreError;

/// Refresh-token families in SQLite or PostgreSQL (features `sqlite`, `postgres`).
///
/// Create the tables with [`crate::sql::migrate`] at start-up (safe when several instances
/// start at once), or by copying `secure-core/migrations/0001_secure_refresh_tokens.sql`
/// into the application's own `migrations/` folder.
///
/// The rotate step is one transaction whose first statement is a conditional
/// `UPDATE ... SET used_at = now WHERE token_hash = $1 AND used_at IS NULL AND ...`: the
/// database's row lock (PostgreSQL) or write lock (SQLite) lets exactly one of two
/// concurrent uses change the row.
///
#[cfg_attr(feature = "sqlite", doc = "```")]
#[cfg_attr(not(feature = "sqlite"), doc = "```ignore")]
/// use secure_core::auth::refresh::{RefreshTokens, SqlxRefreshTokenStore};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
/// secure_core::sql::migrate(&pool).await?;
/// let store = SqlxRefreshTokenStore::new(pool);
/// let tokens = RefreshTokens::new(store);
/// let issued = tokens.issue("user-42").await?;
/// assert_eq!(tokens.rotate(&issued.token).await?.subject, "user-42");
/// # Ok(())
/// # }
/// ```
pub struct SqlxRefreshTokenStore<DB: sqlx::Database> {
    pool: sqlx::Pool<DB>,
}

impl<DB: sqlx::Database> SqlxRefreshTokenStore<DB> {
    /// A store on `pool`, whose tables [`crate::sql::migrate`] created.
    pub fn new(pool: sqlx::Pool<DB>) -> Self {
        SqlxRefreshTokenStore { pool }
    }

    /// The pool.
    pub fn pool(&self) -> &sqlx::Pool<DB> {
        &self.pool
    }
}

impl<DB: sqlx::Database> fmt::Debug for SqlxRefreshTokenStore<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlxRefreshTokenStore")
            .field("database", &DB::NAME)
            .finish_non_exhaustive()
    }
}

const FIND: &str = "SELECT t.token_hash, t.family_id, f.subject, t.issued_at, t.expires_at, \
     t.used_at, f.expires_at, f.revoked_at \
     FROM secure_refresh_tokens t JOIN secure_refresh_families f ON f.family_id = t.family_id \
     WHERE t.token_hash = $1";

const CLAIM: &str = "UPDATE secure_refresh_tokens SET used_at = $2 \
     WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 \
     AND EXISTS (SELECT 1 FROM secure_refresh_families f \
                 WHERE f.family_id = secure_refresh_tokens.family_id \
                 AND f.revoked_at IS NULL AND f.expires_at > $2)";

const INSERT_FAMILY: &str = "INSERT INTO secure_refresh_families \
     (family_id, subject, created_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, NULL)";

const INSERT_TOKEN: &str = "INSERT INTO secure_refresh_tokens \
     (token_hash, family_id, issued_at, expires_at, used_at) VALUES ($1, $2, $3, $4, NULL)";

const REVOKE_FAMILY: &str = "UPDATE secure_refresh_families SET revoked_at = $2 \
     WHERE family_id = $1 AND revoked_at IS NULL";

const REVOKE_SUBJECT: &str = "UPDATE secure_refresh_families SET revoked_at = $2 \
     WHERE subject = $1 AND revoked_at IS NULL";

const PURGE_TOKENS: &str = "DELETE FROM secure_refresh_tokens WHERE family_id IN \
     (SELECT family_id FROM secure_refresh_families WHERE expires_at <= $1)";

const PURGE_FAMILIES: &str = "DELETE FROM secure_refresh_families WHERE expires_at <= $1";

type Row = (
    String,
    String,
    String,
    i64,
    i64,
    Option<i64>,
    i64,
    Option<i64>,
);

fn record(r: Row) -> TokenRecord {
    TokenRecord {
        token_hash: r.0,
        family_id: r.1,
        subject: r.2,
        issued_at: r.3,
        expires_at: r.4,
        used_at: r.5,
        family_expires_at: r.6,
        family_revoked_at: r.7,
    }
}

macro_rules! sqlx_refresh_store {
    ($db:ty) => {
        impl RefreshTokenStore for SqlxRefreshTokenStore<$db> {
            async fn create_family(
                &self,
                family: NewFamily,
                first: NewToken,
            ) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await.map_err(StoreError::new)?;
                sqlx::query(INSERT_FAMILY)
                    .bind(&family.family_id)
                    .bind(&family.subject)
                    .bind(family.created_at)
                    .bind(family.expires_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::new)?;
                sqlx::query(INSERT_TOKEN)
                    .bind(&first.token_hash)
                    .bind(&family.family_id)
                    .bind(first.issued_at)
                    .bind(first.expires_at.min(family.expires_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::new)?;
                tx.commit().await.map_err(StoreError::new)
            }

            async fn rotate(
                &self,
                old_hash: &str,
                new: NewToken,
                now: i64,
            ) -> Result<Rotation, StoreError> {
                let mut tx = self.pool.begin().await.map_err(StoreError::new)?;
                let claimed = sqlx::query(CLAIM)
                    .bind(old_hash)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::new)?
                    .rows_affected()
                    == 1;
                let found: Option<Row> = sqlx::query_as(FIND)
                    .bind(old_hash)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(StoreError::new)?;
                let Some(mut old) = found.map(record) else {
                    tx.rollback().await.map_err(StoreError::new)?;
                    return Ok(Rotation::Unknown);
                };
                if !claimed {
                    tx.rollback().await.map_err(StoreError::new)?;
                    return Ok(Rotation::Refused(old));
                }
                sqlx::query(INSERT_TOKEN)
                    .bind(&new.token_hash)
                    .bind(&old.family_id)
                    .bind(new.issued_at)
                    .bind(new.expires_at.min(old.family_expires_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::new)?;
                tx.commit().await.map_err(StoreError::new)?;
                old.used_at = None;
                Ok(Rotation::Rotated(old))
            }

            async fn find(&self, token_hash: &str) -> Result<Option<TokenRecord>, StoreError> {
                let found: Option<Row> = sqlx::query_as(FIND)
                    .bind(token_hash)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(StoreError::new)?;
                Ok(found.map(record))
            }

            async fn revoke_family(&self, family_id: &str, now: i64) -> Result<bool, StoreError> {
                let done = sqlx::query(REVOKE_FAMILY)
                    .bind(family_id)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(StoreError::new)?;
                Ok(done.rows_affected() > 0)
            }

            async fn revoke_subject(&self, subject: &str, now: i64) -> Result<u64, StoreError> {
                let done = sqlx::query(REVOKE_SUBJECT)
                    .bind(subject)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(StoreError::new)?;
                Ok(done.rows_affected())
            }

            async fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
                let mut tx = self.pool.begin().await.map_err(StoreError::new)?;
                sqlx::query(PURGE_TOKENS)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::new)?;
                let done = sqlx::query(PURGE_FAMILIES)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::new)?;
                tx.commit().await.map_err(StoreError::new)?;
                Ok(done.rows_affected())
            }
        }
    };
}

#[cfg(feature = "sqlite")]
sqlx_refresh_store!(sqlx::Sqlite);
#[cfg(feature = "postgres")]
sqlx_refresh_store!(sqlx::Postgres);
