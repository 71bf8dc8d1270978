//! `/notes`: each user's own notes. A note is a declared resource: the handlers reach rows only
//! through `Authorized<Note, _>` and `AuthorizedList<Note>`, whose queries carry the owner
//! predicate, so another user's note is simply not found (404), whatever its id.
//!
//! Against: broken object-level authorisation (OWASP API1, ASVS 4.2.1), mass assignment (the
//! inputs have exactly `title` and `body`; ASVS 5.1.2), injection (bind parameters; ASVS
//! 5.3.4) and guessable ids (16 random bytes).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use secure_core::prelude::*;
use secure_core::resource::{Authorized, AuthorizedList, Read, Resource, Write};
use secure_core::secure_handler;
use serde::{Deserialize, Serialize};

use secure_core::accounts::new_id;
use secure_core::sql::Database;

use crate::db::{creation_micros, unix_now};
use crate::{AppRole, AppScope};

/// A note as the API returns it; `created_at` is Unix seconds. Its ids are the 22 base64url
/// characters [`new_id`] makes.
#[derive(Debug, Serialize, sqlx::FromRow, Resource)]
#[resource(
    table = "notes",
    owner = "owner_id",
    order = "created_us, id",
    id_pattern = "[A-Za-z0-9_-]{22}"
)]
pub(crate) struct Note {
    id: String,
    title: String,
    body: String,
    created_at: i64,
    /// Written (`NoteChanges::updated_at`), never read back: not a column of the note's
    /// queries, nor part of the API's note.
    #[sqlx(skip)]
    #[serde(skip_serializing)]
    updated_at: i64,
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

const INSERT: &str = "INSERT INTO notes (id, owner_id, title, body, created_at, updated_at, \
     created_us) VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// `?title=`: the caller's notes with exactly this title.
#[derive(Debug, Deserialize, Validated, Filter)]
#[filter(resource = Note)]
pub(crate) struct NoteFilter {
    #[validate(length(min = 1, max = 200), no_control)]
    title: Option<String>,
}

/// `200 [note, ...]`: the caller's notes, oldest first (to the microsecond), 100 a page.
/// A full page carries `Link: <?after=ID>; rel="next"` (with the same filter); follow it for
/// the next (`?page=1` also works).
#[secure_handler(auth, scopes(AppScope::NotesRead, AppScope::NotesWrite))]
pub(crate) async fn list_notes(notes: AuthorizedList<Note, NoteFilter>) -> Response {
    let next = notes.next_link();
    let mut response = Json(notes.into_inner()).into_response();
    if let Some(next) = next {
        response.headers_mut().insert(header::LINK, next);
    }
    response
}

/// `201` the note.
#[secure_handler(auth, scopes(AppScope::NotesWrite), audit = "note.create")]
pub(crate) async fn create_note(
    user: Principal<AppRole>,
    State(db): State<Database>,
    input: Valid<Json<NoteInput>>,
) -> Result<(StatusCode, Json<Note>), ApiError> {
    let now = unix_now();
    let note = Note {
        id: new_id(),
        title: input.title.clone(),
        body: input.body.clone(),
        created_at: now,
        updated_at: now,
    };
    // The new row's owner is the caller: an assignment, not a check.
    db.query(INSERT)
        .bind(&note.id)
        .bind(user.subject())
        .bind(&note.title)
        .bind(&note.body)
        .bind(note.created_at)
        .bind(note.updated_at)
        .bind(creation_micros())
        .execute()
        .await?;
    Ok((StatusCode::CREATED, Json(note)))
}

/// `200` the note, or 404 if the caller has no note with this id.
#[secure_handler(auth, scopes(AppScope::NotesRead, AppScope::NotesWrite))]
pub(crate) async fn get_note(note: Authorized<Note, Read>) -> Json<Note> {
    Json(note.into_inner())
}

/// `200` the updated note, or 404.
#[secure_handler(auth, scopes(AppScope::NotesWrite), audit = "note.update")]
pub(crate) async fn update_note(
    State(db): State<Database>,
    note: Authorized<Note, Write>,
    input: Valid<Json<NoteInput>>,
) -> Result<Json<Note>, ApiError> {
    let changes = NoteChanges::new()
        .title(input.title.as_str())
        .body(input.body.as_str())
        .updated_at(unix_now());
    note.update(&db, changes).await.map(Json)
}

/// `204`, or 404.
#[secure_handler(auth, scopes(AppScope::NotesWrite), audit = "note.delete")]
pub(crate) async fn delete_note(
    State(db): State<Database>,
    note: Authorized<Note, Write>,
) -> Result<StatusCode, ApiError> {
    if note.delete(&db).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_in_the_format_notes_are_made_with() {
        assert!(Note::valid_id(&new_id()));
        for bad in [
            "",
            "short",
            "AAAAAAAAAAAAAAAAAAAAA=",
            "AAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert!(!Note::valid_id(bad), "{bad}");
        }
    }
}
