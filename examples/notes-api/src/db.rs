//! The database: SQLite or PostgreSQL, chosen by `DATABASE_URL`, with one set of SQL for both
//! (bind parameters only, `$1` placeholders, text ids, integer Unix seconds).
//!
//! secure-core's sqlx stores exist per database type, and `#[secure_handler]` functions cannot
//! be generic, so the two pools are an enum and [`either!`] runs the same statement on
//! whichever is configured.

use std::str::FromStr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secure_core::auth::refresh::{
    NewFamily, NewToken, RefreshTokenStore, Rotation, SqlxRefreshTokenStore, TokenRecord,
};
use secure_core::error::StoreError;
use secure_core::session::{SessionRecord, SessionStore, SqlxSessionStore};
use secure_core::sql::MigrationError;
use sqlx::migrate::{MigrateDatabase, Migrator};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{PgPool, Postgres, SqlitePool};

/// The app's own tables (`examples/notes-api/migrations`).
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Runs `$body` with `$x` bound to the inner value of whichever variant `$value` is: the
/// same code, type-checked once per database.
macro_rules! either {
    ($enum:ident, $value:expr, |$x:ident| $body:expr) => {
        match $value {
            $enum::Sqlite($x) => $body,
            $enum::Postgres($x) => $body,
        }
    };
}
pub(crate) use either;

/// A connection pool to SQLite or PostgreSQL. Cheap to clone.
#[derive(Debug, Clone)]
pub enum Db {
    /// `sqlite://notes.db`, `sqlite::memory:`.
    Sqlite(SqlitePool),
    /// `postgres://user@host/db`.
    Postgres(PgPool),
}

/// The same pool, as secure-core's resource queries take it (a reference count, no new pool).
impl From<&Db> for secure_core::resource::Database {
    fn from(db: &Db) -> Self {
        match db {
            Db::Sqlite(pool) => secure_core::resource::Database::Sqlite(pool.clone()),
            Db::Postgres(pool) => secure_core::resource::Database::Postgres(pool.clone()),
        }
    }
}

/// How long opening an SQLite file waits for other instances opening it at the same time.
const SQLITE_OPEN_WAIT: Duration = Duration::from_secs(30);
/// SQLite's result code for a database file another connection holds.
const SQLITE_BUSY: &str = "5";

