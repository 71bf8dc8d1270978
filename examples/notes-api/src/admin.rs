//! `/admin/*`: for administrators who signed in with a second factor (ASVS 4.1.3 least
//! privilege, 4.3.1 MFA for administrative interfaces).

use secure_core::auth::Identity;
use secure_core::prelude::*;
use secure_core::resource::{ActionKind, AuthorizedList, Resource, Rules, Scope};
use secure_core::secure_handler;
use serde::Serialize;

use crate::AppRole;

/// An account of `secure_core::accounts` as administrators list it: a resource each user
/// owns (their own row), which administrators may read in full by the rule below.
#[derive(Debug, sqlx::FromRow, Resource)]
#[resource(
    table = "secure_accounts",
    owner = "id",
    order = "created_at, id",
    id_pattern = "[A-Za-z0-9_-]{22}",
    rules
)]
pub(crate) struct Account {
    id: String,
    username: String,
    email: String,
    /// Role names, space-separated.
    roles: String,
    // Sealed; read only to say whether MFA is on.
    totp_secret: Option<String>,
}

impl Rules for Account {
    fn scope(caller: &Identity, action: ActionKind) -> Scope {
        let admin = caller.roles.iter().any(|r| r == AppRole::Admin.as_str());
        match action {
            // Administrators read every account; a member reads their own, and nobody writes
            // through this resource (credentials change through the account routes).
            ActionKind::Read if admin => Scope::All,
            ActionKind::Read => Scope::Owner,
            ActionKind::Write => Scope::Nothing,
        }
    }
}

/// One account, without its credentials.
#[derive(Debug, Serialize)]
pub(crate) struct UserSummary {
    id: String,
    username: String,
    email: String,
    roles: Vec<String>,
    mfa_enabled: bool,
}

/// `200 [{id, username, email, roles, mfa_enabled}]`, 100 a page (`?page=1` for the next).
#[secure_handler(auth, roles(AppRole::Admin), mfa, audit = "admin.list_users")]
pub(crate) async fn list_users(accounts: AuthorizedList<Account>) -> Json<Vec<UserSummary>> {
    Json(
        accounts
            .into_inner()
            .into_iter()
            .map(|a| UserSummary {
                mfa_enabled: a.totp_secret.is_some(),
                id: a.id,
                username: a.username,
                email: a.email,
                roles: a.roles.split_whitespace().map(str::to_owned).collect(),
            })
            .collect(),
    )
}
