#![deny(warnings)]
#![forbid(unsafe_code)]

use axum::extract::{Path, State};
use secure_core::auth::{Principal, Role};
use secure_core::policy::SecureRouter;
use secure_core::prelude::*;
use secure_core::routing::{delete, get, post};
use secure_core::secure_handler;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum AppRole {
    Admin,
    Member,
}

#[derive(serde::Deserialize, Validated)]
struct NewNote {
    #[validate(length(min = 1, max = 200))]
    title: String,
}

#[derive(Clone)]
struct Db;

/// Health check.
#[secure_handler(public)]
pub async fn health() -> &'static str {
    "ok"
}

#[secure_handler(auth, rate_limit("30/min", key = user), body_limit = "16KiB", audit = "note.create")]
async fn create_note(
    State(_db): State<Db>,
    user: Principal<AppRole>,
    body: Valid<Json<NewNote>>,
) -> String {
    format!("{} {}", user.subject(), body.title)
}

#[secure_handler(auth, roles(Admin, Member))]
async fn get_note(user: Principal<AppRole>, Path(id): Path<u64>) -> String {
    format!("{} {id}", user.subject())
}

#[secure_handler(auth, roles(AppRole::Admin), mfa, fresh = "5m", audit = "note.purge")]
async fn purge() -> &'static str {
    "purged"
}

#[secure_handler(auth, fresh = "10min")]
async fn change_password(user: Principal<AppRole>) -> String {
    user.subject().to_owned()
}

#[secure_handler(public, rate_limit("5/min", key = ip), unvalidated(body, reason = "HMAC-signed webhook, verified before parsing"))]
async fn webhook(body: axum::body::Bytes) -> String {
    body.len().to_string()
}

fn main() {
    let router: SecureRouter = SecureRouter::new()
        .route("/health", get(health))
        .route("/notes", post(create_note))
        .route("/notes/{id}", get(get_note).delete(purge))
        .route("/admin/purge", delete(purge))
        .route("/webhook", post(webhook))
        .route("/password", post(change_password))
        .with_state(Db);
    let _ = router.policies().to_string();
}
