//! The resource fixture shared by the criterion bench (`resource.rs`) and the instruction
//! counts (`instructions.rs`): one app, one SQLite database, a note read two ways.
//!
//! - `/notes/{id}`: `#[secure_handler(auth)]` taking `Authorized<Note, Read>` (the id's format
//!   checked, the row loaded through the scoped query).
//! - `/manual/{id}`: `#[secure_handler(auth)]` taking `Principal<R>`, the pool and the id as
//!   `Valid<Path<..>>` (the same format rule), running `SELECT .. WHERE id = $1 AND owner_id =
//!   $2` itself: the careful hand-written handler.

pub(crate) use crate::oneshot::send;

use axum::body::Body;
use axum::extract::FromRef;
use axum::http::{HeaderValue, Request, header};
use axum::response::{IntoResponse, Response};
use secure_core::auth::jwt::{AccessTokenKey, AccessTokens};
use secure_core::auth::{Authenticator, Identity, Principal, Role};
use secure_core::config::SecurityConfig;
use secure_core::policy::SecureApp;
use secure_core::policy::SecureRouter;
use secure_core::prelude::*;
use secure_core::ratelimit::RateLimiter;
use secure_core::resource::{Authorized, Read, Resource};
use secure_core::sql::Database;
use secure_core::{SecretBox, secure_handler};
use serde::{Deserialize, Serialize};
use sqlx::sqlite::SqlitePoolOptions;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
pub(crate) enum AppRole {
    Member,
}

#[derive(Debug, Serialize, sqlx::FromRow, Resource)]
#[resource(
    table = "notes",
    owner = "owner_id",
    order = "created_at, id",
    id_pattern = "[A-Za-z0-9_-]{22}"
)]
pub(crate) struct Note {
    id: String,
    title: String,
    body: String,
    created_at: i64,
}

#[derive(Debug, Deserialize, Validated)]
pub(crate) struct NoteId {
    #[validate(pattern = "[A-Za-z0-9_-]{22}")]
    id: String,
}

#[derive(Clone)]
pub(crate) struct AppState {
    db: Database,
}

impl FromRef<AppState> for Database {
    fn from_ref(state: &AppState) -> Database {
        state.db.clone()
    }
}

#[secure_handler(auth)]
async fn authorized(note: Authorized<Note, Read>) -> Json<Note> {
    Json(note.into_inner())
}

const GET: &str = "SELECT id, title, body, created_at FROM notes WHERE id = $1 AND owner_id = $2";

#[secure_handler(auth)]
async fn manual(
    user: Principal<AppRole>,
    State(state): State<AppState>,
    id: Valid<Path<NoteId>>,
) -> Response {
    match find(&state.db, &id.id, user.subject()).await {
        Ok(Some(note)) => Json(note).into_response(),
        Ok(None) => ApiError::NotFound.into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

/// The hand-written query, in a function of its own as services write them (assembly refuses
/// SQL on a loaded resource's table written in a handler's body).
async fn find(db: &Database, id: &str, owner: &str) -> Result<Option<Note>, sqlx::Error> {
    let Database::Sqlite(pool) = db else {
        return Ok(None);
    };
    sqlx::query_as(GET)
        .bind(id)
        .bind(owner)
        .fetch_optional(pool)
        .await
}

/// The note both paths read, owned by `user-1234567` among 200 notes of two users.
pub(crate) const NOTE: &str = "AAAAAAAAAAAAAAAAAAA100";

/// The two paths, in bench order.
pub(crate) const PATHS: [(&str, &str); 2] = [
    ("authorized", "/notes/AAAAAAAAAAAAAAAAAAA100"),
    ("manual", "/manual/AAAAAAAAAAAAAAAAAAA100"),
];

pub(crate) struct Fixture {
    pub(crate) app: SecureApp,
    pub(crate) owner: HeaderValue,
    pub(crate) other: HeaderValue,
}

pub(crate) async fn fixture() -> Fixture {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .expect("sqlite");
    sqlx::query(
        "CREATE TABLE notes (id TEXT PRIMARY KEY, owner_id TEXT NOT NULL, title TEXT NOT NULL, \
         body TEXT NOT NULL, created_at BIGINT NOT NULL)",
    )
    .execute(&pool)
    .await
    .expect("table");
    for i in 0..200 {
        let owner = if i % 2 == 0 {
            "user-1234567"
        } else {
            "user-7654321"
        };
        sqlx::query("INSERT INTO notes VALUES ($1, $2, $3, $4, $5)")
            .bind(format!("AAAAAAAAAAAAAAAAAAA{i:03}"))
            .bind(owner)
            .bind(format!("note {i}"))
            .bind("The body of a note, a few words long.")
            .bind(1_700_000_000_i64 + i)
            .execute(&pool)
            .await
            .expect("row");
    }
    let secret: [u8; 32] = rand::random();
    let tokens = AccessTokens::builder(
        AccessTokenKey::hs256(SecretBox::from(secret.to_vec())).expect("key"),
        "https://auth.example",
        "notes-api",
    )
    .build()
    .expect("config");
    let bearer = |subject: &str| {
        let identity = Identity::new(subject, 1_700_000_000).with_roles(["member"]);
        let token = tokens.issue(&identity).expect("token");
        HeaderValue::from_str(&format!("Bearer {token}")).expect("header")
    };
    let (owner, other) = (bearer("user-1234567"), bearer("user-7654321"));
    let config = SecurityConfig::new()
        .authenticator(Authenticator::new(tokens))
        .rate_limiter(RateLimiter::new().without_default_limit());
    let app = SecureRouter::new()
        .route("/notes/{id}", secure_core::routing::get(authorized))
        .route("/manual/{id}", secure_core::routing::get(manual))
        .with_state(AppState {
            db: Database::Sqlite(pool),
        })
        .into_app(config)
        .expect("the app assembles");
    Fixture { app, owner, other }
}

pub(crate) fn request(path: &str, bearer: &HeaderValue) -> Request<Body> {
    Request::get(path)
        .header(header::AUTHORIZATION, bearer.clone())
        .body(Body::empty())
        .expect("request")
}
