#![allow(unused)]
use secure_core::secure_handler;

#[secure_handler(auth, fresh = "5 minutes")]
async fn change_password() -> &'static str {
    "changed"
}

#[secure_handler(auth, fresh = "300")]
async fn disable_mfa() -> &'static str {
    "off"
}

#[secure_handler(auth, fresh = "2d")]
async fn reset() -> &'static str {
    "reset"
}

#[secure_handler(auth, fresh)]
async fn export() -> &'static str {
    "data"
}
fn main() {}
