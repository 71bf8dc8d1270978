//! [`Query`]: one statement on a [`Database`] or in a [`Transaction`], with its values bound
//! (never spliced into the text), on SQLite or PostgreSQL alike.

use sqlx::Row as _;

use super::{Database, Value};

/// A row type read from whichever database a [`Database`] is: `#[derive(sqlx::FromRow)]`
/// structs and tuples of the column types both databases share (`String`, `i64`, `bool`,
/// `f64`, `Vec<u8>`, `Option` of those).
#[cfg(all(feature = "sqlite", feature = "postgres"))]
pub trait SqlRow:
    for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
    + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
    + Send
    + Unpin
{
}
#[cfg(all(feature = "sqlite", feature = "postgres"))]
impl<T> SqlRow for T where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin
{
}

/// A row type read from whichever database a [`Database`] is.
#[cfg(all(feature = "sqlite", not(feature = "postgres")))]
pub trait SqlRow: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + Send + Unpin {}
#[cfg(all(feature = "sqlite", not(feature = "postgres")))]
impl<T> SqlRow for T where T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + Send + Unpin {}

/// A row type read from whichever database a [`Database`] is.
#[cfg(all(feature = "postgres", not(feature = "sqlite")))]
pub trait SqlRow: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin {}
#[cfg(all(feature = "postgres", not(feature = "sqlite")))]
impl<T> SqlRow for T where T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin {}

/// A transaction: its statements see each other's changes and take effect together at
/// [`commit`](Transaction::commit), or not at all (rolled back at [`rollback`](Transaction::rollback)
/// or when dropped).
#[derive(Debug)]
pub struct Transaction {
    inner: Tx,
}

#[derive(Debug)]
enum Tx {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Database {
    /// A statement on this database: bind its `$1`, `$2`, ... with [`Query::bind`], then run
    /// it. The text is `'static`: values are bound, never formatted into it.
    pub fn query(&self, sql: &'static str) -> Query<'_> {
        Query {
            target: Target::Pool(self),
            sql,
            args: Vec::new(),
        }
    }

    /// Starts a transaction.
    pub async fn begin(&self) -> Result<Transaction, sqlx::Error> {
        let inner = match self {
            #[cfg(feature = "sqlite")]
            Database::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
            #[cfg(feature = "postgres")]
            Database::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        };
        Ok(Transaction { inner })
    }
}

impl Transaction {
    /// A statement inside this transaction.
    pub fn query(&mut self, sql: &'static str) -> Query<'_> {
        Query {
            target: Target::Tx(self),
            sql,
            args: Vec::new(),
        }
    }

    /// Makes every change of the transaction take effect.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self.inner {
            #[cfg(feature = "sqlite")]
            Tx::Sqlite(tx) => tx.commit().await,
            #[cfg(feature = "postgres")]
            Tx::Postgres(tx) => tx.commit().await,
        }
    }

    /// Undoes every change of the transaction now (dropping it does too, but only when its
    /// connection is next used; until then SQLite keeps the write lock).
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self.inner {
            #[cfg(feature = "sqlite")]
            Tx::Sqlite(tx) => tx.rollback().await,
            #[cfg(feature = "postgres")]
            Tx::Postgres(tx) => tx.rollback().await,
        }
    }
}

#[derive(Debug)]
enum Target<'a> {
    Pool(&'a Database),
    Tx(&'a mut Transaction),
}

/// One statement and its values; run it with [`execute`](Query::execute) or a `fetch_*`.
#[derive(Debug)]
#[must_use = "a query does nothing until it is executed or fetched"]
pub struct Query<'a> {
    target: Target<'a>,
    sql: &'static str,
    args: Vec<Value>,
}

/// Binds every value to a sqlx query (`Query` or `QueryAs`, either database).
macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for value in $args {
            query = match value {
                Value::Text(v) => query.bind(v),
                Value::Int(v) => query.bind(v),
                Value::Bool(v) => query.bind(v),
                Value::Float(v) => query.bind(v),
                Value::Bytes(v) => query.bind(v),
            };
        }
        query
    }};
}
pub(crate) use bind_all;

/// Runs `$body` with `$ex` the executor of `$target` (a pool or a transaction's connection):
/// the same code, type-checked once per database.
macro_rules! on_target {
    ($target:expr, |$ex:ident| $body:expr) => {
        match $target {
            #[cfg(feature = "sqlite")]
            Target::Pool(Database::Sqlite(pool)) => {
                let $ex = pool;
                $body
            }
            #[cfg(feature = "postgres")]
            Target::Pool(Database::Postgres(pool)) => {
                let $ex = pool;
                $body
            }
            #[cfg(feature = "sqlite")]
            Target::Tx(Transaction {
                inner: Tx::Sqlite(tx),
            }) => {
                let $ex = &mut **tx;
                $body
            }
            #[cfg(feature = "postgres")]
            Target::Tx(Transaction {
                inner: Tx::Postgres(tx),
            }) => {
                let $ex = &mut **tx;
                $body
            }
        }
    };
}

