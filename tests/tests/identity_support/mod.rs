//! Shared by the refresh, session and csrf suites: an audit-event recorder, and the stores
//! each test body runs against (memory, SQLite in a temp file, PostgreSQL when
//! `SECURE_TEST_POSTGRES_URL` is set; see `.ci/postgres.sh`).
#![allow(dead_code, unreachable_pub)]

use std::cell::RefCell;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};

use secure_core::auth::refresh::{MemoryRefreshTokenStore, SqlRefreshTokenStore};
use secure_core::session::{MemorySessionStore, SqlSessionStore};
use secure_core::sql::Database;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{PgPool, SqlitePool};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// One audit event (target `security::audit`) as its fixed fields.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditEvent {
    pub event: String,
    pub outcome: String,
    pub subject: String,
    pub reason: String,
}

/// Every event's fields, audit or not, as text: to check that no secret was logged.
#[derive(Clone, Default)]
pub struct Recorder {
    audit: Arc<Mutex<Vec<AuditEvent>>>,
    all_text: Arc<Mutex<String>>,
}

impl Recorder {
    /// The audit events so far.
    pub fn events(&self) -> Vec<AuditEvent> {
        self.audit.lock().unwrap().clone()
    }

    /// Whether an audit event with this name, outcome and reason was recorded.
    pub fn has(&self, event: &str, outcome: &str, reason: &str) -> bool {
        self.events()
            .iter()
            .any(|e| e.event == event && e.outcome == outcome && e.reason == reason)
    }

    /// The event with this reason, if any.
    pub fn find(&self, reason: &str) -> Option<AuditEvent> {
        self.events().into_iter().find(|e| e.reason == reason)
    }

    /// Every field of every event, as text.
    pub fn text(&self) -> String {
        self.all_text.lock().unwrap().clone()
    }

    pub fn clear(&self) {
        self.audit.lock().unwrap().clear();
    }
}

struct Fields<'a> {
    audit: &'a mut AuditEvent,
    text: &'a mut String,
}

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.set(field, value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.set(field, format!("{value:?}"));
    }
}

impl Fields<'_> {
    fn set(&mut self, field: &Field, value: String) {
        self.text.push_str(&value);
        self.text.push('\n');
        match field.name() {
            "event" => self.audit.event = value,
            "outcome" => self.audit.outcome = value,
            "subject" => self.audit.subject = value,
            "reason" => self.audit.reason = value,
            _ => {}
        }
    }
}

impl Recorder {
    fn on_event(&self, event: &tracing::Event<'_>) {
        let mut audit = AuditEvent::default();
        let mut text = String::new();
        event.record(&mut Fields {
            audit: &mut audit,
            text: &mut text,
        });
        self.all_text.lock().unwrap().push_str(&text);
        if event.metadata().target() == "security::audit" {
            self.audit.lock().unwrap().push(audit);
        }
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Recorder>> = const { RefCell::new(None) };
}

/// The one global subscriber of the test binary: hands each event to the recorder of the
/// thread that emitted it. (A thread-local `set_default` per test races with other tests'
/// subscribers being dropped, which rebuilds tracing's global interest cache and can lose an
/// event now and then; one global dispatcher never changes.)
struct PerThread;

impl<S: tracing::Subscriber> Layer<S> for PerThread {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        CURRENT.with(|current| {
            if let Some(recorder) = current.borrow().as_ref() {
                recorder.on_event(event);
            }
        });
    }
}

/// Stops recording on this thread when dropped.
pub struct RecordGuard(());

impl Drop for RecordGuard {
    fn drop(&mut self) {
        CURRENT.with(|current| current.borrow_mut().take());
    }
}

/// Records events on this thread until the guard drops. Use it in `current_thread` tests
/// (the default of `#[tokio::test]`), where spawned tasks run on the same thread.
pub fn record() -> (Recorder, RecordGuard) {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let subscriber = tracing_subscriber::registry().with(PerThread);
        tracing::subscriber::set_global_default(subscriber).unwrap();
    });
    let recorder = Recorder::default();
    CURRENT.with(|current| *current.borrow_mut() = Some(recorder.clone()));
    (recorder, RecordGuard(()))
}

/// Everything a store keeps, as text: to check no raw token or session id is stored.
pub trait Inspect {
    fn stored_text(&self) -> impl std::future::Future<Output = String> + Send;
}

impl Inspect for MemoryRefreshTokenStore {
    async fn stored_text(&self) -> String {
        format!("{:?}", self.token_hashes())
    }
}

