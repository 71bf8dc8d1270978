//! [`SessionStore`] on SQLite and PostgreSQL through sqlx, with the same SQL for both (bind
//! parameters only; every statement is a `&'static str`).

use std::fmt;

use super::store::{SessionRecord, SessionStore};
use crate::error::StoreError;

/// Sessions in SQLite or PostgreSQL (features `sqlite`, `postgres`).
///
/// Create the table with [`crate::sql::migrate`] at start-up (safe when several instances
/// start at once), or by copying `secure-core/migrations/0002_secure_sessions.sql` into the
/// application's own `migrations/` folder. Id rotation (`replace`) is one transaction:
/// `DELETE` the old row, and `INSERT` the new one only if the delete removed a row.
///
#[cfg_attr(feature = "sqlite", doc = "```")]
#[cfg_attr(not(feature = "sqlite"), doc = "```ignore")]
/// use secure_core::session::{CsrfKey, SessionManager, SqlxSessionStore};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
/// secure_core::sql::migrate(&pool).await?;
/// let store = SqlxSessionStore::new(pool);
/// let sessions = SessionManager::new(store, CsrfKey::generate());
/// # let _ = sessions;
/// # Ok(())
/// # }
/// ```
pub struct SqlxSessionStore<DB: sqlx::Database> {
    pool: sqlx::Pool<DB>,
}

impl<DB: sqlx::Database> SqlxSessionStore<DB> {
    /// A store on `pool`, whose table [`crate::sql::migrate`] created.
    pub fn new(pool: sqlx::Pool<DB>) -> Self {
        SqlxSessionStore { pool }
    }

    /// The pool.
    pub fn pool(&self) -> &sqlx::Pool<DB> {
        &self.pool
    }
}

impl<DB: sqlx::Database> fmt::Debug for SqlxSessionStore<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlxSessionStore")
            .field("database", &DB::NAME)
            .finish_non_exhaustive()
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

macro_rules! sqlx_session_store {
    ($db:ty) => {
        impl SessionStore for SqlxSessionStore<$db> {
            async fn insert(&self, r: SessionRecord) -> Result<(), StoreError> {
                sqlx::query(INSERT)
                    .bind(&r.id_hash)
                    .bind(&r.subject)
                    .bind(json(&r.roles)?)
                    .bind(json(&r.amr)?)
                    .bind(r.auth_time)
                    .bind(r.created_at)
                    .bind(r.last_seen)
                    .execute(&self.pool)
                    .await
                    .map_err(StoreError::new)?;
                Ok(())
            }

            async fn get(&self, id_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
                let row: Option<Row> = sqlx::query_as(GET)
                    .bind(id_hash)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(StoreError::new)?;
                row.map(record).transpose()
            }

            async fn touch(&self, id_hash: &str, last_seen: i64) -> Result<bool, StoreError> {
                let done = sqlx::query(TOUCH)
                    .bind(id_hash)
                    .bind(last_seen)
                    .execute(&self.pool)
                    .await
                    .map_err(StoreError::new)?;
                if done.rows_affected() > 0 {
                    return Ok(true);
                }
                let found: Option<(String,)> = sqlx::query_as(EXISTS)
                    .bind(id_hash)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(StoreError::new)?;
                Ok(found.is_some())
            }

            async fn remove(&self, id_hash: &str) -> Result<bool, StoreError> {
                let done = sqlx::query(REMOVE)
                    .bind(id_hash)
                    .execute(&self.pool)
                    .await
                    .map_err(StoreError::new)?;
                Ok(done.rows_affected() > 0)
            }

            async fn replace(&self, old_hash: &str, r: SessionRecord) -> Result<bool, StoreError> {
                let (roles, amr) = (json(&r.roles)?, json(&r.amr)?);
                let mut tx = self.pool.begin().await.map_err(StoreError::new)?;
                let removed = sqlx::query(REMOVE)
                    .bind(old_hash)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::new)?
                    .rows_affected();
                if removed == 0 {
                    tx.rollback().await.map_err(StoreError::new)?;
                    return Ok(false);
                }
                sqlx::query(INSERT)
                    .bind(&r.id_hash)
                    .bind(&r.subject)
                    .bind(roles)
                    .bind(amr)
                    .bind(r.auth_time)
                    .bind(r.created_at)
                    .bind(r.last_seen)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::new)?;
                tx.commit().await.map_err(StoreError::new)?;
                Ok(true)
            }

            async fn remove_subject(&self, subject: &str) -> Result<u64, StoreError> {
                let done = sqlx::query(REMOVE_SUBJECT)
                    .bind(subject)
                    .execute(&self.pool)
                    .await
                    .map_err(StoreError::new)?;
                Ok(done.rows_affected())
            }

            async fn purge_expired(
                &self,
                last_seen_before: i64,
                created_before: i64,
            ) -> Result<u64, StoreError> {
                let done = sqlx::query(PURGE)
                    .bind(last_seen_before)
                    .bind(created_before)
                    .execute(&self.pool)
                    .await
                    .map_err(StoreError::new)?;
                Ok(done.rows_affected())
            }
        }
    };
}

#[cfg(feature = "sqlite")]
sqlx_session_store!(sqlx::Sqlite);
#[cfg(feature = "postgres")]
sqlx_session_store!(sqlx::Postgres);
