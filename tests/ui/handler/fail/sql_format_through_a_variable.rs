#![allow(unused)]
use secure_core::prelude::*;
use secure_core::secure_handler;
use secure_core::auth::{Principal, Role};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum AppRole {
    Admin,
    Member,
}

#[secure_handler(auth)]
async fn find(user: Principal<AppRole>) -> &'static str {
    let sql = format!("SELECT * FROM notes WHERE owner = '{}'", user.subject());
    let _query = sqlx_like::query_scalar(&sql);
    "ok"
}

mod sqlx_like {
    pub fn query_scalar(sql: &str) -> &str {
        sql
    }
}
fn main() {}
