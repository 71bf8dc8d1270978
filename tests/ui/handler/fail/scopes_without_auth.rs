#![allow(unused)]
use secure_core::auth::Scope;
use secure_core::secure_handler;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Scope)]
enum AppScope {
    NotesRead,
}

#[secure_handler(scopes(AppScope::NotesRead))]
async fn list_notes() -> &'static str {
    "notes"
}
fn main() {}
