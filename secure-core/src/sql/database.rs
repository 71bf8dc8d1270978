//! [`Database`]: a pool of SQLite or PostgreSQL connections, opened from a URL.

use std::fmt;
#[cfg(feature = "sqlite")]
use std::time::{Duration, Instant};

use sqlx::migrate::Migrator;

use super::migrate::MigrationError;

/// A connection pool to SQLite or PostgreSQL, chosen at run time: what every store, resource
/// and query of a service runs on. Cheap to clone (the pool is shared).
///
/// Open it with [`Database::connect`], or wrap a pool you made (`Database::from(pool)`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Database {
    /// SQLite (feature `sqlite`).
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
    /// PostgreSQL (feature `postgres`).
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
}

/// Which database a [`Database`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl fmt::Display for DatabaseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DatabaseKind::Sqlite => "SQLite",
            DatabaseKind::Postgres => "PostgreSQL",
        })
    }
}

#[cfg(feature = "sqlite")]
impl From<sqlx::SqlitePool> for Database {
    fn from(pool: sqlx::SqlitePool) -> Self {
        Database::Sqlite(pool)
    }
}

#[cfg(feature = "postgres")]
impl From<sqlx::PgPool> for Database {
    fn from(pool: sqlx::PgPool) -> Self {
        Database::Postgres(pool)
    }
}

/// How long opening an SQLite file waits for other instances opening it at the same time.
#[cfg(feature = "sqlite")]
const SQLITE_OPEN_WAIT: Duration = Duration::from_secs(30);

/// Connections per PostgreSQL pool: the server's default allows 100 in all, shared by the
/// instances.
#[cfg(feature = "postgres")]
const POSTGRES_POOL: u32 = 10;

/// Connections per SQLite pool: each is a worker thread, and one writer at a time anyway.
#[cfg(feature = "sqlite")]
const SQLITE_POOL: u32 = 8;

impl Database {
    /// Opens `url`, creating the database when it is missing:
    ///
    /// - `sqlite://notes.db` (a file, in WAL mode so readers and the writer do not wait for
    ///   each other; instances opening a new file together retry while it is busy),
    ///   `sqlite::memory:` (one connection: each would be its own empty database);
    /// - `postgres://user:password@host/db` (`CREATE DATABASE` when the server allows it; an
    ///   instance that loses that race to another connects to the winner's).
    ///
    /// Foreign keys are enforced on SQLite. Errors carry the database's message, never the
    /// URL (which may hold a password).
    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Self::connect_postgres(url).await;
        }
        if url.starts_with("sqlite:") {
            return Self::connect_sqlite(url).await;
        }
        Err(sqlx::Error::Configuration(
            "a database URL starts with sqlite: or postgres://".into(),
        ))
    }

    #[cfg(feature = "postgres")]
    async fn connect_postgres(url: &str) -> Result<Self, sqlx::Error> {
        use sqlx::migrate::MigrateDatabase;
        use sqlx::postgres::PgPoolOptions;
        // Creating needs rights on the server; without them, connect to what exists.
        if let Ok(false) = sqlx::Postgres::database_exists(url).await
            && let Err(e) = sqlx::Postgres::create_database(url).await
            && !matches!(sqlx::Postgres::database_exists(url).await, Ok(true))
        {
            return Err(e);
        }
        let pool = PgPoolOptions::new()
            .max_connections(POSTGRES_POOL)
            .connect(url)
            .await?;
        Ok(Database::Postgres(pool))
    }

    #[cfg(not(feature = "postgres"))]
    async fn connect_postgres(_url: &str) -> Result<Self, sqlx::Error> {
        Err(sqlx::Error::Configuration(
            "secure-core was built without the `postgres` feature".into(),
        ))
    }

    #[cfg(feature = "sqlite")]
    async fn connect_sqlite(url: &str) -> Result<Self, sqlx::Error> {
        use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
        use std::str::FromStr;
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .foreign_keys(true);
        if url.contains(":memory:") || url.contains("mode=memory") {
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await?;
            return Ok(Database::Sqlite(pool));
        }
        // Switching a new file to WAL needs it alone: when several instances open it at
        // once, SQLite answers the others "busy" without waiting, so they try again.
        let options = options.journal_mode(SqliteJournalMode::Wal);
        let deadline = Instant::now() + SQLITE_OPEN_WAIT;
        loop {
            match SqlitePoolOptions::new()
                .max_connections(SQLITE_POOL)
                .connect_with(options.clone())
                .await
            {
                Ok(pool) => return Ok(Database::Sqlite(pool)),
                Err(e) if super::migrate::is_busy(&e) && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    #[cfg(not(feature = "sqlite"))]
    async fn connect_sqlite(_url: &str) -> Result<Self, sqlx::Error> {
        Err(sqlx::Error::Configuration(
            "secure-core was built without the `sqlite` feature".into(),
        ))
    }

    /// SQLite or PostgreSQL.
    pub fn kind(&self) -> DatabaseKind {
        match self {
            #[cfg(feature = "sqlite")]
            Database::Sqlite(_) => DatabaseKind::Sqlite,
            #[cfg(feature = "postgres")]
            Database::Postgres(_) => DatabaseKind::Postgres,
        }
    }

    /// Creates or updates secure-core's tables ([`migrate`](super::migrate)).
    pub async fn migrate(&self) -> Result<(), MigrationError> {
        match self {
            #[cfg(feature = "sqlite")]
            Database::Sqlite(pool) => super::migrate(pool).await,
            #[cfg(feature = "postgres")]
            Database::Postgres(pool) => super::migrate(pool).await,
        }
    }

    /// secure-core's tables, then the application's migrations `app`
    /// (`static APP: Migrator = sqlx::migrate!();`), under one guard
    /// ([`migrate_with`](super::migrate_with)).
    pub async fn migrate_with(&self, app: &Migrator) -> Result<(), MigrationError> {
        match self {
            #[cfg(feature = "sqlite")]
            Database::Sqlite(pool) => super::migrate_with(pool, app).await,
            #[cfg(feature = "postgres")]
            Database::Postgres(pool) => super::migrate_with(pool, app).await,
        }
    }

    /// Closes every connection (at shutdown, so SQLite checkpoints its WAL).
    pub async fn close(&self) {
        match self {
            #[cfg(feature = "sqlite")]
            Database::Sqlite(pool) => pool.close().await,
            #[cfg(feature = "postgres")]
            Database::Postgres(pool) => pool.close().await,
        }
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use super::*;

    #[tokio::test]
    async fn opens_what_the_url_names_and_refuses_anything_else() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        assert_eq!(db.kind(), DatabaseKind::Sqlite);
        db.migrate().await.unwrap();
        let file = std::env::temp_dir().join(format!("secure-db-{}.db", std::process::id()));
        let url = format!("sqlite://{}", file.display());
        let db = Database::connect(&url).await.unwrap();
        let mode: String = db
            .query("PRAGMA journal_mode")
            .fetch_one::<(String,)>()
            .await
            .unwrap()
            .0;
        assert_eq!(mode, "wal");
        db.close().await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
        }
        let e = Database::connect("mysql://root@localhost/db")
            .await
            .unwrap_err();
        assert!(e.to_string().contains("sqlite: or postgres://"), "{e}");
    }
}
