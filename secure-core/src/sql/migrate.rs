//! Migrations of secure-core's tables, and the application's under the same guard.

use std::fmt;
use std::future::Future;
use std::sync::LazyLock;
use std::time::Duration;
#[cfg(feature = "sqlite")]
use std::time::Instant;

#[cfg(feature = "sqlite")]
use sqlx::Connection;
use sqlx::migrate::{MigrateError, Migrator};

/// How long an SQLite instance waits for another one's migration before giving up.
pub const SQLITE_WAIT: Duration = Duration::from_secs(120);

/// secure-core's migrations, with their history in `_secure_core_migrations` so that they
/// never mix with the application's `_sqlx_migrations`.
static SECURE_MIGRATOR: LazyLock<Migrator> = LazyLock::new(|| {
    let mut migrator = sqlx::migrate!("./migrations");
    migrator.dangerous_set_table_name("_secure_core_migrations");
    migrator
});

/// Creates or updates secure-core's tables (refresh tokens, sessions). Safe to call from
/// every instance at once; see the [module docs](crate::sql).
pub async fn migrate<DB: SqlDatabase>(pool: &sqlx::Pool<DB>) -> Result<(), MigrationError> {
    DB::run_migrations(pool, None).await
}

/// [`migrate`], then the application's migrations `app` (from `sqlx::migrate!()`), under the
/// same guard, so that instances starting together never race on either.
pub async fn migrate_with<DB: SqlDatabase>(
    pool: &sqlx::Pool<DB>,
    app: &Migrator,
) -> Result<(), MigrationError> {
    DB::run_migrations(pool, Some(app)).await
}

/// Whose tables a migration was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tables {
    /// secure-core's (`secure-core/migrations`).
    SecureCore,
    /// The application's (the `Migrator` given to [`migrate_with`]).
    Application,
}

/// A migration that failed: whose tables, and the cause with the database's own message.
/// The connection URL (which may hold a password) is never part of it. `Debug` prints the
/// message, as `main` does.
pub struct MigrationError {
    tables: Tables,
    source: MigrateError,
}

impl MigrationError {
    fn new(tables: Tables, source: impl Into<MigrateError>) -> Self {
        MigrationError {
            tables,
            source: source.into(),
        }
    }

    /// Whose tables failed.
    pub fn tables(&self) -> Tables {
        self.tables
    }
}

impl fmt::Display for MigrationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tables = match self.tables {
            Tables::SecureCore => "secure-core tables",
            Tables::Application => "application tables",
        };
        write!(f, "{tables}: {}", self.source)
    }
}

crate::error::debug_as_display!(MigrationError);

impl std::error::Error for MigrationError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A database secure-core's tables can live in: SQLite and PostgreSQL.
pub trait SqlDatabase: sqlx::Database + sealed::Sealed {
    #[doc(hidden)]
    fn run_migrations<'a>(
        pool: &'a sqlx::Pool<Self>,
        app: Option<&'a Migrator>,
    ) -> impl Future<Output = Result<(), MigrationError>> + Send + 'a;
}

#[cfg(feature = "postgres")]
impl sealed::Sealed for sqlx::Postgres {}

#[cfg(feature = "postgres")]
impl SqlDatabase for sqlx::Postgres {
    async fn run_migrations(
        pool: &sqlx::Pool<Self>,
        app: Option<&Migrator>,
    ) -> Result<(), MigrationError> {
        // Each run takes sqlx's advisory lock for this database: concurrent instances queue.
        SECURE_MIGRATOR
            .run(pool)
            .await
            .map_err(|e| MigrationError::new(Tables::SecureCore, e))?;
        if let Some(app) = app {
            app.run(pool)
                .await
                .map_err(|e| MigrationError::new(Tables::Application, e))?;
        }
        Ok(())
    }
}

#[cfg(feature = "sqlite")]
impl sealed::Sealed for sqlx::Sqlite {}

