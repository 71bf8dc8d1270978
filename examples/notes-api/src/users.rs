//! Accounts: the `users`, `recovery_codes` and `login_families` tables. Every statement is a
//! constant with bind parameters.

use secure_core::ExposeSecret;
use secure_core::SecretString;
use secure_core::auth::Role;
use secure_core::auth::mfa::TotpSecret;
use secure_core::auth::password::{PasswordHash, PasswordHasher, SkipBreachCheck};
use secure_core::crypto::DataKeys;
use secure_core::prelude::*;

use crate::AppRole;
use secure_core::sql::Database;

use crate::db::{creation_micros, new_id, unix_now};

/// One account as stored. The password hash and TOTP secrets never print.
#[sensitive]
pub(crate) struct UserRow {
    pub(crate) id: String,
    pub(crate) username: String,
    #[sensitive]
    pub(crate) password_hash: String,
    pub(crate) role: String,
    /// The confirmed TOTP secret, sealed ([`seal_totp_secret`]).
    #[sensitive]
    pub(crate) totp_secret: Option<String>,
    /// A secret from enrolment waiting for its first code, sealed.
    #[sensitive]
    pub(crate) totp_pending: Option<String>,
    pub(crate) totp_last_step: Option<i64>,
}

type Row = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
);

impl From<Row> for UserRow {
    fn from(r: Row) -> Self {
        UserRow {
            id: r.0,
            username: r.1,
            password_hash: r.2,
            role: r.3,
            totp_secret: r.4,
            totp_pending: r.5,
            totp_last_step: r.6,
        }
    }
}

impl UserRow {
    /// The role as the enum; `None` for a name this version does not know (refused).
    pub(crate) fn role(&self) -> Option<AppRole> {
        AppRole::parse(&self.role)
    }

    pub(crate) fn mfa_enabled(&self) -> bool {
        self.totp_secret.is_some()
    }
}

/// The associated data a TOTP secret is sealed with: what it is and whose, so a sealed secret
/// copied into another user's row does not open there.
fn totp_context(user_id: &str) -> Vec<u8> {
    let mut context = b"notes-api totp\0".to_vec();
    context.extend_from_slice(user_id.as_bytes());
    context
}

/// A TOTP secret as stored: sealed under the current data key (`SECURE_DATA_KEY`).
pub(crate) fn seal_totp_secret(keys: &DataKeys, user_id: &str, secret: &SecretString) -> String {
    keys.seal(&totp_context(user_id), secret.expose_secret().as_bytes())
}

/// A stored TOTP secret could not be read: sealed under a key that is not configured, or
/// changed in the database.
#[derive(Debug)]
pub(crate) struct UnreadableSecret(&'static str);

impl std::fmt::Display for UnreadableSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "stored TOTP secret unreadable: {}", self.0)
    }
}

impl std::error::Error for UnreadableSecret {}

/// Opens a stored TOTP secret. Values stored before secrets were sealed (plain base32) are
/// still read; `notes-api rekey` seals them.
pub(crate) fn open_totp_secret(
    keys: &DataKeys,
    user_id: &str,
    stored: &str,
) -> Result<TotpSecret, UnreadableSecret> {
    let base32 = if is_sealed(stored) {
        let plain = keys
            .open(&totp_context(user_id), stored)
            .map_err(|e| UnreadableSecret(seal_reason(e)))?;
        let text = std::str::from_utf8(&plain).map_err(|_| UnreadableSecret("not text"))?;
        SecretString::from(text)
    } else {
        SecretString::from(stored)
    };
    TotpSecret::from_base32(&base32).map_err(|_| UnreadableSecret("not a TOTP secret"))
}

fn is_sealed(stored: &str) -> bool {
    stored.starts_with("v1.")
}

fn seal_reason(e: secure_core::crypto::SealError) -> &'static str {
    use secure_core::crypto::SealError;
    match e {
        SealError::UnknownKey => "sealed under a data key that is not configured",
        SealError::Forged => "failed authentication (changed, or copied from another row)",
        _ => "malformed",
    }
}

const BY_USERNAME: &str = "SELECT id, username, password_hash, role, totp_secret, \
     totp_pending, totp_last_step FROM users WHERE username = $1";
