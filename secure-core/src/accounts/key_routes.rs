//! `api-keys`: a signed-in user's keys. Created with a fresh sign-in and shown once, listed
//! without their secret, revoked by their owner (another account's key is not found). These
//! routes declare no scopes, so no key manages keys.

// The error is the response to send.
#![allow(clippy::result_large_err)]

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

use super::store::{ApiKeyRecord, NewApiKey};
use super::{Accounts, keys, unix_now};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::redact::{ExposeSecret, SecretString};
use crate::validate::Valid;
use crate::{Validated, secure_handler};

/// `POST /api-keys`.
#[derive(Deserialize, Validated)]
#[serde(deny_unknown_fields)]
pub(super) struct NewKey {
    #[validate(trim, length(min = 1, max = 64), no_control)]
    pub(super) name: String,
    /// Scope wire names of the app's scope enum.
    #[validate(length(min = 1, max = 16))]
    pub(super) scopes: Vec<String>,
    /// Days until the key stops working (1 to 365); without it, until revoked.
    #[serde(default)]
    #[validate(range(min = 1, max = 365))]
    pub(super) expires_in_days: Option<u32>,
}

/// A key id in a path: 8 base62 characters.
#[derive(Debug, Deserialize, Validated)]
pub(super) struct KeyId {
    #[validate(length(equal = 8), pattern = "[A-Za-z0-9]+")]
    id: String,
}

/// The new key, this once.
struct Created {
    key: SecretString,
    summary: Summary,
}

impl Serialize for Created {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Created", 2)?;
        s.serialize_field("key", self.key.expose_secret())?;
        s.serialize_field("api_key", &self.summary)?;
        s.end()
    }
}

/// A key as listed: never its secret or hash.
#[derive(Serialize)]
pub(super) struct Summary {
    id: String,
    name: String,
    scopes: Vec<String>,
    created_at: i64,
    expires_at: Option<i64>,
    last_used_at: Option<i64>,
    revoked: bool,
}

impl From<ApiKeyRecord> for Summary {
    fn from(r: ApiKeyRecord) -> Self {
        Summary {
            revoked: r.revoked_at.is_some(),
            id: r.id,
            name: r.name,
            scopes: r.scopes,
            created_at: r.created_at,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
        }
    }
}

/// `201 {"key", "api_key": {id, name, scopes, ...}}`: the key is shown this once. 422 on
/// `scopes` for a name the app's scopes do not have.
#[secure_handler(auth, fresh = "5m", rate_limit("10/min", key = user), audit = "api_key.create")]
pub(super) async fn create(
    State(accounts): State<Accounts>,
    Extension(caller): Extension<Caller>,
    body: Valid<Json<NewKey>>,
) -> Result<Response, ApiError> {
    let inner = &accounts.inner;
    let Some(config) = inner.api_keys else {
        return Err(ApiError::NotFound);
    };
    if body.scopes.iter().any(|s| !(config.known_scope)(s)) {
        return Err(ApiError::field("scopes", "unknown_scope"));
    }
    let (key, summary) = make_key(inner, config, &caller.identity.subject, &body).await?;
    Ok((StatusCode::CREATED, Json(Created { key, summary })).into_response())
}

/// Makes and stores a key for `owner_id` (its scopes already the app's): the key, shown
/// once, and its summary.
pub(super) async fn make_key(
    inner: &super::Inner,
    config: keys::KeyConfig,
    owner_id: &str,
    body: &NewKey,
) -> Result<(SecretString, Summary), crate::error::StoreError> {
    let mut scopes: Vec<&str> = body.scopes.iter().map(String::as_str).collect();
    scopes.sort_unstable();
    scopes.dedup();
    let (key, id, key_hash) = keys::generate(config.prefix);
    let now = unix_now();
    let expires_at = body
        .expires_in_days
        .map(|days| now.saturating_add(i64::from(days) * 24 * 60 * 60));
    inner
        .store
        .create_api_key(NewApiKey {
            id: &id,
            owner_id,
            name: &body.name,
            key_hash: &key_hash,
            scopes: &scopes,
            created_at: now,
            expires_at,
        })
        .await?;
    let summary = Summary {
        id,
        name: body.name.clone(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        created_at: now,
        expires_at,
        last_used_at: None,
        revoked: false,
    };
    Ok((key, summary))
}

/// `200 [{id, name, scopes, created_at, expires_at, last_used_at, revoked}]`: the caller's
/// keys, newest first.
#[secure_handler(auth)]
pub(super) async fn list(
    State(accounts): State<Accounts>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<Summary>>, ApiError> {
    let records = accounts
        .inner
        .store
        .api_keys_of(&caller.identity.subject)
        .await?;
    Ok(Json(records.into_iter().map(Summary::from).collect()))
}

/// `204`: the key stops working at once. 404 for an id none of the caller's live keys has
/// (another account's key included).
#[secure_handler(auth, audit = "api_key.revoke")]
pub(super) async fn revoke(
    State(accounts): State<Accounts>,
    Extension(caller): Extension<Caller>,
    key: Valid<Path<KeyId>>,
) -> Result<StatusCode, ApiError> {
    let revoked = accounts
        .inner
        .store
        .revoke_api_key(&caller.identity.subject, &key.id, unix_now())
        .await?;
    if revoked {
        accounts.inner.key_cache.forget(&key.id);
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}