impl Inspect for MemorySessionStore {
    async fn stored_text(&self) -> String {
        format!("{:?}", self.records())
    }
}

const REFRESH_DUMP: &str = "SELECT t.token_hash || ' ' || t.family_id || ' ' || f.subject \
     FROM secure_refresh_tokens t JOIN secure_refresh_families f ON f.family_id = t.family_id";
const SESSION_DUMP: &str =
    "SELECT id_hash || ' ' || subject || ' ' || roles || ' ' || amr FROM secure_sessions";

async fn dump(db: &Database, sql: &'static str) -> String {
    let rows: Vec<(String,)> = db.query(sql).fetch_all().await.unwrap();
    rows.into_iter().map(|r| r.0 + "\n").collect()
}

impl Inspect for SqlRefreshTokenStore {
    async fn stored_text(&self) -> String {
        dump(self.database(), REFRESH_DUMP).await
    }
}

impl Inspect for SqlSessionStore {
    async fn stored_text(&self) -> String {
        dump(self.database(), SESSION_DUMP).await
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// A SQLite database in a fresh temporary file (several connections, so concurrent tests
/// exercise real locking). The file is deleted by [`SqliteDb::cleanup`].
pub struct SqliteDb {
    pub pool: SqlitePool,
    path: std::path::PathBuf,
}

impl SqliteDb {
    pub async fn new() -> Self {
        let path = std::env::temp_dir().join(format!("{}.db", unique("secure_test")));
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .unwrap();
        SqliteDb { pool, path }
    }

    pub async fn cleanup(self) {
        self.pool.close().await;
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut p = self.path.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}

/// A PostgreSQL schema of its own (so tests running in parallel, and `purge_expired`, do
/// not see each other's rows), or `None` when `SECURE_TEST_POSTGRES_URL` is unset.
pub struct PostgresDb {
    pub pool: PgPool,
    url: String,
    schema: String,
}

impl PostgresDb {
    // Reviewed: DDL with a schema name the test made (no bind parameters for identifiers).
    #[allow(clippy::disallowed_methods)]
    pub async fn new(test: &str) -> Option<Self> {
        let Ok(url) = std::env::var("SECURE_TEST_POSTGRES_URL") else {
            secure_tests::skipped(
                test,
                "PostgreSQL: SECURE_TEST_POSTGRES_URL (`. .ci/postgres.sh`)",
            );
            return None;
        };
        let schema = unique("t");
        let admin = PgPool::connect(&url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        let options = PgConnectOptions::from_str(&url)
            .unwrap()
            .options([("search_path", schema.as_str())]);
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .unwrap();
        Some(PostgresDb { pool, url, schema })
    }

    // Reviewed: as in `new`.
    #[allow(clippy::disallowed_methods)]
    pub async fn cleanup(self) {
        self.pool.close().await;
        if let Ok(admin) = PgPool::connect(&self.url).await {
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA {} CASCADE",
                self.schema
            )))
            .execute(&admin)
            .await;
            admin.close().await;
        }
    }
}

/// Runs each named generic test body (`async fn name<S: Store + Inspect>(store: S)`) against
/// the memory, SQLite and PostgreSQL stores, as `memory::name`, `sqlite::name` and
/// `postgres::name`.
#[allow(unused_macros)]
macro_rules! for_each_store {
    ($memory:expr, $sqlx:ident; $($name:ident),* $(,)?) => {
        mod memory {
            #[allow(unused_imports)]
            use super::*;

            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($memory).await;
                }
            )*
        }

        mod sqlite {
            #[allow(unused_imports)]
            use super::*;

            $(
                #[tokio::test]
                async fn $name() {
                    let db = crate::identity_support::SqliteDb::new().await;
                    let database = secure_core::sql::Database::from(db.pool.clone());
                    database.migrate().await.unwrap();
                    let store = $sqlx::new(database);
                    super::$name(store).await;
                    db.cleanup().await;
                }
            )*
        }

        mod postgres {
            #[allow(unused_imports)]
            use super::*;

            $(
                #[tokio::test]
                async fn $name() {
                    let Some(db) =
                        crate::identity_support::PostgresDb::new(stringify!($name)).await
                    else {
                        return;
                    };
                    let database = secure_core::sql::Database::from(db.pool.clone());
                    database.migrate().await.unwrap();
                    let store = $sqlx::new(database);
                    super::$name(store).await;
                    db.cleanup().await;
                }
            )*
        }
    };
}