const BY_ID: &str = "SELECT id, username, password_hash, role, totp_secret, \
     totp_pending, totp_last_step FROM users WHERE id = $1";
const ALL: &str = "SELECT id, username, password_hash, role, totp_secret, \
     totp_pending, totp_last_step FROM users ORDER BY created_us, id";
const INSERT: &str = "INSERT INTO users (id, username, email, password_hash, role, created_at, \
     created_us) VALUES ($1, $2, $3, $4, $5, $6, $7)";
const SET_PASSWORD_HASH: &str = "UPDATE users SET password_hash = $2 WHERE id = $1";
const SET_PENDING: &str =
    "UPDATE users SET totp_pending = $2 WHERE id = $1 AND totp_secret IS NULL";
// Compare-and-set on the pending secret: two confirmations cannot both turn MFA on.
const CONFIRM: &str = "UPDATE users SET totp_secret = totp_pending, totp_pending = NULL, \
     totp_last_step = $3 WHERE id = $1 AND totp_pending = $2 AND totp_secret IS NULL";
// Compare-and-set on the step (verify_totp's docs): a code is accepted once, even by two
// concurrent logins.
const ADVANCE_STEP: &str = "UPDATE users SET totp_last_step = $2 \
     WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)";
const DELETE_CODES: &str = "DELETE FROM recovery_codes WHERE user_id = $1";
const INSERT_CODE: &str = "INSERT INTO recovery_codes (id, user_id, code_hash) VALUES ($1, $2, $3)";
const CODES: &str = "SELECT id, code_hash FROM recovery_codes WHERE user_id = $1 ORDER BY id";
const USE_CODE: &str = "DELETE FROM recovery_codes WHERE id = $1 AND user_id = $2";
const INSERT_FAMILY: &str = "INSERT INTO login_families (family_id, user_id, mfa, auth_time, created_at) \
     VALUES ($1, $2, $3, $4, $5)";
const FAMILY: &str = "SELECT mfa, auth_time FROM login_families WHERE family_id = $1";
const PURGE_FAMILIES: &str = "DELETE FROM login_families WHERE created_at <= $1";

pub(crate) async fn by_username(
    db: &Database,
    username: &str,
) -> Result<Option<UserRow>, sqlx::Error> {
    let row: Option<Row> = db
        .query(BY_USERNAME)
        .bind(username)
        .fetch_optional()
        .await?;
    Ok(row.map(UserRow::from))
}

pub(crate) async fn by_id(db: &Database, id: &str) -> Result<Option<UserRow>, sqlx::Error> {
    let row: Option<Row> = db.query(BY_ID).bind(id).fetch_optional().await?;
    Ok(row.map(UserRow::from))
}

pub(crate) async fn all(db: &Database) -> Result<Vec<UserRow>, sqlx::Error> {
    let rows: Vec<Row> = db.query(ALL).fetch_all().await?;
    Ok(rows.into_iter().map(UserRow::from).collect())
}

/// Why an account could not be created.
#[derive(Debug)]
pub(crate) enum InsertError {
    /// The user name is taken.
    Taken,
    Db(sqlx::Error),
}

pub(crate) async fn insert(
    db: &Database,
    username: &str,
    email: &str,
    hash: &PasswordHash,
    role: AppRole,
) -> Result<String, InsertError> {
    let id = new_id();
    let done = db
        .query(INSERT)
        .bind(&id)
        .bind(username)
        .bind(email)
        .bind(hash.as_phc_str())
        .bind(role.as_str())
        .bind(unix_now())
        .bind(creation_micros())
        .execute()
        .await
        .map(|_| ());
    match done {
        Ok(()) => Ok(id),
        Err(e)
            if e.as_database_error()
                .is_some_and(|d| d.is_unique_violation()) =>
        {
            Err(InsertError::Taken)
        }
        Err(e) => Err(InsertError::Db(e)),
    }
}

pub(crate) async fn set_password_hash(
    db: &Database,
    id: &str,
    hash: &PasswordHash,
) -> Result<(), sqlx::Error> {
    db.query(SET_PASSWORD_HASH)
        .bind(id)
        .bind(hash.as_phc_str())
        .execute()
        .await
        .map(|_| ())?;
    Ok(())
}

