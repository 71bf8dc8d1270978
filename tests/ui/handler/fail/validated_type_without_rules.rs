#![allow(unused)]
use secure_core::prelude::*;
use secure_core::secure_handler;
use secure_core::auth::{Principal, Role};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum AppRole {
    Admin,
    Member,
}

#[derive(serde::Deserialize)]
struct NewNote {
    title: String,
}

#[secure_handler(auth)]
async fn create_note(body: Valid<Json<NewNote>>) -> String {
    body.title.clone()
}
fn main() {}
