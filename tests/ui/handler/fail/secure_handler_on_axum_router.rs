#![allow(unused)]
use secure_core::auth::{Principal, Role};
use secure_core::secure_handler;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum AppRole {
    Admin,
}

#[secure_handler(public)]
async fn health() -> &'static str {
    "ok"
}

#[secure_handler(auth, roles(Admin))]
async fn purge(admin: Principal<AppRole>) -> String {
    admin.subject().to_owned()
}

fn main() {
    // Served by axum's own router, either would run without the stack.
    let _ = axum::Router::<()>::new()
        .route("/health", axum::routing::get(health))
        .route("/purge", axum::routing::delete(purge));
}