/// Opens `url` (`sqlite:...` or `postgres://...`), creating the database if it is missing.
/// Call [`Db::migrate`] next.
pub async fn connect(url: &str) -> Result<Db, sqlx::Error> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        // Creating needs rights on the server; without them, connect to what exists.
        if let Ok(false) = Postgres::database_exists(url).await {
            // Another instance starting at the same moment may create it first: then the
            // CREATE fails, and the database is there all the same.
            if let Err(e) = Postgres::create_database(url).await
                && !matches!(Postgres::database_exists(url).await, Ok(true))
            {
                return Err(e);
            }
        }
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .connect(url)
            .await?;
        return Ok(Db::Postgres(pool));
    }
    if url.starts_with("sqlite:") {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .foreign_keys(true);
        let pool = if url.contains(":memory:") || url.contains("mode=memory") {
            // Every connection to `:memory:` is its own empty database: keep exactly one.
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await?
        } else {
            // WAL: readers do not wait for the writer (and the writer not for readers).
            // Switching a new file to WAL needs it alone: when several instances open it at
            // once, SQLite answers the others "busy" without waiting, so they try again.
            let options = options.journal_mode(SqliteJournalMode::Wal);
            let deadline = Instant::now() + SQLITE_OPEN_WAIT;
            loop {
                match SqlitePoolOptions::new()
                    .max_connections(8)
                    .connect_with(options.clone())
                    .await
                {
                    Ok(pool) => break pool,
                    Err(sqlx::Error::Database(e))
                        if e.code().as_deref() == Some(SQLITE_BUSY)
                            && Instant::now() < deadline =>
                    {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        return Ok(Db::Sqlite(pool));
    }
    Err(sqlx::Error::Configuration(
        "DATABASE_URL must start with sqlite: or postgres://".into(),
    ))
}

impl Db {
    /// Creates or updates every table: secure-core's refresh-token and session tables, then
    /// the app's own migrations. Instances starting together on one database wait for each
    /// other's migration rather than race (`secure_core::sql`).
    pub async fn migrate(&self) -> Result<(), MigrationError> {
        either!(Db, self, |pool| secure_core::sql::migrate_with(
            pool, &MIGRATOR
        )
        .await)
    }

    /// `sqlite` or `postgres`.
    pub fn kind(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    pub(crate) fn refresh_store(&self) -> DbRefreshStore {
        match self {
            Db::Sqlite(p) => DbRefreshStore::Sqlite(SqlxRefreshTokenStore::new(p.clone())),
            Db::Postgres(p) => DbRefreshStore::Postgres(SqlxRefreshTokenStore::new(p.clone())),
        }
    }

    pub(crate) fn session_store(&self) -> DbSessionStore {
        match self {
            Db::Sqlite(p) => DbSessionStore::Sqlite(SqlxSessionStore::new(p.clone())),
            Db::Postgres(p) => DbSessionStore::Postgres(SqlxSessionStore::new(p.clone())),
        }
    }
}

/// A new row id: 16 random bytes, base64url (22 characters). Not guessable, so an id seen
/// once says nothing about the others.
pub(crate) fn new_id() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>())
}

/// Microseconds since the Unix epoch for a new row's `created_us`: lists are ordered by it, so
/// it never repeats and never goes back within this process (two rows in one microsecond, or
/// a clock stepped back, get the last value plus one).
pub(crate) fn creation_micros() -> i64 {
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    let previous = LAST
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| {
            Some(now.max(last.saturating_add(1)))
        })
        .unwrap_or(now);
    now.max(previous.saturating_add(1))
}

/// Seconds since the Unix epoch (0 for a clock before 1970, which no server runs with).
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// secure-core's refresh-token store on whichever database is configured.
#[derive(Debug)]
pub(crate) enum DbRefreshStore {
    Sqlite(SqlxRefreshTokenStore<sqlx::Sqlite>),
    Postgres(SqlxRefreshTokenStore<Postgres>),
}

impl RefreshTokenStore for DbRefreshStore {
    async fn create_family(&self, family: NewFamily, first: NewToken) -> Result<(), StoreError> {
        either!(DbRefreshStore, self, |s| s
            .create_family(family, first)
            .await)
    }

    async fn rotate(
        &self,
        old_hash: &str,
        new: NewToken,
        now: i64,
    ) -> Result<Rotation, StoreError> {
        either!(DbRefreshStore, self, |s| s.rotate(old_hash, new, now).await)
    }

    async fn find(&self, token_hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        either!(DbRefreshStore, self, |s| s.find(token_hash).await)
    }

    async fn revoke_family(&self, family_id: &str, now: i64) -> Result<bool, StoreError> {
        either!(DbRefreshStore, self, |s| s
            .revoke_family(family_id, now)
            .await)
    }

    async fn revoke_subject(&self, subject: &str, now: i64) -> Result<u64, StoreError> {
        either!(DbRefreshStore, self, |s| s
            .revoke_subject(subject, now)
            .await)
    }

    async fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
        either!(DbRefreshStore, self, |s| s.purge_expired(now).await)
    }
}

/// secure-core's session store on whichever database is configured.
#[derive(Debug)]
pub(crate) enum DbSessionStore {
    Sqlite(SqlxSessionStore<sqlx::Sqlite>),
    Postgres(SqlxSessionStore<Postgres>),
}

impl SessionStore for DbSessionStore {
    async fn insert(&self, record: SessionRecord) -> Result<(), StoreError> {
        either!(DbSessionStore, self, |s| s.insert(record).await)
    }

    async fn get(&self, id_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        either!(DbSessionStore, self, |s| s.get(id_hash).await)
    }

    async fn touch(&self, id_hash: &str, last_seen: i64) -> Result<bool, StoreError> {
        either!(DbSessionStore, self, |s| s.touch(id_hash, last_seen).await)
    }

    async fn remove(&self, id_hash: &str) -> Result<bool, StoreError> {
        either!(DbSessionStore, self, |s| s.remove(id_hash).await)
    }

    async fn replace(&self, old_hash: &str, new: SessionRecord) -> Result<bool, StoreError> {
        either!(DbSessionStore, self, |s| s.replace(old_hash, new).await)
    }

    async fn remove_subject(&self, subject: &str) -> Result<u64, StoreError> {
        either!(DbSessionStore, self, |s| s.remove_subject(subject).await)
    }

    async fn purge_expired(
        &self,
        idle_before: i64,
        created_before: i64,
    ) -> Result<u64, StoreError> {
        either!(DbSessionStore, self, |s| s
            .purge_expired(idle_before, created_before)
            .await)
    }
}
