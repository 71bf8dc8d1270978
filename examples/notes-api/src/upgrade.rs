//! TOTP secrets from before the accounts module: sealed for this app's own rows (or, older
//! still, stored plain), they are sealed again for `secure_core::accounts` at the first
//! start after migration `0003` listed them. Nothing to run by hand.

use secure_core::SecretString;
use secure_core::accounts::{AccountStore, SqlAccountStore, seal_totp_secret};
use secure_core::auth::mfa::TotpSecret;
use secure_core::crypto::DataKeys;
use secure_core::sql::Database;

const LISTED: &str = "SELECT a.id, a.totp_secret, a.totp_pending FROM notes_totp_to_reseal r \
     JOIN secure_accounts a ON a.id = r.user_id";
const DONE: &str = "DELETE FROM notes_totp_to_reseal WHERE user_id = $1";

/// Why the secrets could not be moved.
#[derive(Debug)]
pub enum UpgradeError {
    /// The database failed.
    Store(secure_core::error::StoreError),
    /// Secrets no configured data key opens (the accounts, by id).
    Unreadable(Vec<String>),
}

impl std::fmt::Display for UpgradeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpgradeError::Store(e) => write!(f, "{e}"),
            UpgradeError::Unreadable(ids) => write!(
                f,
                "{} accounts' TOTP secrets open with no configured data key (set the key they were sealed with as SECURE_DATA_KEY_PREVIOUS): {}",
                ids.len(),
                ids.join(", ")
            ),
        }
    }
}

/// Seals every listed secret for the accounts, and takes the account off the list.
pub(crate) async fn reseal_old_secrets(db: &Database, keys: &DataKeys) -> Result<(), UpgradeError> {
    let store = SqlAccountStore::new(db.clone());
    let rows: Vec<(String, Option<String>, Option<String>)> =
        db.query(LISTED).fetch_all().await.map_err(store_error)?;
    let mut unreadable = Vec::new();
    for (id, secret, pending) in rows {
        let mut opened = true;
        for old in [secret, pending].into_iter().flatten() {
            let Some(plain) = open_old(keys, &id, &old) else {
                opened = false;
                continue;
            };
            let sealed = seal_totp_secret(keys, &id, &plain);
            store
                .replace_sealed(&id, &old, &sealed)
                .await
                .map_err(UpgradeError::Store)?;
        }
        if opened {
            db.query(DONE)
                .bind(&id)
                .execute()
                .await
                .map_err(store_error)?;
        } else {
            unreadable.push(id);
        }
    }
    if unreadable.is_empty() {
        Ok(())
    } else {
        Err(UpgradeError::Unreadable(unreadable))
    }
}

/// An old value: sealed under this app's context (`v1.`), or plain base32.
fn open_old(keys: &DataKeys, id: &str, stored: &str) -> Option<TotpSecret> {
    if !stored.starts_with("v1.") {
        return TotpSecret::from_base32(&SecretString::from(stored)).ok();
    }
    let mut context = b"notes-api totp\0".to_vec();
    context.extend_from_slice(id.as_bytes());
    let plain = keys.open(&context, stored).ok()?;
    let text = SecretString::from(std::str::from_utf8(&plain).ok()?);
    TotpSecret::from_base32(&text).ok()
}

fn store_error(e: sqlx::Error) -> UpgradeError {
    UpgradeError::Store(secure_core::error::StoreError::new(e))
}
