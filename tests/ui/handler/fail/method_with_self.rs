#![allow(unused)]
use secure_core::prelude::*;
use secure_core::secure_handler;
use secure_core::auth::{Principal, Role};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum AppRole {
    Admin,
    Member,
}

struct Notes;

impl Notes {
    #[secure_handler(public)]
    async fn list(&self) -> &'static str {
        "notes"
    }
}
fn main() {}
