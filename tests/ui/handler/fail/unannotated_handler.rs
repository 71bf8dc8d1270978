#![allow(unused)]
use secure_core::prelude::*;
use secure_core::secure_handler;
use secure_core::auth::{Principal, Role};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum AppRole {
    Admin,
    Member,
}

async fn list_notes() -> &'static str {
    "notes"
}

fn router() -> secure_core::policy::SecureRouter {
    secure_core::policy::SecureRouter::new().route("/notes", secure_core::routing::get(list_notes))
}
fn main() {}