impl Query<'_> {
    /// Binds the next placeholder (`$1`, then `$2`, ...).
    pub fn bind(mut self, value: impl Into<Value>) -> Self {
        self.args.push(value.into());
        self
    }

    /// Runs the statement; the number of rows it changed.
    pub async fn execute(self) -> Result<u64, sqlx::Error> {
        let Query { target, sql, args } = self;
        on_target!(target, |ex| bind_all!(sqlx::query(sql), args)
            .execute(ex)
            .await
            .map(|done| done.rows_affected()))
    }

    /// Every row.
    pub async fn fetch_all<R: SqlRow>(self) -> Result<Vec<R>, sqlx::Error> {
        let Query { target, sql, args } = self;
        on_target!(target, |ex| bind_all!(sqlx::query_as::<_, R>(sql), args)
            .fetch_all(ex)
            .await)
    }

    /// The first row, if any.
    pub async fn fetch_optional<R: SqlRow>(self) -> Result<Option<R>, sqlx::Error> {
        let Query { target, sql, args } = self;
        on_target!(target, |ex| bind_all!(sqlx::query_as::<_, R>(sql), args)
            .fetch_optional(ex)
            .await)
    }

    /// The first row; `sqlx::Error::RowNotFound` when there is none.
    pub async fn fetch_one<R: SqlRow>(self) -> Result<R, sqlx::Error> {
        let Query { target, sql, args } = self;
        on_target!(target, |ex| bind_all!(sqlx::query_as::<_, R>(sql), args)
            .fetch_one(ex)
            .await)
    }

    /// The first column of the first row, as an integer (`COUNT(*)`, `MAX(..)`); `None` when
    /// there is no row or the value is `NULL`.
    pub async fn fetch_i64(self) -> Result<Option<i64>, sqlx::Error> {
        let Query { target, sql, args } = self;
        on_target!(target, |ex| {
            let row = bind_all!(sqlx::query(sql), args).fetch_optional(ex).await?;
            match row {
                Some(row) => row.try_get::<Option<i64>, _>(0),
                None => Ok(None),
            }
        })
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use super::*;

    async fn db() -> Database {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        db.query("CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT, ok BOOLEAN, x DOUBLE PRECISION, b BLOB)")
            .execute()
            .await
            .unwrap();
        db
    }

    #[tokio::test]
    async fn binds_every_kind_of_value_and_reads_it_back() {
        let db = db().await;
        let changed = db
            .query("INSERT INTO t (id, n, ok, x, b) VALUES ($1, $2, $3, $4, $5)")
            .bind("a")
            .bind(7i64)
            .bind(true)
            .bind(1.5f64)
            .bind(vec![1u8, 2])
            .execute()
            .await
            .unwrap();
        assert_eq!(changed, 1);
        db.query("INSERT INTO t (id, n, ok, x, b) VALUES ($1, $2, $3, $4, $5)")
            .bind(String::from("b"))
            .bind(None::<i64>)
            .bind(None::<bool>)
            .bind(None::<f64>)
            .bind(None::<Vec<u8>>)
            .execute()
            .await
            .unwrap();
        type Row = (
            String,
            Option<i64>,
            Option<bool>,
            Option<f64>,
            Option<Vec<u8>>,
        );
        let rows: Vec<Row> = db
            .query("SELECT id, n, ok, x, b FROM t ORDER BY id")
            .fetch_all()
            .await
            .unwrap();
        assert_eq!(
            rows,
            [
                (
                    "a".to_owned(),
                    Some(7),
                    Some(true),
                    Some(1.5),
                    Some(vec![1, 2])
                ),
                ("b".to_owned(), None, None, None, None)
            ]
        );
        // A quote in a value is data, not SQL.
        let none: Option<(String,)> = db
            .query("SELECT id FROM t WHERE id = $1")
            .bind("a' OR '1'='1")
            .fetch_optional()
            .await
            .unwrap();
        assert_eq!(none, None);
        assert_eq!(
            db.query("SELECT COUNT(*) FROM t")
                .fetch_i64()
                .await
                .unwrap(),
            Some(2)
        );
        assert!(matches!(
            db.query("SELECT id FROM t WHERE id = 'zz'")
                .fetch_one::<(String,)>()
                .await,
            Err(sqlx::Error::RowNotFound)
        ));
    }

    #[tokio::test]
    async fn a_transaction_takes_effect_at_commit_or_not_at_all() {
        let db = db().await;
        let mut tx = db.begin().await.unwrap();
        tx.query("INSERT INTO t (id) VALUES ($1)")
            .bind("kept")
            .execute()
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut tx = db.begin().await.unwrap();
        tx.query("INSERT INTO t (id) VALUES ($1)")
            .bind("undone")
            .execute()
            .await
            .unwrap();
        let inside = tx
            .query("SELECT COUNT(*) FROM t")
            .fetch_i64()
            .await
            .unwrap();
        assert_eq!(inside, Some(2));
        tx.rollback().await.unwrap();
        let ids: Vec<(String,)> = db.query("SELECT id FROM t").fetch_all().await.unwrap();
        assert_eq!(ids, [("kept".to_owned(),)]);
    }
}
