//! [`SessionStore`] on the service's [`Database`], with the same SQL for SQLite and
//! PostgreSQL (bind parameters only; every statement is a `&'static str`).

use super::store::{SessionRecord, SessionStore};
use crate::error::StoreError;
use crate::sql::Database;

/// Sessions in the service's [`Database`] (SQLite or PostgreSQL; features `sqlite`,
/// `postgres`).
///
/// Create the table with [`Database::migrate`] at start-up (safe when several instances
/// start at once), or by copying `secure-core/migrations/0002_secure_sessions.sql` into the
/// application's own `migrations/` folder. Id rotation (`replace`) is one transaction:
/// `DELETE` the old row, and `INSERT` the new one only if the delete removed a row.
///
#[cfg_attr(feature = "sqlite", doc = "```")]
#[cfg_attr(not(feature = "sqlite"), doc = "```ignore")]
/// use secure_core::session::{CsrfKey, SessionManager, SqlSessionStore};
/// use secure_core::sql::Database;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let db = Database::connect("sqlite::memory:").await?;
/// db.migrate().await?;
/// let sessions = SessionManager::new(SqlSessionStore::new(db), CsrfKey::generate());
/// # let _ = sessions;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct SqlSessionStore {
    db: Database,
}

impl SqlSessionStore {
    /// A store on `db`, whose table [`Database::migrate`] created.
    pub fn new(db: Database) -> Self {
        SqlSessionStore { db }
    }

    /// The database.
    pub fn database(&self) -> &Database {
        &self.db
    }
}

const INSERT: &str = "INSERT INTO secure_sessions \
     (id_hash, subject, roles, amr, auth_time, created_at, last_seen) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

const GET: &str = "SELECT id_hash, subject, roles, amr, auth_time, created_at, last_seen \
     FROM secure_sessions WHERE id_hash = $1";

const TOUCH: &str = "UPDATE secure_sessions SET last_seen = $2 \
     WHERE id_hash = $1 AND last_seen < $2";

const EXISTS: &str = "SELECT id_hash FROM secure_sessions WHERE id_hash = $1";

const REMOVE: &str = "DELETE FROM secure_sessions WHERE id_hash = $1";

const REMOVE_SUBJECT: &str = "DELETE FROM secure_sessions WHERE subject = $1";

const PURGE: &str = "DELETE FROM secure_sessions WHERE last_seen <= $1 OR created_at <= $2";

type Row = (String, String, String, String, i64, i64, i64);

fn record(r: Row) -> Result<SessionRecord, StoreError> {
    Ok(SessionRecord {
        id_hash: r.0,
        subject: r.1,
        roles: serde_json::from_str(&r.2).map_err(StoreError::new)?,
        amr: serde_json::from_str(&r.3).map_err(StoreError::new)?,
        auth_time: r.4,
        created_at: r.5,
        last_seen: r.6,
    })
}

fn json(list: &[String]) -> Result<String, StoreError> {
    serde_json::to_string(list).map_err(StoreError::new)
}

impl SessionStore for SqlSessionStore {
    async fn insert(&self, r: SessionRecord) -> Result<(), StoreError> {
        let (roles, amr) = (json(&r.roles)?, json(&r.amr)?);
        self.db
            .query(INSERT)
            .bind(r.id_hash)
            .bind(r.subject)
            .bind(roles)
            .bind(amr)
            .bind(r.auth_time)
            .bind(r.created_at)
            .bind(r.last_seen)
            .execute()
            .await
            .map_err(StoreError::new)?;
        Ok(())
    }

    async fn get(&self, id_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        let row: Option<Row> = self
            .db
            .query(GET)
            .bind(id_hash)
            .fetch_optional()
            .await
            .map_err(StoreError::new)?;
        row.map(record).transpose()
    }

    async fn touch(&self, id_hash: &str, last_seen: i64) -> Result<bool, StoreError> {
        let touched = self
            .db
            .query(TOUCH)
            .bind(id_hash)
            .bind(last_seen)
            .execute()
            .await
            .map_err(StoreError::new)?;
        if touched > 0 {
            return Ok(true);
        }
        let found: Option<(String,)> = self
            .db
            .query(EXISTS)
            .bind(id_hash)
            .fetch_optional()
            .await
            .map_err(StoreError::new)?;
        Ok(found.is_some())
    }

    async fn remove(&self, id_hash: &str) -> Result<bool, StoreError> {
        let removed = self
            .db
            .query(REMOVE)
            .bind(id_hash)
            .execute()
            .await
            .map_err(StoreError::new)?;
        Ok(removed > 0)
    }

    async fn replace(&self, old_hash: &str, r: SessionRecord) -> Result<bool, StoreError> {
        let (roles, amr) = (json(&r.roles)?, json(&r.amr)?);
        let mut tx = self.db.begin().await.map_err(StoreError::new)?;
        let removed = tx
            .query(REMOVE)
            .bind(old_hash)
            .execute()
            .await
            .map_err(StoreError::new)?;
        if removed == 0 {
            tx.rollback().await.map_err(StoreError::new)?;
            return Ok(false);
        }
        tx.query(INSERT)
            .bind(r.id_hash)
            .bind(r.subject)
            .bind(roles)
            .bind(amr)
            .bind(r.auth_time)
            .bind(r.created_at)
            .bind(r.last_seen)
            .execute()
            .await
            .map_err(StoreError::new)?;
        tx.commit().await.map_err(StoreError::new)?;
        Ok(true)
    }

    async fn remove_subject(&self, subject: &str) -> Result<u64, StoreError> {
        self.db
            .query(REMOVE_SUBJECT)
            .bind(subject)
            .execute()
            .await
            .map_err(StoreError::new)
    }

    async fn purge_expired(
        &self,
        last_seen_before: i64,
        created_before: i64,
    ) -> Result<u64, StoreError> {
        self.db
            .query(PURGE)
            .bind(last_seen_before)
            .bind(created_before)
            .execute()
            .await
            .map_err(StoreError::new)
    }
}
