//! The database: SQLite or PostgreSQL, chosen by `DATABASE_URL`, through secure-core's one
//! handle ([`Database`]): one set of SQL for both (bind parameters only, `$1` placeholders,
//! text ids, integer Unix seconds).

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use secure_core::sql::{Database, MigrationError};
use sqlx::migrate::Migrator;

/// The app's own tables (`examples/notes-api/migrations`).
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Opens `url` (`sqlite:...` or `postgres://...`), creating the database if it is missing.
/// Call [`migrate`] next.
pub async fn connect(url: &str) -> Result<Database, sqlx::Error> {
    Database::connect(url).await
}

/// Creates or updates every table: secure-core's (accounts, refresh tokens, sessions), then
/// the app's own. Instances starting together on one database wait for each other's
/// migration rather than race (`secure_core::sql`).
pub async fn migrate(db: &Database) -> Result<(), MigrationError> {
    db.migrate_with(&MIGRATOR).await
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
