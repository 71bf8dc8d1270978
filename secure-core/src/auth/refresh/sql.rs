//! [`RefreshTokenStore`] on the service's [`Database`], with the same SQL for SQLite and
//! PostgreSQL (bind parameters only; every statement is a `&'static str`).

use super::store::{NewFamily, NewToken, RefreshTokenStore, Rotation, TokenRecord};
use crate::error::StoreError;
use crate::sql::Database;

/// Refresh-token families in the service's [`Database`] (SQLite or PostgreSQL; features
/// `sqlite`, `postgres`).
///
/// Create the tables with [`Database::migrate`] at start-up (safe when several instances
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
/// use secure_core::auth::refresh::{RefreshTokens, SqlRefreshTokenStore};
/// use secure_core::sql::Database;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let db = Database::connect("sqlite::memory:").await?;
/// db.migrate().await?;
/// let tokens = RefreshTokens::new(SqlRefreshTokenStore::new(db));
/// let issued = tokens.issue("user-42").await?;
/// assert_eq!(tokens.rotate(&issued.token).await?.subject, "user-42");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct SqlRefreshTokenStore {
    db: Database,
}

impl SqlRefreshTokenStore {
    /// A store on `db`, whose tables [`Database::migrate`] created.
    pub fn new(db: Database) -> Self {
        SqlRefreshTokenStore { db }
    }

    /// The database.
    pub fn database(&self) -> &Database {
        &self.db
    }
}

const FIND: &str = "SELECT t.token_hash, t.family_id, f.subject, t.issued_at, t.expires_at, \
     t.used_at, f.expires_at, f.revoked_at \
     FROM secure_refresh_tokens t JOIN secure_refresh_families f ON f.family_id = t.family_id \
     WHERE t.token_hash = $1";

// Claims the token and answers its record in one statement: the common path of a rotation
// is this and the new token's insert. The family is live (the claim requires it), so its
// `revoked_at` is NULL.
const CLAIM: &str = "UPDATE secure_refresh_tokens SET used_at = $2 \
     WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 \
     AND EXISTS (SELECT 1 FROM secure_refresh_families f \
                 WHERE f.family_id = secure_refresh_tokens.family_id \
                 AND f.revoked_at IS NULL AND f.expires_at > $2) \
     RETURNING token_hash, family_id, \
     (SELECT f.subject FROM secure_refresh_families f \
      WHERE f.family_id = secure_refresh_tokens.family_id), \
     issued_at, expires_at, used_at, \
     (SELECT f.expires_at FROM secure_refresh_families f \
      WHERE f.family_id = secure_refresh_tokens.family_id), \
     CAST(NULL AS BIGINT)";

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

impl RefreshTokenStore for SqlRefreshTokenStore {
    async fn create_family(&self, family: NewFamily, first: NewToken) -> Result<(), StoreError> {
        let mut tx = self.db.begin().await.map_err(StoreError::new)?;
        tx.query(INSERT_FAMILY)
            .bind(&family.family_id)
            .bind(&family.subject)
            .bind(family.created_at)
            .bind(family.expires_at)
            .execute()
            .await
            .map_err(StoreError::new)?;
        tx.query(INSERT_TOKEN)
            .bind(first.token_hash)
            .bind(family.family_id)
            .bind(first.issued_at)
            .bind(first.expires_at.min(family.expires_at))
            .execute()
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
        let mut tx = self.db.begin().await.map_err(StoreError::new)?;
        let claimed: Option<Row> = tx
            .query(CLAIM)
            .bind(old_hash)
            .bind(now)
            .fetch_optional()
            .await
            .map_err(StoreError::new)?;
        let Some(claimed) = claimed else {
            // Not claimable: unknown, or used, expired or of an ended family (reuse).
            let found: Option<Row> = tx
                .query(FIND)
                .bind(old_hash)
                .fetch_optional()
                .await
                .map_err(StoreError::new)?;
            tx.rollback().await.map_err(StoreError::new)?;
            return Ok(found.map_or(Rotation::Unknown, |row| Rotation::Refused(record(row))));
        };
        let mut old = record(claimed);
        tx.query(INSERT_TOKEN)
            .bind(new.token_hash)
            .bind(&old.family_id)
            .bind(new.issued_at)
            .bind(new.expires_at.min(old.family_expires_at))
            .execute()
            .await
            .map_err(StoreError::new)?;
        tx.commit().await.map_err(StoreError::new)?;
        old.used_at = None;
        Ok(Rotation::Rotated(old))
    }

    async fn find(&self, token_hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let found: Option<Row> = self
            .db
            .query(FIND)
            .bind(token_hash)
            .fetch_optional()
            .await
            .map_err(StoreError::new)?;
        Ok(found.map(record))
    }

    async fn revoke_family(&self, family_id: &str, now: i64) -> Result<bool, StoreError> {
        let changed = self
            .db
            .query(REVOKE_FAMILY)
            .bind(family_id)
            .bind(now)
            .execute()
            .await
            .map_err(StoreError::new)?;
        Ok(changed > 0)
    }

    async fn revoke_subject(&self, subject: &str, now: i64) -> Result<u64, StoreError> {
        self.db
            .query(REVOKE_SUBJECT)
            .bind(subject)
            .bind(now)
            .execute()
            .await
            .map_err(StoreError::new)
    }

    async fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
        let mut tx = self.db.begin().await.map_err(StoreError::new)?;
        tx.query(PURGE_TOKENS)
            .bind(now)
            .execute()
            .await
            .map_err(StoreError::new)?;
        let purged = tx
            .query(PURGE_FAMILIES)
            .bind(now)
            .execute()
            .await
            .map_err(StoreError::new)?;
        tx.commit().await.map_err(StoreError::new)?;
        Ok(purged)
    }
}
