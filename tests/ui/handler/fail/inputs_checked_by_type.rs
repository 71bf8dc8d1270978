#![allow(unused)]
use axum::extract::{Path, Query};
use axum::extract::rejection::QueryRejection;
use secure_core::auth::{AuthError, Principal, Role};
use secure_core::prelude::*;
use secure_core::secure_handler;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum AppRole {
    Member,
}

#[derive(serde::Deserialize, Validated)]
struct Filter {
    #[validate(length(max = 50))]
    q: String,
}

/// A name the syntax check cannot see through.
type Search = Query<Filter>;

#[secure_handler(public)]
async fn wrapped(filter: Result<Query<Filter>, QueryRejection>) -> &'static str {
    "wrapped"
}

#[secure_handler(public)]
async fn aliased(filter: Search) -> &'static str {
    "aliased"
}

#[secure_handler(public)]
async fn free_text(Path(slug): Path<String>) -> String {
    slug
}

#[secure_handler(public)]
async fn maybe_caller(user: Result<Principal<AppRole>, AuthError>) -> &'static str {
    "maybe"
}

// Numbers in a path, validated text, headers: fine.
#[secure_handler(public)]
async fn fine(Path(id): Path<u64>, headers: axum::http::HeaderMap) -> String {
    format!("{id} {}", headers.len())
}
fn main() {}
