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
struct Search {
    q: String,
}

#[secure_handler(public)]
async fn search(query: Query<Search>) -> String {
    query.0.q
}
fn main() {}
