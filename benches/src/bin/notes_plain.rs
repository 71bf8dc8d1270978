//! A benchmark baseline, not a service: plain axum + sqlx answering `GET /notes` with the same
//! SELECT notes-api runs (its `AuthorizedList<Note>`'s first page), for ONE owner fixed on
//! the command line, with no security layer at all: no authentication, no rate limit, no
//! headers, no request ids. `benches/notes_load.sh` runs it next to notes-api on the same
//! SQLite file so the two can be compared; it must never be exposed to anyone.
//!
//! ```text
//! notes_plain <ADDR> <DATABASE_URL> <OWNER_ID>
//! notes_plain 127.0.0.1:3001 sqlite:///tmp/notes.db AbCdEfGhIjKlMnOpQrStUv
//! ```
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

/// The statement notes-api's `AuthorizedList<Note>` runs for a first page, character for
/// character (secure_core::resource: the columns, the owner predicate, the order, the page).
const LIST: &str = "SELECT id, title, body, created_at FROM notes WHERE owner_id = $1 \
     ORDER BY created_us, id LIMIT 100";

/// The same fields and JSON as notes-api's `Note`.
#[derive(Debug, Serialize, sqlx::FromRow)]
struct Note {
    id: String,
    title: String,
    body: String,
    created_at: i64,
}

#[derive(Debug, Clone)]
struct AppState {
    pool: SqlitePool,
    owner: Arc<str>,
}

async fn list_notes(State(state): State<AppState>) -> Result<Json<Vec<Note>>, StatusCode> {
    sqlx::query_as(LIST)
        .bind(&*state.owner)
        .fetch_all(&state.pool)
        .await
        .map(Json)
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [addr, url, owner] = args.as_slice() else {
        eprintln!("usage: notes_plain <ADDR> <DATABASE_URL> <OWNER_ID>");
        return ExitCode::FAILURE;
    };
    match run(addr, url, owner).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("notes_plain: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(addr: &str, url: &str, owner: &str) -> Result<(), String> {
    let addr: SocketAddr = addr.parse().map_err(|e| format!("address: {e}"))?;
    // The pool notes-api opens for a SQLite file (`secure_core::sql::Database::connect`), so
    // both pay the same.
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| format!("database URL: {e}"))?
        .foreign_keys(true)
        .journal_mode(SqliteJournalMode::Wal);
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .map_err(|e| format!("database: {e}"))?;
    let app = Router::new()
        .route("/notes", get(list_notes))
        .with_state(AppState {
            pool,
            owner: owner.into(),
        });
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("listen on {addr}: {e}"))?;
    println!("notes_plain (benchmark baseline) listening on http://{addr}");
    axum::serve(listener, app)
        .await
        .map_err(|e| format!("server: {e}"))
}
