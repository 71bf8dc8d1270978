#![allow(unused)]
use secure_core::prelude::*;
use secure_core::secure_handler;
use secure_core::auth::{Principal, Role};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum AppRole {
    Admin,
    Member,
}

#[secure_handler(public)]
fn health() -> &'static str {
    "ok"
}
fn main() {}