/// Stores a secret from enrolment (`sealed` by [`seal_totp_secret`]); `false` when MFA is
/// already on.
pub(crate) async fn set_pending_totp(
    db: &Database,
    id: &str,
    sealed: &str,
) -> Result<bool, sqlx::Error> {
    let done = db
        .query(SET_PENDING)
        .bind(id)
        .bind(sealed)
        .execute()
        .await?;
    Ok(done == 1)
}

/// Turns MFA on with the pending secret the code was checked against, records the code's
/// step and replaces the recovery codes, in one transaction. `false` when the pending secret
/// changed meanwhile (another enrolment) or MFA is already on.
pub(crate) async fn confirm_totp(
    db: &Database,
    id: &str,
    pending: &str,
    step: i64,
    code_hashes: &[String],
) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let changed = tx
        .query(CONFIRM)
        .bind(id)
        .bind(pending)
        .bind(step)
        .execute()
        .await?;
    if changed != 1 {
        tx.rollback().await?;
        return Ok(false);
    }
    tx.query(DELETE_CODES).bind(id).execute().await?;
    for hash in code_hashes {
        tx.query(INSERT_CODE)
            .bind(new_id())
            .bind(id)
            .bind(hash)
            .execute()
            .await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Records `step` as the last TOTP step used; `false` if it is not newer (a replay).
pub(crate) async fn advance_totp_step(
    db: &Database,
    id: &str,
    step: i64,
) -> Result<bool, sqlx::Error> {
    let done = db.query(ADVANCE_STEP).bind(id).bind(step).execute().await?;
    Ok(done == 1)
}

/// The stored recovery-code hashes: `(row id, hash)`.
pub(crate) async fn recovery_codes(
    db: &Database,
    user_id: &str,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    db.query(CODES).bind(user_id).fetch_all().await
}

/// Uses up one recovery code; `false` if another request used it first.
pub(crate) async fn use_recovery_code(
    db: &Database,
    code_id: &str,
    user_id: &str,
) -> Result<bool, sqlx::Error> {
    let done = db
        .query(USE_CODE)
        .bind(code_id)
        .bind(user_id)
        .execute()
        .await?;
    Ok(done == 1)
}

/// Remembers how the login that started refresh family `family_id` authenticated.
pub(crate) async fn record_family(
    db: &Database,
    family_id: &str,
    user_id: &str,
    mfa: bool,
    auth_time: i64,
) -> Result<(), sqlx::Error> {
    db.query(INSERT_FAMILY)
        .bind(family_id)
        .bind(user_id)
        .bind(i64::from(mfa))
        .bind(auth_time)
        .bind(unix_now())
        .execute()
        .await
        .map(|_| ())?;
    Ok(())
}

/// `(mfa, auth_time)` of a family's login.
pub(crate) async fn family(
    db: &Database,
    family_id: &str,
) -> Result<Option<(bool, i64)>, sqlx::Error> {
    let row: Option<(i64, i64)> = db.query(FAMILY).bind(family_id).fetch_optional().await?;
    Ok(row.map(|(mfa, auth_time)| (mfa != 0, auth_time)))
}

/// Deletes login records older than `before` (families live at most 30 days).
pub(crate) async fn purge_families(db: &Database, before: i64) -> Result<u64, sqlx::Error> {
    db.query(PURGE_FAMILIES).bind(before).execute().await
}

const DISABLE_MFA: &str = "UPDATE users SET totp_secret = NULL, totp_pending = NULL, \
     totp_last_step = NULL WHERE id = $1";
const HAS_MFA: &str = "SELECT id FROM users WHERE id = $1 AND totp_secret IS NOT NULL";

/// Turns MFA off: the secret (and any pending one) and the recovery codes deleted, in one
/// transaction. `false` when no user has the id.
pub(crate) async fn disable_mfa(db: &Database, id: &str) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let changed = tx.query(DISABLE_MFA).bind(id).execute().await?;
    tx.query(DELETE_CODES).bind(id).execute().await?;
    tx.commit().await?;
    Ok(changed == 1)
}

