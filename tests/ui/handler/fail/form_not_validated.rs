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
struct Login {
    username: String,
}

#[secure_handler(public)]
async fn login(form: Form<Login>) -> String {
    form.0.username
}
fn main() {}
