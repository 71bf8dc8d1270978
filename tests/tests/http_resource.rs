//! Object-level authorisation over HTTP: `Authorized<Note, _>` and `AuthorizedList<Note>`
//! behind the whole stack, with two signed-in users on one SQLite database, and the same
//! checks on PostgreSQL (when `SECURE_TEST_POSTGRES_URL` is set). Another user's note
//! answers exactly what a missing one answers.

mod identity_support;

use axum::body::Body;
use axum::extract::FromRef;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use secure_core::auth::jwt::{AccessTokenKey, AccessTokens};
use secure_core::auth::{Authenticator, Identity, Principal, Role};
use secure_core::config::SecurityConfig;
use secure_core::error::AssemblyError;
use secure_core::policy::SecureRouter;
use secure_core::prelude::*;
use secure_core::resource::{
    ActionKind, Authorized, AuthorizedList, Id, NoFilter, PageStart, Read, Resource, Rules, Scope,
    Write,
};
use secure_core::routing::get;
use secure_core::sql::Database;
use secure_core::testing::{CrossUser, Verdict};
use secure_core::{SecretBox, secure_handler};
use serde::Serialize;
use sqlx::sqlite::SqlitePoolOptions;
use tower::ServiceExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum AppRole {
    Member,
    Admin,
}

#[derive(Debug, Serialize, sqlx::FromRow, Resource)]
#[resource(
    table = "notes",
    owner = "owner_id",
    order = "title, id",
    id_pattern = "[a-z0-9]{4}",
    rules
)]
struct Note {
    id: String,
    title: String,
}

impl Rules for Note {
    fn scope(caller: &Identity, action: ActionKind) -> Scope {
        if action == ActionKind::Read && caller.roles.iter().any(|r| r == "admin") {
            Scope::All
        } else {
            Scope::Owner
        }
    }
}

#[derive(Clone)]
struct AppState {
    db: Database,
}

impl FromRef<AppState> for Database {
    fn from_ref(state: &AppState) -> Database {
        state.db.clone()
    }
}

#[secure_handler(auth)]
async fn get_note(note: Authorized<Note, Read>) -> Json<Note> {
    Json(note.into_inner())
}

#[secure_handler(auth, audit = "note.delete")]
async fn delete_note(
    State(state): State<AppState>,
    note: Authorized<Note, Write>,
) -> Result<StatusCode, ApiError> {
    note.delete(&state.db).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[secure_handler(auth)]
async fn list_notes(notes: AuthorizedList<Note>) -> Json<Vec<Note>> {
    Json(notes.into_inner())
}

/// What the kit must catch: a note loaded by its id alone, through the escape hatch.
#[secure_handler(
    auth,
    unvalidated(id, reason = "the kit's negative case: loads by id alone")
)]
async fn leaky(State(state): State<AppState>, id: Path<Id<Note>>) -> Result<Json<Note>, ApiError> {
    let Database::Sqlite(pool) = &state.db else {
        return Err(ApiError::NotFound);
    };
    sqlx::query_as("SELECT id, title FROM notes WHERE id = $1")
        .bind(id.as_str())
        .fetch_optional(pool)
        .await
        .map_err(ApiError::internal)?
        .map(Json)
        .ok_or(ApiError::NotFound)
}

/// Reads notes with its own SQL and no declaration: assembly refuses it.
#[secure_handler(auth)]
async fn newest(
    user: Principal<AppRole>,
    State(state): State<AppState>,
) -> Result<Json<Note>, ApiError> {
    let _ = user;
    let Database::Sqlite(pool) = &state.db else {
        return Err(ApiError::NotFound);
    };
    sqlx::query_as("SELECT id, title FROM Notes ORDER BY id DESC LIMIT 1")
        .fetch_optional(pool)
        .await
        .map_err(ApiError::internal)?
        .map(Json)
        .ok_or(ApiError::NotFound)
}

/// Counts every note, for an administrator, through the one database handle: not one
/// caller's rows on purpose, declared so the policy table says why.
#[secure_handler(
    auth,
    reads(notes, reason = "the number of notes of every user, for the operators")
)]
async fn count_notes(State(state): State<AppState>) -> Result<String, ApiError> {
    let count = state
        .db
        .query("SELECT COUNT(*) FROM notes")
        .fetch_i64()
        .await?;
    Ok(count.unwrap_or(0).to_string())
}

