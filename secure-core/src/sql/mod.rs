//! One database handle for a service on SQLite or PostgreSQL (features `sqlite`, `postgres`;
//! without them only [`Value`] is here, for resources' change sets):
//! `Database`, chosen at run time from a URL, is what the refresh-token and session stores,
//! the resources' scoped queries and the application's own queries all run on. One set of SQL
//! serves both databases (`$1` placeholders, bind parameters only, `&'static str` statements:
//! SQL built from strings does not compile).
//!
#![cfg_attr(feature = "sqlite", doc = "```")]
#![cfg_attr(not(feature = "sqlite"), doc = "```ignore")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use secure_core::sql::Database;
//!
//! let db = Database::connect("sqlite::memory:").await?; // or postgres://user@host/notes
//! db.migrate().await?; // secure-core's tables; `migrate_with(&APP)` adds the app's
//! db.query("CREATE TABLE notes (id TEXT PRIMARY KEY, title TEXT NOT NULL, stars BIGINT)")
//!     .execute()
//!     .await?;
//! db.query("INSERT INTO notes (id, title, stars) VALUES ($1, $2, $3)")
//!     .bind("n1")
//!     .bind("groceries")
//!     .bind(None::<i64>)
//!     .execute()
//!     .await?;
//! let row: Option<(String, Option<i64>)> = db
//!     .query("SELECT title, stars FROM notes WHERE id = $1")
//!     .bind("n1")
//!     .fetch_optional()
//!     .await?;
//! assert_eq!(row, Some(("groceries".to_owned(), None)));
//! # Ok(())
//! # }
//! ```
//!
//! Migrations: `migrate` runs secure-core's (`secure-core/migrations`, history in the table
//! `_secure_core_migrations`); `migrate_with` runs the application's own sqlx migrations
//! right after, under the same guard. Instances that start together on one database wait
//! for each other instead of racing on `CREATE TABLE`:
//!
//! - PostgreSQL: sqlx's migrator holds an advisory lock (`pg_advisory_lock`) for each run, so
//!   one instance migrates while the others wait, then find nothing left to do.
//! - SQLite: both runs happen in one `BEGIN IMMEDIATE` transaction, which holds the
//!   database's write lock from the start; another process waits for it (retrying while the
//!   file is busy, for up to `SQLITE_WAIT`) and then sees the migrations applied.
//!
//! A failure names the tables and the database's own message (never the connection URL).

#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod database;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod migrate;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod query;
mod value;

#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use database::{Database, DatabaseKind};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use migrate::{MigrationError, SQLITE_WAIT, SqlDatabase, Tables, migrate, migrate_with};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) use query::bind_all;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use query::{Query, SqlRow, Transaction};
pub use value::Value;
