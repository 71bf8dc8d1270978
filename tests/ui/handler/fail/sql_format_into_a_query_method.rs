#![allow(unused)]
use secure_core::auth::{Principal, Role};
use secure_core::prelude::*;
use secure_core::secure_handler;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum AppRole {
    Member,
}

// As `secure_core::sql::Database::query` (which takes a `&'static str`): the macro reports
// the built SQL before the type error would.
struct Db;
impl Db {
    fn query(&self, sql: &str) -> usize {
        sql.len()
    }
}

#[secure_handler(auth)]
async fn direct(user: Principal<AppRole>) -> &'static str {
    let _ = Db.query(&format!("SELECT * FROM notes WHERE owner = '{}'", user.subject()));
    "ok"
}

#[secure_handler(auth)]
async fn through_a_local(user: Principal<AppRole>) -> &'static str {
    let sql = format!("DELETE FROM notes WHERE owner = '{}'", user.subject());
    let _ = Db.query(&sql);
    "ok"
}

fn main() {}
