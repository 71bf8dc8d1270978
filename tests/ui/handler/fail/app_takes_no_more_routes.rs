#![allow(unused)]
use secure_core::config::SecurityConfig;
use secure_core::policy::SecureRouter;
use secure_core::routing::get;
use secure_core::secure_handler;

#[secure_handler(public)]
async fn health() -> &'static str {
    "ok"
}

async fn raw() -> &'static str {
    "served outside the stack"
}

fn main() {
    let app = SecureRouter::new()
        .route("/health", get(health))
        .into_app(SecurityConfig::new())
        .unwrap();
    // The assembled app is sealed: a route added now would miss every layer.
    let _ = app.route("/raw", axum::routing::get(raw));
}