/// Replaces every recovery code with `code_hashes`, if MFA is on (`false` otherwise).
pub(crate) async fn replace_recovery_codes(
    db: &Database,
    id: &str,
    code_hashes: &[String],
) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let on: Option<(String,)> = tx.query(HAS_MFA).bind(id).fetch_optional().await?;
    if on.is_none() {
        tx.rollback().await?;
        return Ok(false);
    }
    tx.query(DELETE_CODES).bind(id).execute().await?;
    for hash in code_hashes {
        tx.query(INSERT_CODE)
            .bind(new_id())
            .bind(id)
            .bind(hash)
            .execute()
            .await?;
    }
    tx.commit().await?;
    Ok(true)
}

const RESEAL_SECRET: &str = "UPDATE users SET totp_secret = $3 WHERE id = $1 AND totp_secret = $2";
const RESEAL_PENDING: &str =
    "UPDATE users SET totp_pending = $3 WHERE id = $1 AND totp_pending = $2";

/// What [`rekey`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Rekeyed {
    /// Values sealed again under the current data key (plain values from before sealing
    /// included).
    pub resealed: u64,
    /// Values already under the current key.
    pub current: u64,
    /// Values no configured key opens (left as they are; those users need an MFA reset).
    pub unreadable: u64,
}

/// Seals every stored TOTP secret (confirmed and pending) under the current data key: after
/// `SECURE_DATA_KEY` changed (the old one given as `SECURE_DATA_KEY_PREVIOUS`), and once for
/// values stored before secrets were sealed. Each row is updated only if it still holds the
/// value read (a concurrent enrolment wins). Safe to run again.
pub async fn rekey(db: &Database, keys: &DataKeys) -> Result<Rekeyed, sqlx::Error> {
    let mut done = Rekeyed::default();
    for user in all(db).await? {
        for (stored, update) in [
            (&user.totp_secret, RESEAL_SECRET),
            (&user.totp_pending, RESEAL_PENDING),
        ] {
            let Some(stored) = stored else { continue };
            if !keys.needs_reseal(stored) {
                done.current += 1;
                continue;
            }
            let Ok(secret) = open_totp_secret(keys, &user.id, stored) else {
                tracing::error!(target: "notes_api", subject = %user.id, "TOTP secret unreadable with the configured data keys");
                done.unreadable += 1;
                continue;
            };
            let sealed = seal_totp_secret(keys, &user.id, &secret.to_base32());
            let changed = db
                .query(update)
                .bind(&user.id)
                .bind(stored.as_str())
                .bind(&sealed)
                .execute()
                .await?;
            done.resealed += changed;
        }
    }
    Ok(done)
}

/// Why `create_admin` failed.
#[derive(Debug)]
pub enum CreateAdminError {
    /// The user name, e-mail or password broke a signup rule (the fields are listed).
    Invalid(ValidationErrors),
    /// The user name is taken.
    Taken,
    /// The database failed.
    Db(sqlx::Error),
    /// Hashing failed.
    Hashing,
}

impl std::fmt::Display for CreateAdminError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CreateAdminError::Invalid(errors) => {
                f.write_str("not accepted:")?;
                for e in errors.iter() {
                    write!(f, " {} ({})", e.field(), e.code())?;
                }
                Ok(())
            }
            CreateAdminError::Taken => f.write_str("that user name is taken"),
            CreateAdminError::Db(e) => write!(f, "database: {e}"),
            CreateAdminError::Hashing => f.write_str("password hashing failed"),
        }
    }
}

impl std::error::Error for CreateAdminError {}

/// Creates an administrator with the same rules as signup. Returns the new id.
pub async fn create_admin(
    db: &Database,
    hasher: &PasswordHasher,
    username: &str,
    email: &str,
    password: SecretString,
) -> Result<String, CreateAdminError> {
    let signup = Valid::new(crate::auth::Signup {
        username: username.to_owned(),
        email: email.to_owned(),
        password,
    })
    .map_err(CreateAdminError::Invalid)?;
    let hash = hasher
        .hash(&signup.password, &SkipBreachCheck)
        .await
        .map_err(|_| CreateAdminError::Hashing)?;
    insert(db, &signup.username, &signup.email, &hash, AppRole::Admin)
        .await
        .map_err(|e| match e {
            InsertError::Taken => CreateAdminError::Taken,
            InsertError::Db(e) => CreateAdminError::Db(e),
        })
}