#[cfg(feature = "sqlite")]
impl SqlDatabase for sqlx::Sqlite {
    async fn run_migrations(
        pool: &sqlx::Pool<Self>,
        app: Option<&Migrator>,
    ) -> Result<(), MigrationError> {
        // sqlx's migrator takes no lock on SQLite, and reads the applied versions before it
        // writes: two processes would both apply version 1, and the second fail. One
        // IMMEDIATE transaction around both runs makes the check and the change one step.
        let mut conn = pool
            .acquire()
            .await
            .map_err(|e| MigrationError::new(Tables::SecureCore, e))?;
        let deadline = Instant::now() + SQLITE_WAIT;
        let mut tx = loop {
            match conn.begin_with("BEGIN IMMEDIATE").await {
                Ok(tx) => break tx,
                // Busy past the connection's busy timeout: another instance is migrating.
                Err(e) if is_busy(&e) && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => return Err(MigrationError::new(Tables::SecureCore, e)),
            }
        };
        // The migrator's own per-migration transactions become savepoints inside this one.
        // `run_direct` is `run` on a connection: sqlx's way around `run`'s `Acquire` bound,
        // which a `Send` future over a borrowed transaction cannot prove.
        let mut ran = SECURE_MIGRATOR
            .run_direct(None, &mut *tx, false)
            .await
            .map_err(|e| MigrationError::new(Tables::SecureCore, e));
        if let (Ok(()), Some(app)) = (&ran, app) {
            ran = app
                .run_direct(None, &mut *tx, false)
                .await
                .map_err(|e| MigrationError::new(Tables::Application, e));
        }
        match ran {
            Ok(()) => tx
                .commit()
                .await
                .map_err(|e| MigrationError::new(Tables::SecureCore, e)),
            Err(e) => {
                // Roll back now: a dropped transaction is rolled back only when its pooled
                // connection is next used, and holds the write lock until then.
                let _ = tx.rollback().await;
                Err(e)
            }
        }
    }
}

/// `SQLITE_BUSY` and its extended codes (`SQLITE_BUSY_SNAPSHOT`, ...).
#[cfg(feature = "sqlite")]
pub(super) fn is_busy(e: &sqlx::Error) -> bool {
    const SQLITE_BUSY: i32 = 5;
    match e {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|c| c.parse::<i32>().ok())
            .is_some_and(|c| c & 0xff == SQLITE_BUSY),
        _ => false,
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use super::*;

    #[tokio::test]
    async fn creates_the_tables_once_and_records_them_in_its_own_history() {
        let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
        migrate(&pool).await.unwrap();
        migrate(&pool).await.unwrap();
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                .fetch_all(&pool)
                .await
                .unwrap();
        assert_eq!(
            tables,
            [
                "_secure_core_migrations",
                "secure_account_links",
                "secure_account_recovery_codes",
                "secure_account_resets",
                "secure_account_signins",
                "secure_accounts",
                "secure_api_keys",
                "secure_refresh_families",
                "secure_refresh_tokens",
                "secure_sessions"
            ]
        );
        let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _secure_core_migrations")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(applied, 5);
    }

    #[tokio::test]
    async fn a_failing_migration_names_its_tables_and_the_database_message() {
        let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
        // A table of the same name with another shape: the index on `subject` cannot be made.
        sqlx::query("CREATE TABLE secure_sessions (id_hash TEXT)")
            .execute(&pool)
            .await
            .unwrap();
        let e = migrate(&pool).await.unwrap_err();
        assert_eq!(e.tables(), Tables::SecureCore);
        let message = e.to_string();
        assert!(message.starts_with("secure-core tables: "), "{message}");
        assert!(message.contains("no such column: subject"), "{message}");
        // Nothing of the failed run stays: the refresh-token tables were rolled back too.
        let tables: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'secure_refresh_tokens'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(tables, 0);
    }
}
