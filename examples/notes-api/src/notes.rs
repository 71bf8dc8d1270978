//! `/notes`: each user's own notes. Every statement filters on the owner, so another user's
//! note is simply not found (404), whatever its id.
//!
//! Against: broken object-level authorisation (OWASP API1, ASVS 4.2.1), mass assignment (the
//! inputs have exactly `title` and `body`; ASVS 5.1.2), injection (bind parameters; ASVS
//! 5.3.4) and guessable ids (16 random bytes).

use axum::extract::State;
use axum::http::StatusCode;
use secure_core::prelude::*;
use secure_core::secure_handler;
use serde::{Deserialize, Serialize};

use crate::db::{Db, either, new_id, unix_now};
use crate::{AppRole, AppState};

/// A note as the API returns it; `created_at` is Unix seconds.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub(crate) struct Note {
    id: String,
    title: String,
    body: String,
    created_at: i64,
}

/// `POST /notes` and `PUT /notes/{id}`. Stored and returned exactly as sent (no trimming):
/// what the user wrote is what they get back.
#[derive(Debug, Deserialize, Validated)]
pub(crate) struct NoteInput {
    #[validate(length(min = 1, max = 200), no_control)]
    title: String,
    #[validate(length(max = 10000))]
    body: String,
}

/// `{id}` in `/notes/{id}`: the shape ids are made in (22 base64url characters).
#[derive(Debug, Deserialize, Validated)]
pub(crate) struct NoteId {
    #[validate(pattern = "[A-Za-z0-9_-]{22}")]
    id: String,
}

const LIST: &str = "SELECT id, title, body, created_at FROM notes WHERE owner_id = $1 \
     ORDER BY created_at, id";
const GET: &str = "SELECT id, title, body, created_at FROM notes WHERE id = $1 AND owner_id = $2";
const INSERT: &str = "INSERT INTO notes (id, owner_id, title, body, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $5)";
const UPDATE: &str = "UPDATE notes SET title = $3, body = $4, updated_at = $5 \
     WHERE id = $1 AND owner_id = $2";
const DELETE: &str = "DELETE FROM notes WHERE id = $1 AND owner_id = $2";

async fn find(db: &Db, id: &str, owner: &str) -> Result<Option<Note>, sqlx::Error> {
    either!(Db, db, |pool| sqlx::query_as(GET)
        .bind(id)
        .bind(owner)
        .fetch_optional(pool)
        .await)
}

/// `200 [note, ...]`: the caller's notes, oldest first.
#[secure_handler(auth)]
pub(crate) async fn list_notes(
    user: Principal<AppRole>,
    State(state): State<AppState>,
) -> Result<Json<Vec<Note>>, ApiError> {
    let notes: Vec<Note> = either!(Db, &state.db, |pool| sqlx::query_as(LIST)
        .bind(user.subject())
        .fetch_all(pool)
        .await)
    .map_err(ApiError::internal)?;
    Ok(Json(notes))
}

/// `201` the note.
#[secure_handler(auth, audit = "note.create")]
pub(crate) async fn create_note(
    user: Principal<AppRole>,
    State(state): State<AppState>,
    input: Valid<Json<NoteInput>>,
) -> Result<(StatusCode, Json<Note>), ApiError> {
    let note = Note {
        id: new_id(),
        title: input.title.clone(),
        body: input.body.clone(),
        created_at: unix_now(),
    };
    either!(Db, &state.db, |pool| sqlx::query(INSERT)
        .bind(&note.id)
        .bind(user.subject())
        .bind(&note.title)
        .bind(&note.body)
        .bind(note.created_at)
        .execute(pool)
        .await
        .map(|_| ()))
    .map_err(ApiError::internal)?;
    Ok((StatusCode::CREATED, Json(note)))
}

/// `200` the note, or 404 if the caller has no note with this id.
#[secure_handler(auth)]
pub(crate) async fn get_note(
    user: Principal<AppRole>,
    State(state): State<AppState>,
    id: Valid<Path<NoteId>>,
) -> Result<Json<Note>, ApiError> {
    find(&state.db, &id.id, user.subject())
        .await
        .map_err(ApiError::internal)?
        .map(Json)
        .ok_or(ApiError::NotFound)
}

/// `200` the updated note, or 404.
#[secure_handler(auth, audit = "note.update")]
pub(crate) async fn update_note(
    user: Principal<AppRole>,
    State(state): State<AppState>,
    id: Valid<Path<NoteId>>,
    input: Valid<Json<NoteInput>>,
) -> Result<Json<Note>, ApiError> {
    let changed = either!(Db, &state.db, |pool| sqlx::query(UPDATE)
        .bind(&id.id)
        .bind(user.subject())
        .bind(&input.title)
        .bind(&input.body)
        .bind(unix_now())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
    .map_err(ApiError::internal)?;
    if changed == 0 {
        return Err(ApiError::NotFound);
    }
    find(&state.db, &id.id, user.subject())
        .await
        .map_err(ApiError::internal)?
        .map(Json)
        .ok_or(ApiError::NotFound)
}

/// `204`, or 404.
#[secure_handler(auth, audit = "note.delete")]
pub(crate) async fn delete_note(
    user: Principal<AppRole>,
    State(state): State<AppState>,
    id: Valid<Path<NoteId>>,
) -> Result<StatusCode, ApiError> {
    let deleted = either!(Db, &state.db, |pool| sqlx::query(DELETE)
        .bind(&id.id)
        .bind(user.subject())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
    .map_err(ApiError::internal)?;
    if deleted == 0 {
        Err(ApiError::NotFound)
    } else {
        Ok(StatusCode::NO_CONTENT)
    }
}
