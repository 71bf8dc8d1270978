#![allow(unused)]
use secure_core::auth::Role;
use secure_core::secure_handler;

// A role is not a scope: a route's scopes are variants of a `#[derive(Scope)]` enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum AppRole {
    Admin,
}

#[secure_handler(auth, scopes(AppRole::Admin))]
async fn list_notes() -> &'static str {
    "notes"
}
fn main() {}
