#![allow(unused)]
use std::fmt::Write as _;

use secure_core::auth::{Principal, Role};
use secure_core::prelude::*;
use secure_core::secure_handler;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum AppRole {
    Member,
}

#[secure_handler(auth)]
async fn typed(user: Principal<AppRole>) -> &'static str {
    let sql: String = format!("SELECT * FROM notes WHERE owner = '{}'", user.subject());
    let _ = sqlx_like::query(&sql);
    "ok"
}

#[secure_handler(auth)]
async fn concatenated(user: Principal<AppRole>) -> &'static str {
    let sql = "SELECT * FROM notes WHERE owner = '".to_owned() + user.subject() + "'";
    let _ = sqlx_like::query(&sql);
    let _ = sqlx_like::query(&("DELETE FROM notes WHERE owner = '".to_owned() + user.subject()));
    "ok"
}

#[secure_handler(auth)]
async fn grown(user: Principal<AppRole>) -> &'static str {
    let mut sql = String::from("SELECT * FROM notes WHERE owner = '");
    sql.push_str(user.subject());
    let _ = sqlx_like::query(&sql);
    let mut other = String::from("SELECT 1 WHERE ");
    write!(other, "'{}'", user.subject()).unwrap();
    let _ = sqlx_like::query_as(&other);
    "ok"
}

mod sqlx_like {
    pub fn query(sql: &str) -> &str {
        sql
    }
    pub fn query_as(sql: &str) -> &str {
        sql
    }
}
fn main() {}