/// The same count, undeclared.
#[secure_handler(auth)]
async fn count_undeclared(State(state): State<AppState>) -> Result<String, ApiError> {
    let count = state
        .db
        .query("SELECT COUNT(*) FROM notes")
        .fetch_i64()
        .await?;
    Ok(count.unwrap_or(0).to_string())
}

const TOUCH: &str = "UPDATE notes SET title = 'seen' WHERE id = $1";

/// The same through a constant.
#[secure_handler(auth)]
async fn touch(State(state): State<AppState>) -> Result<StatusCode, ApiError> {
    let Database::Sqlite(pool) = &state.db else {
        return Err(ApiError::NotFound);
    };
    sqlx::query(TOUCH)
        .bind("aaa1")
        .execute(pool)
        .await
        .map_err(ApiError::internal)?;
    Ok(StatusCode::NO_CONTENT)
}

#[secure_handler(auth, roles(Member))]
async fn whoami(user: Principal<AppRole>) -> String {
    user.subject().to_owned()
}

fn tokens(key: [u8; 32]) -> AccessTokens {
    let key = AccessTokenKey::hs256(SecretBox::from(key.to_vec())).unwrap();
    AccessTokens::builder(key, "https://auth.test", "notes")
        .build()
        .unwrap()
}

const SCHEMA: [&str; 2] = [
    "CREATE TABLE notes (id TEXT PRIMARY KEY, owner_id TEXT NOT NULL, title TEXT NOT NULL)",
    "INSERT INTO notes VALUES ('aaa1', 'alice', 'a1'), ('aaa2', 'alice', 'a2'), \
     ('bbb1', 'bob', 'b1')",
];

