#![allow(unused)]
use secure_core::secure_handler;

#[secure_handler(public, fresh = "5m")]
async fn change_password() -> &'static str {
    "changed"
}
fn main() {}
