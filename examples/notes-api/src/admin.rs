//! `/admin/*`: for administrators who signed in with a second factor (ASVS 4.1.3 least
//! privilege, 4.3.1 MFA for administrative interfaces).

use axum::extract::State;
use secure_core::prelude::*;
use secure_core::secure_handler;
use serde::Serialize;

use crate::users;
use crate::{AppRole, AppState};

/// One account, without its credentials.
#[derive(Debug, Serialize)]
pub(crate) struct UserSummary {
    id: String,
    username: String,
    email: String,
    roles: Vec<String>,
    mfa_enabled: bool,
}

/// `200 [{id, username, email, roles, mfa_enabled}]`.
#[secure_handler(auth, roles(Admin), mfa, audit = "admin.list_users")]
pub(crate) async fn list_users(
    _admin: Principal<AppRole>,
    State(state): State<AppState>,
) -> Result<Json<Vec<UserSummary>>, ApiError> {
    let rows = users::all(&state.db).await.map_err(ApiError::internal)?;
    Ok(Json(
        rows.iter()
            .map(|u| UserSummary {
                id: u.id.clone(),
                username: u.username.clone(),
                email: u.email.clone(),
                roles: vec![u.role.clone()],
                mfa_enabled: u.mfa_enabled(),
            })
            .collect(),
    ))
}