async fn database() -> Database {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .unwrap();
    for sql in SCHEMA {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    Database::Sqlite(pool)
}

struct App {
    app: secure_core::policy::SecureApp,
    tokens: AccessTokens,
}

fn routes() -> SecureRouter<AppState> {
    SecureRouter::new()
        .route("/notes", get(list_notes))
        .route("/notes/{id}", get(get_note).delete(delete_note))
        .route("/me", get(whoami))
}

async fn app() -> App {
    assemble(routes()).await
}

async fn assemble(routes: SecureRouter<AppState>) -> App {
    assemble_on(routes, database().await)
}

fn assemble_on(routes: SecureRouter<AppState>, db: Database) -> App {
    let key: [u8; 32] = rand::random();
    let router = routes.with_state(AppState { db });
    let config = SecurityConfig::new().authenticator(Authenticator::new(tokens(key)));
    App {
        app: router.into_app(config).expect("the app assembles"),
        tokens: tokens(key),
    }
}

impl App {
    async fn send(&self, method: &str, path: &str, who: &Identity) -> (StatusCode, String) {
        let token = self.tokens.issue(who).unwrap();
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }
}

fn user(name: &str) -> Identity {
    Identity::new(name, 1_700_000_000).with_roles(["member"])
}

#[tokio::test]
async fn another_users_note_is_indistinguishable_from_a_missing_one() {
    isolation(&app().await).await;
}

#[tokio::test]
async fn writes_and_lists_are_scoped_and_rules_widen_reads_only() {
    scopes(&app().await).await;
}

#[tokio::test]
async fn on_postgres_too() {
    let Some(pg) = identity_support::PostgresDb::new("http_resource::on_postgres_too").await else {
        return;
    };
    for sql in SCHEMA {
        sqlx::query(sql).execute(&pg.pool).await.unwrap();
    }
    let app = assemble_on(routes(), Database::Postgres(pg.pool.clone()));
    isolation(&app).await;
    scopes(&app).await;
    pg.cleanup().await;
}

async fn isolation(app: &App) {
    let (alice, bob) = (user("alice"), user("bob"));
    let (status, body) = app.send("GET", "/notes/aaa1", &alice).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, r#"{"id":"aaa1","title":"a1"}"#);

    let (foreign, foreign_body) = app.send("GET", "/notes/aaa1", &bob).await;
    let (missing, missing_body) = app.send("GET", "/notes/zzz9", &bob).await;
    let (malformed, malformed_body) = app.send("GET", "/notes/x'%20OR%201=1", &bob).await;
    assert_eq!(foreign, StatusCode::NOT_FOUND);
    assert_eq!((missing, malformed), (foreign, foreign));
    assert_eq!(foreign_body, missing_body);
    assert_eq!(foreign_body, malformed_body);
    assert!(!foreign_body.contains("a1"), "{foreign_body}");
}

async fn scopes(app: &App) {
    let (alice, bob) = (user("alice"), user("bob"));
    let (status, _) = app.send("DELETE", "/notes/aaa1", &bob).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.send("GET", "/notes/aaa1", &alice).await.0,
        StatusCode::OK
    );

    let (_, list) = app.send("GET", "/notes", &bob).await;
    assert_eq!(list, r#"[{"id":"bbb1","title":"b1"}]"#);
    // The query string reads as any validated query: percent-decoded, unknown parameters
    // and malformed numbers refused (422), as a body's are.
    assert_eq!(app.send("GET", "/notes?page=%30", &bob).await.1, list);
    for refused in [
        "/notes?page=x",
        "/notes?page=-1",
        "/notes?page=1&page=2",
        "/notes?page=99999999999",
        "/notes?owner_id=aaa",
        "/notes?limit=1000",
    ] {
        let (status, body) = app.send("GET", refused, &bob).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{refused}: {body}"
        );
    }
    let (_, unknown) = app.send("GET", "/notes?owner_id=aaa", &bob).await;
    assert!(unknown.contains("unknown_field"), "{unknown}");

    let admin = Identity::new("root", 1_700_000_000).with_roles(["admin"]);
    let (_, all) = app.send("GET", "/notes", &admin).await;
    assert_eq!(all.matches("\"id\"").count(), 3, "{all}");
    assert_eq!(
        app.send("GET", "/notes/aaa1", &admin).await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.send("DELETE", "/notes/aaa1", &admin).await.0,
        StatusCode::NOT_FOUND
    );

    assert_eq!(
        app.send("DELETE", "/notes/aaa1", &alice).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.send("GET", "/notes/aaa1", &alice).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_policy_table_shows_the_object_column() {
    let app = app().await;
    let table = app.app.policies().to_string();
    let line = |path: &str, method: &str| {
        table
            .lines()
            .find(|l| l.starts_with(method) && l.split_whitespace().nth(1) == Some(path))
            .unwrap_or_else(|| panic!("{method} {path} in\n{table}"))
            .to_owned()
    };
    assert!(table.lines().next().unwrap().contains("OBJECT"), "{table}");
    assert!(line("/notes/{id}", "GET").contains("Note: read"), "{table}");
    assert!(
        line("/notes/{id}", "DELETE").contains("Note: write"),
        "{table}"
    );
    assert!(line("/notes", "GET").contains("Note: list"), "{table}");
    assert!(line("/me", "GET").contains(" - "), "{table}");
}

#[tokio::test]
async fn the_cross_user_kit_passes_on_checked_routes_and_reports_each() {
    let app = app().await;
    let (alice, bob) = (token(&app, "alice"), token(&app, "bob"));
    let report = CrossUser::new(&app.app, &alice, &bob)
        .row("Note", "aaa1")
        .run()
        .await;
    report.assert_no_leaks();
    let tried: Vec<&str> = report.probes.iter().map(|p| p.route.as_str()).collect();
    assert_eq!(
        tried,
        ["GET /notes", "DELETE /notes/{id}", "GET /notes/{id}"],
        "{report}"
    );
    // The probes changed nothing: alice's note is still there.
    assert_eq!(
        app.send("GET", "/notes/aaa1", &user("alice")).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_cross_user_kit_catches_a_handler_that_loads_by_id_alone() {
    let app = assemble(routes().route("/leaky/{id}", get(leaky))).await;
    let (alice, bob) = (token(&app, "alice"), token(&app, "bob"));
    let report = CrossUser::new(&app.app, &alice, &bob)
        .row("Note", "aaa1")
        .run()
        .await;
    let leaks: Vec<&str> = report.failures().iter().map(|p| p.route.as_str()).collect();
    assert_eq!(leaks, ["GET /leaky/{id}"], "{report}");
    assert!(report.to_string().contains("GET /leaky/{id}"), "{report}");
    let failed = std::panic::catch_unwind(|| report.assert_no_leaks());
    assert!(failed.is_err());
}

#[tokio::test]
async fn the_cross_user_kit_reports_a_probe_without_control() {
    let app = app().await;
    let (alice, bob) = (token(&app, "alice"), token(&app, "bob"));
    // A row alice does not hold: her own request fails too, so bob's 404 proves nothing.
    let report = CrossUser::new(&app.app, &alice, &bob)
        .row("Note", "bbb1")
        .run()
        .await;
    let get = report
        .probes
        .iter()
        .find(|p| p.route == "GET /notes/{id}")
        .unwrap();
    assert_eq!(get.verdict, Verdict::NoControl, "{report}");
    assert!(std::panic::catch_unwind(|| report.assert_no_leaks()).is_err());
}

fn token(app: &App, name: &str) -> String {
    app.tokens.issue(&user(name)).unwrap()
}

/// A row with a column updates write and reads do not carry.
#[derive(Debug, sqlx::FromRow, Resource)]
#[resource(table = "notes", owner = "owner_id", id_pattern = "[a-z0-9]{4}")]
#[allow(dead_code)]
struct Stamped {
    id: String,
    title: String,
    #[sqlx(skip)]
    updated_at: i64,
}

#[test]
fn a_skipped_field_is_written_not_read() {
    assert_eq!(Stamped::COLUMNS, "id, title");
    let changes: secure_core::resource::Changes =
        StampedChanges::new().title("t").updated_at(7).into();
    let columns: Vec<&str> = changes.columns().iter().map(|(c, _)| *c).collect();
    assert_eq!(columns, ["title", "updated_at"]);
}

#[test]
fn the_derive_reads_names_from_the_attribute_and_columns_from_the_fields() {
    assert_eq!(Note::NAME, "Note");
    assert_eq!(Note::TABLE, "notes");
    assert_eq!((Note::ID, Note::OWNER), ("id", "owner_id"));
    assert_eq!(Note::COLUMNS, "id, title");
    assert_eq!(Note::ORDER, "title, id");
    assert_eq!(Note::PAGE, secure_core::resource::MAX_PAGE);
    assert!(Note::valid_id("ab12"));
    for bad in ["ab1", "ab123", "AB12", "ab 1", "ab1\n"] {
        assert!(!Note::valid_id(bad), "{bad:?}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_refused_object_is_one_audit_event_without_the_row() {
    let app = app().await;
    let ((status, _), log) =
        secure_tests::with_logs(app.send("GET", "/notes/aaa1", &user("bob"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let events: Vec<&str> = log.lines().filter(|l| l.contains("authz.object")).collect();
    assert_eq!(events.len(), 1, "{log}");
    assert!(events[0].contains("outcome=\"denied\""), "{log}");
    assert!(events[0].contains("subject=bob "), "{log}");
    assert!(events[0].contains("route=/notes/{id} "), "{log}");
    // Neither the id asked for nor anything of the row (the request id, random hex, aside).
    let fields = events[0].split("request_id=").next().unwrap();
    assert!(!fields.contains("aaa1"), "{log}");
}

#[tokio::test]
async fn a_handler_reading_a_resource_table_with_its_own_sql_stops_start_up() {
    for (path, handler) in [
        ("/newest", get(newest)),
        ("/touch", secure_core::routing::post(touch)),
        // Through `Database::query` as through sqlx.
        ("/count", get(count_undeclared)),
    ] {
        let key: [u8; 32] = rand::random();
        let router = routes().route(path, handler).with_state(AppState {
            db: database().await,
        });
        let config = SecurityConfig::new().authenticator(Authenticator::new(tokens(key)));
        let err = router.into_app(config).unwrap_err();
        assert!(
            matches!(&err, AssemblyError::UncheckedObjectQuery { route, table }
                if route.ends_with(path) && table == "notes"),
            "{err}"
        );
        assert!(err.to_string().contains("Authorized<..>"), "{err}");
    }
    // Declared raw input (the kit's negative case) assembles: its row says why.
    let app = assemble(routes().route("/leaky/{id}", get(leaky))).await;
    assert!(app.app.policies().to_string().contains("loads by id alone"));
    // A declared read assembles, shows in the READS column, and serves.
    let app = assemble(routes().route("/count", get(count_notes))).await;
    let table = app.app.policies().to_string();
    assert!(table.contains("READS"), "{table}");
    assert!(
        table.contains("notes: the number of notes of every user, for the operators"),
        "{table}"
    );
    let (status, body) = app.send("GET", "/count", &user("alice")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "3"));
}

/// Notes readable by their owner and by the users they are shared with; written by the owner.
#[derive(Debug, sqlx::FromRow, Resource)]
#[resource(
    table = "notes",
    owner = "owner_id",
    order = "title, id",
    id_pattern = "[a-z0-9]{4}",
    rules
)]
struct SharedNote {
    id: String,
    title: String,
}

impl Rules for SharedNote {
    fn scope(_caller: &Identity, action: ActionKind) -> Scope {
        match action {
            ActionKind::Read => Scope::Where(
                "owner_id = $subject OR id IN (SELECT note_id FROM shares WHERE user_id = $subject)",
            ),
            ActionKind::Write => Scope::Owner,
        }
    }
}

const SHARES: [&str; 2] = [
    "CREATE TABLE shares (note_id TEXT NOT NULL, user_id TEXT NOT NULL)",
    "INSERT INTO shares VALUES ('aaa2', 'bob')",
];

/// A `Where` rule: its predicate binds the subject twice, on either database.
async fn shared_rules(db: &Database) {
    let bob = user("bob");
    let read = |id: &'static str| {
        let (db, bob) = (db.clone(), bob.clone());
        async move { Authorized::<SharedNote, Read>::load(&db, &bob, id).await }
    };
    let shared = read("aaa2").await.unwrap();
    assert_eq!((shared.id.as_str(), shared.title.as_str()), ("aaa2", "a2"));
    assert_eq!(read("bbb1").await.unwrap().title, "b1");
    assert!(matches!(read("aaa1").await, Err(ApiError::NotFound)));
    assert!(matches!(
        Authorized::<SharedNote, Write>::load(db, &bob, "aaa2").await,
        Err(ApiError::NotFound)
    ));
    let list = |start: PageStart<SharedNote>| {
        let bob = bob.clone();
        async move {
            AuthorizedList::<SharedNote>::load(db, &bob, &NoFilter {}, &start)
                .await
                .map(|list| {
                    list.into_inner()
                        .into_iter()
                        .map(|n| n.title)
                        .collect::<Vec<String>>()
                })
        }
    };
    assert_eq!(list(PageStart::Offset(0)).await.unwrap(), ["a2", "b1"]);
    // A keyset page: its cursor's order values read through the same rule.
    let after = |id: &str| PageStart::After(Id::parse(id).unwrap());
    assert_eq!(list(after("aaa2")).await.unwrap(), ["b1"]);
    assert!(list(after("bbb1")).await.unwrap().is_empty());
    assert!(matches!(list(after("aaa1")).await, Err(ApiError::NotFound)));
}

#[tokio::test]
async fn where_rules_on_sqlite() {
    let db = database().await;
    let Database::Sqlite(pool) = &db else {
        unreachable!("an SQLite database")
    };
    for sql in SHARES {
        sqlx::query(sql).execute(pool).await.unwrap();
    }
    shared_rules(&db).await;
}

#[tokio::test]
async fn where_rules_on_postgres() {
    let Some(pg) =
        identity_support::PostgresDb::new("http_resource::where_rules_on_postgres").await
    else {
        return;
    };
    for sql in SCHEMA.into_iter().chain(SHARES) {
        sqlx::query(sql).execute(&pg.pool).await.unwrap();
    }
    shared_rules(&Database::Postgres(pg.pool.clone())).await;
    pg.cleanup().await;
}
