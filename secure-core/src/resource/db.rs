//! The scoped queries on the one [`Database`](crate::sql::Database) handle: SQLite or
//! PostgreSQL, whichever features are on.

/// A row type (no database feature: any; the loads need `sqlite` or `postgres`).
#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
pub trait ResourceRow: Send + Unpin {}
#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
impl<T: Send + Unpin> ResourceRow for T {}

/// A row type readable from every database the crate was built for.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use crate::sql::SqlRow as ResourceRow;

#[cfg(any(feature = "sqlite", feature = "postgres"))]
use crate::sql::{Database, Value, bind_all};

/// Runs `$body` with `$pool` bound to whichever pool `$db` holds.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
macro_rules! on_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            #[cfg(feature = "sqlite")]
            Database::Sqlite($pool) => $body,
            #[cfg(feature = "postgres")]
            Database::Postgres($pool) => $body,
        }
    };
}

/// The one statement made per call, the update (its columns vary), composed in this module's
/// parent only from `'static` text (the resource's names, the rule's predicate, the column
/// names, checked as identifiers) and numbers: request data is bound. The other statements
/// are composed once and kept (`&'static str`, which sqlx takes without a copy).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
#[allow(clippy::disallowed_methods)]
fn reviewed(sql: &str) -> sqlx::AssertSqlSafe<&str> {
    sqlx::AssertSqlSafe(sql)
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
impl Database {
    /// One row of `sql` with `$1` = `id` and `$2` = `subject`.
    pub(super) async fn fetch_optional<R: ResourceRow>(
        &self,
        sql: &'static str,
        id: &str,
        subject: &str,
    ) -> Result<Option<R>, sqlx::Error> {
        on_pool!(self, |pool| sqlx::query_as::<_, R>(sql)
            .bind(id)
            .bind(subject)
            .fetch_optional(pool)
            .await)
    }

    /// The rows of `sql` with `args` bound in order, and the id (column `id_column`) of the
    /// last of them, as text.
    pub(super) async fn fetch_page<R: ResourceRow>(
        &self,
        sql: &'static str,
        args: Vec<Value>,
        id_column: &'static str,
    ) -> Result<(Vec<R>, Option<String>), sqlx::Error> {
        use sqlx::Row as _;
        on_pool!(self, |pool| {
            let rows = bind_all!(sqlx::query(sql), args).fetch_all(pool).await?;
            let last = match rows.last() {
                Some(row) => Some(row.try_get::<String, _>(id_column)?),
                None => None,
            };
            // Sized once: collecting into a `Result` loses the length and grew it four times.
            let mut items = Vec::with_capacity(rows.len());
            for row in &rows {
                items.push(R::from_row(row)?);
            }
            Ok((items, last))
        })
    }

    /// Whether `sql` (with `$1` = `subject`, `$2` = `id`) finds a row.
    pub(super) async fn exists(
        &self,
        sql: &'static str,
        subject: &str,
        id: &str,
    ) -> Result<bool, sqlx::Error> {
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(subject)
            .bind(id)
            .fetch_optional(pool)
            .await
            .map(|row| row.is_some()))
    }

    /// The row `sql` (an `UPDATE .. RETURNING`) changed, with `$1` = `id`, `$2` = `subject`
    /// and the values of `columns` from `$3`.
    pub(super) async fn update_returning<R: ResourceRow>(
        &self,
        sql: &str,
        id: &str,
        subject: &str,
        columns: &[(&'static str, Value)],
    ) -> Result<Option<R>, sqlx::Error> {
        on_pool!(self, |pool| {
            let query = sqlx::query_as::<_, R>(reviewed(sql)).bind(id).bind(subject);
            bind_all!(query, columns.iter().map(|(_, v)| v.clone()))
                .fetch_optional(pool)
                .await
        })
    }

    /// The number of rows `sql` changed, with `$1` = `id` and `$2` = `subject`.
    pub(super) async fn execute(
        &self,
        sql: &'static str,
        id: &str,
        subject: &str,
    ) -> Result<u64, sqlx::Error> {
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(id)
            .bind(subject)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
    }
}
