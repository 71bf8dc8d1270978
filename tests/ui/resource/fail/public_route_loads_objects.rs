#![allow(unused)]
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use secure_core::policy::{ObjectAccess, SecureInput};
use secure_core::prelude::*;

/// An input that loads a row through an object check, as `Authorized<Note, Read>` does (the
/// database features are off in this crate).
struct NoteRead;

impl SecureInput for NoteRead {
    const OBJECT: Option<ObjectAccess> = Some(ObjectAccess {
        resource: "Note",
        action: "read",
        table: "notes",
    });
}

impl<S: Send + Sync> FromRequestParts<S> for NoteRead {
    type Rejection = StatusCode;
    async fn from_request_parts(_: &mut Parts, _: &S) -> Result<Self, StatusCode> {
        Ok(NoteRead)
    }
}

// An object check needs a caller, and a public route has none.
#[secure_handler(public)]
async fn peek(note: NoteRead) -> &'static str {
    "note"
}

fn main() {}
