#![allow(unused)]
use secure_core::auth::Scope;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Scope)]
enum AppScope {
    NotesRead(u8),
    #[scope(rename = "notes write")]
    NotesWrite,
}
fn main() {}
