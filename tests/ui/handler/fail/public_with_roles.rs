#![allow(unused)]
use secure_core::prelude::*;
use secure_core::secure_handler;
use secure_core::auth::{Principal, Role};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum AppRole {
    Admin,
    Member,
}

#[secure_handler(public, roles(Admin))]
async fn list_notes(user: Principal<AppRole>) -> String {
    user.subject().to_owned()
}
fn main() {}
