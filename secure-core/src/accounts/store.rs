//! Where accounts live: the [`AccountStore`] trait the flows use, and [`SqlAccountStore`] on
//! the service's [`Database`] (the tables of `secure-core/migrations/0003_secure_accounts.sql`).
//!
//! An app that already has a users table implements [`AccountStore`] over it instead: every
//! method is one statement or one short transaction, and the contract of each is on it.

use std::future::Future;

use crate::auth::Amr;
use crate::error::StoreError;
use crate::sql::{Database, Transaction};

/// An account as the flows read it. Secrets are as stored: the password's PHC string, the
/// TOTP secret sealed with the data key.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountRecord {
    /// The account's id (its token subject).
    pub id: String,
    /// The sign-in name, as signup sanitised it.
    pub username: String,
    /// The contact address (not unique).
    pub email: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Role wire names.
    pub roles: Vec<String>,
    /// Raised by every change of credentials; sign-ins made under an older value end.
    pub credential_version: i64,
    /// The confirmed TOTP secret, sealed; `None` while the account has no second factor.
    pub totp_secret: Option<String>,
    /// A secret from enrolment, sealed, waiting for its first code.
    pub totp_pending: Option<String>,
    /// The last accepted TOTP time step.
    pub totp_last_step: Option<i64>,
}

impl std::fmt::Debug for AccountRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountRecord")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("roles", &self.roles)
            .field("credential_version", &self.credential_version)
            .field("mfa", &self.totp_secret.is_some())
            .finish_non_exhaustive()
    }
}

impl AccountRecord {
    /// Whether a second factor is required to sign in.
    pub fn has_second_factor(&self) -> bool {
        self.totp_secret.is_some()
    }
}

/// A new account.
#[derive(Debug, Clone, Copy)]
pub struct NewAccount<'a> {
    /// Its id: [`new_id`](super::new_id).
    pub id: &'a str,
    /// The sign-in name (unique).
    pub username: &'a str,
    /// The contact address.
    pub email: &'a str,
    /// Argon2id PHC string.
    pub password_hash: &'a str,
    /// Role wire names.
    pub roles: &'a [&'a str],
    /// Unix seconds.
    pub created_at: i64,
}

/// What [`AccountStore::create`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// The account exists now.
    Created,
    /// Another account has the user name.
    Taken,
}

/// A change of an account's credentials. The store applies it together with a raise of
/// the credential version, in one transaction, so every sign-in made before ends at its next
/// refresh.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum CredentialChange<'a> {
    /// A new password (PHC string).
    Password(&'a str),
    /// A confirmed second factor: the sealed TOTP secret (the pending one is cleared) with the
    /// step of its confirming code as the last one used, and the hashes of new recovery
    /// codes, replacing any.
    SecondFactor {
        /// The sealed secret.
        totp_secret: &'a str,
        /// The time step of the code that confirmed it: used, so it cannot sign in again.
        confirmed_step: i64,
        /// Recovery code hashes (stored strings).
        recovery_codes: &'a [String],
    },
    /// New recovery codes, replacing the unused ones.
    RecoveryCodes(&'a [String]),
    /// No second factor any more: the secret, a pending one and the recovery codes go.
    NoSecondFactor,
}

/// How one sign-in authenticated, kept with its refresh-token family: refreshing keeps its
/// `amr` and `auth_time` (a refresh never makes a token fresher), and the family ends when
/// the account's credentials change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInRecord {
    /// The refresh-token family it started.
    pub family_id: String,
    /// The account.
    pub user_id: String,
    /// How the user authenticated.
    pub amr: Vec<Amr>,
    /// When (Unix seconds).
    pub auth_time: i64,
    /// The account's credential version at that time.
    pub credential_version: i64,
}

/// A new API key as stored.
#[derive(Debug, Clone, Copy)]
pub struct NewApiKey<'a> {
    /// Its public id (the first characters of its random part).
    pub id: &'a str,
    /// The account it acts for.
    pub owner_id: &'a str,
    /// What its owner called it.
    pub name: &'a str,
    /// `base64url(SHA-256(key))`: never the key.
    pub key_hash: &'a str,
    /// Scope wire names.
    pub scopes: &'a [&'a str],
    /// Unix seconds.
    pub created_at: i64,
    /// When it stops working, if it does.
    pub expires_at: Option<i64>,
}

/// An API key as the flows read it, with its owner's current roles.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// Its public id.
    pub id: String,
    /// The account it acts for.
    pub owner_id: String,
    /// What its owner called it.
    pub name: String,
    /// `base64url(SHA-256(key))`.
    pub key_hash: String,
    /// Scope wire names.
    pub scopes: Vec<String>,
    /// The owner's role wire names.
    pub owner_roles: Vec<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// When it stops working, if it does.
    pub expires_at: Option<i64>,
    /// When its owner revoked it.
    pub revoked_at: Option<i64>,
    /// When it was last used (to the minute).
    pub last_used_at: Option<i64>,
}

impl std::fmt::Debug for ApiKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyRecord")
            .field("id", &self.id)
            .field("owner_id", &self.owner_id)
            .field("scopes", &self.scopes)
            .field("expires_at", &self.expires_at)
            .field("revoked_at", &self.revoked_at)
            .finish_non_exhaustive()
    }
}

/// The storage of accounts. Implemented by [`SqlAccountStore`]; implement it over an existing
/// users table to keep that table. Every method is safe to run from several instances at
/// once.
pub trait AccountStore: Send + Sync + 'static {
    /// Inserts an account; [`Created::Taken`] when the user name is in use (a unique
    /// constraint decides, not a prior read, so two signups never both get a name).
    fn create(
        &self,
        account: NewAccount<'_>,
    ) -> impl Future<Output = Result<Created, StoreError>> + Send;

    /// The account with this user name (exact match on the sanitised name).
    fn by_username(
        &self,
        username: &str,
    ) -> impl Future<Output = Result<Option<AccountRecord>, StoreError>> + Send;

    /// The account with this id.
    fn by_id(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<AccountRecord>, StoreError>> + Send;

    /// Replaces the password hash with one of the same password under newer parameters (a
    /// rehash at sign-in): the credentials are the same, so the version stays.
    fn rehash_password(
        &self,
        id: &str,
        password_hash: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records `step` as the last TOTP step used, only if it is later than the stored one:
    /// `false` when another sign-in used this step or a later one first.
    fn advance_totp_step(
        &self,
        id: &str,
        step: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The account's unused recovery codes: `(code id, stored hash)`.
    fn recovery_codes(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Vec<(String, String)>, StoreError>> + Send;

    /// Uses up a recovery code: `false` when another request used it first.
    fn use_recovery_code(
        &self,
        id: &str,
        code_id: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Remembers how the sign-in that started a refresh-token family authenticated.
    fn record_sign_in(
        &self,
        record: &SignInRecord,
        now: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The sign-in that started `family_id`.
    fn sign_in(
        &self,
        family_id: &str,
    ) -> impl Future<Output = Result<Option<SignInRecord>, StoreError>> + Send;

    /// Raises the account's credential version: every sign-in recorded before ends at its
    /// next refresh. Returns the new version (`None`: no such account).
    fn end_sign_ins(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<i64>, StoreError>> + Send;

    /// Applies `change` and raises the credential version, in one transaction. Returns the
    /// new version (`None`: no such account, nothing changed).
    fn change_credentials(
        &self,
        id: &str,
        change: CredentialChange<'_>,
    ) -> impl Future<Output = Result<Option<i64>, StoreError>> + Send;

    /// Keeps a sealed TOTP secret from enrolment until its first code confirms it (a later
    /// enrolment replaces it). `false`: no such account.
    fn set_pending_totp(
        &self,
        id: &str,
        sealed: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Keeps a password-reset token's hash for `id`, usable until `expires_at`.
    fn create_reset(
        &self,
        token_hash: &str,
        id: &str,
        expires_at: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Uses a reset token: its account id, if the token is unused and unexpired at `now`, and
    /// marks it used in the same statement (of two uses at once, one wins).
    fn use_reset(
        &self,
        token_hash: &str,
        now: i64,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;

    /// A few sealed secrets as stored (`(account id, sealed)`; confirmed or pending TOTP
    /// secrets, the newest accounts first), for the start-up check that the configured data
    /// keys open what is stored.
    fn sealed_sample(
        &self,
    ) -> impl Future<Output = Result<Vec<(String, String)>, StoreError>> + Send;

    /// Every sealed secret as stored: `(account id, sealed)`, confirmed and pending TOTP
    /// secrets alike (for [`Accounts::reseal_secrets`](super::Accounts::reseal_secrets)).
    fn sealed_secrets(
        &self,
    ) -> impl Future<Output = Result<Vec<(String, String)>, StoreError>> + Send;

    /// Replaces the sealed secret `old` of account `id` (confirmed or pending) with `new`,
    /// only if the row still holds `old`: `false` when a concurrent change came first.
    fn replace_sealed(
        &self,
        id: &str,
        old: &str,
        new: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Sets the account's roles (an administrator's change); its sign-ins get them at their
    /// next refresh. `false`: no such account.
    fn set_roles(
        &self,
        id: &str,
        roles: &[&str],
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes sign-in records made before `before`, and reset tokens expired by then (Unix
    /// seconds; families live at most their lifetime, so older records serve nothing).
    fn purge_sign_ins(&self, before: i64) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Stores a new API key.
    fn create_api_key(
        &self,
        key: NewApiKey<'_>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The API key with this id, with its owner's current roles (`None`: no such key).
    fn api_key(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<ApiKeyRecord>, StoreError>> + Send;

    /// The keys of `owner_id`, newest first, revoked ones included.
    fn api_keys_of(
        &self,
        owner_id: &str,
    ) -> impl Future<Output = Result<Vec<ApiKeyRecord>, StoreError>> + Send;

    /// Revokes key `id` of `owner_id` at `now`: `false` when it is not theirs or already
    /// revoked (another account's key is never touched).
    fn revoke_api_key(
        &self,
        owner_id: &str,
        id: &str,
        now: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records a use of key `id` at `now`, at most once a minute (not a write per request).
    fn touch_api_key(
        &self,
        id: &str,
        now: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The id of the account linked to an outside provider's user (`issuer`, `subject`),
    /// made with `account` (no usable password) and linked when there is none yet. Two first
    /// requests at once make one account.
    fn link(
        &self,
        issuer: &str,
        subject: &str,
        account: NewAccount<'_>,
    ) -> impl Future<Output = Result<String, StoreError>> + Send;
}

/// A new account as a [`SignupHook`] sees it (never its password hash).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct SignedUp<'a> {
    /// Its id (the token subject): the key of the app's own rows for it.
    pub id: &'a str,
    /// The sign-in name.
    pub username: &'a str,
    /// The contact address.
    pub email: &'a str,
}

/// The future of a [`SignupHook`].
pub type HookFuture<'a> =
    std::pin::Pin<Box<dyn Future<Output = Result<(), sqlx::Error>> + Send + 'a>>;

/// The app's own rows for a new account (a profile, settings), written in the transaction
/// that creates the account ([`SqlAccountStore::on_signup`]): both exist, or neither does.
///
/// ```
/// use secure_core::accounts::{HookFuture, SignedUp, SignupHook};
/// use secure_core::sql::Transaction;
///
/// struct Profiles;
///
/// impl SignupHook for Profiles {
///     fn on_signup<'a>(&'a self, tx: &'a mut Transaction, account: SignedUp<'a>) -> HookFuture<'a> {
///         Box::pin(async move {
///             tx.query("INSERT INTO profiles (account_id, display_name) VALUES ($1, $2)")
///                 .bind(account.id)
///                 .bind(account.username)
///                 .execute()
///                 .await
///                 .map(|_| ())
///         })
///     }
/// }
/// ```
pub trait SignupHook: Send + Sync + 'static {
    /// Writes the app's rows for `account` in `tx`; an error undoes the signup (the client
    /// gets a 500, the name stays free).
    fn on_signup<'a>(&'a self, tx: &'a mut Transaction, account: SignedUp<'a>) -> HookFuture<'a>;
}

/// [`AccountStore`] on the service's [`Database`] (SQLite or PostgreSQL). Create its tables
/// with [`Database::migrate`] at start-up.
#[derive(Clone)]
pub struct SqlAccountStore {
    db: Database,
    hook: Option<std::sync::Arc<dyn SignupHook>>,
}

impl std::fmt::Debug for SqlAccountStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlAccountStore")
            .field("db", &self.db)
            .field("on_signup", &self.hook.is_some())
            .finish()
    }
}

impl SqlAccountStore {
    /// The store on `db`.
    pub fn new(db: Database) -> Self {
        SqlAccountStore { db, hook: None }
    }

    /// Runs `hook` in the transaction of every new account (signup and
    /// [`Accounts::create_account`](super::Accounts::create_account)); give the store to
    /// [`AccountsBuilder::store`](super::AccountsBuilder::store).
    pub fn on_signup(mut self, hook: impl SignupHook) -> Self {
        self.hook = Some(std::sync::Arc::new(hook));
        self
    }

    /// The database.
    pub fn database(&self) -> &Database {
        &self.db
    }
}

#[cfg(test)]
const COLUMNS: &str = "id, username, email, password_hash, roles, \
     credential_version, totp_secret, totp_pending, totp_last_step";

const INSERT: &str = "INSERT INTO secure_accounts (id, username, email, password_hash, roles, \
     credential_version, totp_secret, totp_pending, totp_last_step, created_at) \
     VALUES ($1, $2, $3, $4, $5, 0, NULL, NULL, NULL, $6)";

const BY_USERNAME: &str = "SELECT id, username, email, password_hash, roles, \
     credential_version, totp_secret, totp_pending, totp_last_step FROM secure_accounts \
     WHERE username = $1";

const BY_ID: &str = "SELECT id, username, email, password_hash, roles, \
     credential_version, totp_secret, totp_pending, totp_last_step FROM secure_accounts \
     WHERE id = $1";

const REHASH: &str = "UPDATE secure_accounts SET password_hash = $2 WHERE id = $1";

const ADVANCE_STEP: &str = "UPDATE secure_accounts SET totp_last_step = $2 \
     WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)";

const CODES: &str =
    "SELECT id, code_hash FROM secure_account_recovery_codes WHERE user_id = $1 ORDER BY id";

const USE_CODE: &str = "DELETE FROM secure_account_recovery_codes WHERE id = $2 AND user_id = $1";

const INSERT_SIGN_IN: &str = "INSERT INTO secure_account_signins \
     (family_id, user_id, amr, auth_time, credential_version, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";

const SIGN_IN: &str = "SELECT family_id, user_id, amr, auth_time, credential_version \
     FROM secure_account_signins WHERE family_id = $1";

const END_SIGN_INS: &str =
    "UPDATE secure_accounts SET credential_version = credential_version + 1 WHERE id = $1";

const VERSION: &str = "SELECT credential_version FROM secure_accounts WHERE id = $1";

const SET_PASSWORD: &str = "UPDATE secure_accounts SET password_hash = $2, \
     credential_version = credential_version + 1 WHERE id = $1";

const SET_SECOND_FACTOR: &str = "UPDATE secure_accounts SET totp_secret = $2, \
     totp_pending = NULL, totp_last_step = $3, credential_version = credential_version + 1 \
     WHERE id = $1";

const NO_SECOND_FACTOR: &str = "UPDATE secure_accounts SET totp_secret = NULL, \
     totp_pending = NULL, totp_last_step = NULL, credential_version = credential_version + 1 \
     WHERE id = $1";

const DELETE_CODES: &str = "DELETE FROM secure_account_recovery_codes WHERE user_id = $1";

const INSERT_CODE: &str =
    "INSERT INTO secure_account_recovery_codes (id, user_id, code_hash) VALUES ($1, $2, $3)";

const SET_PENDING: &str = "UPDATE secure_accounts SET totp_pending = $2 WHERE id = $1";

const INSERT_RESET: &str = "INSERT INTO secure_account_resets (token_hash, user_id, expires_at, used_at) \
     VALUES ($1, $2, $3, NULL)";

const USE_RESET: &str = "UPDATE secure_account_resets SET used_at = $2 \
     WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2";

const RESET_ACCOUNT: &str = "SELECT user_id FROM secure_account_resets WHERE token_hash = $1";

const PURGE_RESETS: &str = "DELETE FROM secure_account_resets WHERE expires_at < $1";

const SEALED_SAMPLE: &str = "SELECT id, COALESCE(totp_secret, totp_pending) FROM secure_accounts \
     WHERE totp_secret IS NOT NULL OR totp_pending IS NOT NULL \
     ORDER BY created_at DESC, id LIMIT 8";

const SEALED_SECRETS: &str = "SELECT id, totp_secret FROM secure_accounts \
     WHERE totp_secret IS NOT NULL UNION ALL SELECT id, totp_pending FROM secure_accounts \
     WHERE totp_pending IS NOT NULL";

// Compare-and-set on the value read: a concurrent enrolment or confirmation wins.
const REPLACE_SEALED: &str = "UPDATE secure_accounts SET \
     totp_secret = CASE WHEN totp_secret = $2 THEN $3 ELSE totp_secret END, \
     totp_pending = CASE WHEN totp_pending = $2 THEN $3 ELSE totp_pending END \
     WHERE id = $1 AND (totp_secret = $2 OR totp_pending = $2)";

const INSERT_API_KEY: &str = "INSERT INTO secure_api_keys (id, owner_id, name, key_hash, \
     scopes, created_at, expires_at, revoked_at, last_used_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL)";
const API_KEY: &str = "SELECT k.id, k.owner_id, k.name, k.key_hash, k.scopes, a.roles, \
     k.created_at, k.expires_at, k.revoked_at, k.last_used_at \
     FROM secure_api_keys k JOIN secure_accounts a ON a.id = k.owner_id WHERE k.id = $1";
const API_KEYS_OF: &str = "SELECT k.id, k.owner_id, k.name, k.key_hash, k.scopes, a.roles, \
     k.created_at, k.expires_at, k.revoked_at, k.last_used_at \
     FROM secure_api_keys k JOIN secure_accounts a ON a.id = k.owner_id \
     WHERE k.owner_id = $1 ORDER BY k.created_at DESC, k.id";
const REVOKE_API_KEY: &str = "UPDATE secure_api_keys SET revoked_at = $3 \
     WHERE id = $2 AND owner_id = $1 AND revoked_at IS NULL";
const TOUCH_API_KEY: &str = "UPDATE secure_api_keys SET last_used_at = $2 \
     WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3)";

type KeyRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

fn key_record(r: KeyRow) -> ApiKeyRecord {
    let words = |s: String| s.split_whitespace().map(str::to_owned).collect();
    ApiKeyRecord {
        id: r.0,
        owner_id: r.1,
        name: r.2,
        key_hash: r.3,
        scopes: words(r.4),
        owner_roles: words(r.5),
        created_at: r.6,
        expires_at: r.7,
        revoked_at: r.8,
        last_used_at: r.9,
    }
}

const SET_ROLES: &str = "UPDATE secure_accounts SET roles = $2 WHERE id = $1";

const LINK_OF: &str =
    "SELECT account_id FROM secure_account_links WHERE issuer = $1 AND subject = $2";
const INSERT_LINK: &str = "INSERT INTO secure_account_links (issuer, subject, account_id, created_at) \
     VALUES ($1, $2, $3, $4)";
const PURGE_SIGN_INS: &str = "DELETE FROM secure_account_signins WHERE created_at < $1";

type Row = (
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<String>,
    Option<String>,
    Option<i64>,
);

fn record(r: Row) -> AccountRecord {
    AccountRecord {
        id: r.0,
        username: r.1,
        email: r.2,
        password_hash: r.3,
        roles: r.4.split_whitespace().map(str::to_owned).collect(),
        credential_version: r.5,
        totp_secret: r.6,
        totp_pending: r.7,
        totp_last_step: r.8,
    }
}

/// `amr` as stored: RFC 8176 names, space-separated. Unknown names are dropped (a method
/// this version does not know proves nothing to it).
fn parse_amr(text: &str) -> Vec<Amr> {
    text.split_whitespace()
        .filter_map(|name| match name {
            "pwd" => Some(Amr::Pwd),
            "otp" => Some(Amr::Otp),
            _ => None,
        })
        .collect()
}

fn amr_text(amr: &[Amr]) -> String {
    amr.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(" ")
}

impl SqlAccountStore {
    async fn link_of(&self, issuer: &str, subject: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = self
            .db
            .query(LINK_OF)
            .bind(issuer)
            .bind(subject)
            .fetch_optional()
            .await
            .map_err(StoreError::new)?;
        Ok(row.map(|r| r.0))
    }

    /// The account, its link to a provider's user when given, and the app's rows (the
    /// signup hook), in one transaction. `Ok(false)`: a unique constraint refused it (the name
    /// is taken, or the link was made meanwhile by another request).
    async fn insert(
        &self,
        account: &NewAccount<'_>,
        link: Option<(&str, &str)>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.db.begin().await.map_err(StoreError::new)?;
        let mut done = tx
            .query(INSERT)
            .bind(account.id)
            .bind(account.username)
            .bind(account.email)
            .bind(account.password_hash)
            .bind(account.roles.join(" "))
            .bind(account.created_at)
            .execute()
            .await;
        if let (Ok(_), Some((issuer, subject))) = (&done, link) {
            done = tx
                .query(INSERT_LINK)
                .bind(issuer)
                .bind(subject)
                .bind(account.id)
                .bind(account.created_at)
                .execute()
                .await;
        }
        match done {
            Ok(_) => {}
            Err(e)
                if e.as_database_error()
                    .is_some_and(|d| d.is_unique_violation()) =>
            {
                tx.rollback().await.map_err(StoreError::new)?;
                return Ok(false);
            }
            Err(e) => return Err(StoreError::new(e)),
        }
        if let Some(hook) = &self.hook {
            let signed_up = SignedUp {
                id: account.id,
                username: account.username,
                email: account.email,
            };
            if let Err(e) = hook.on_signup(&mut tx, signed_up).await {
                tx.rollback().await.map_err(StoreError::new)?;
                return Err(StoreError::new(e));
            }
        }
        tx.commit().await.map_err(StoreError::new)?;
        Ok(true)
    }
}

impl AccountStore for SqlAccountStore {
    async fn create(&self, account: NewAccount<'_>) -> Result<Created, StoreError> {
        Ok(if self.insert(&account, None).await? {
            Created::Created
        } else {
            Created::Taken
        })
    }

    async fn by_username(&self, username: &str) -> Result<Option<AccountRecord>, StoreError> {
        let row: Option<Row> = self
            .db
            .query(BY_USERNAME)
            .bind(username)
            .fetch_optional()
            .await
            .map_err(StoreError::new)?;
        Ok(row.map(record))
    }

    async fn by_id(&self, id: &str) -> Result<Option<AccountRecord>, StoreError> {
        let row: Option<Row> = self
            .db
            .query(BY_ID)
            .bind(id)
            .fetch_optional()
            .await
            .map_err(StoreError::new)?;
        Ok(row.map(record))
    }

    async fn rehash_password(&self, id: &str, password_hash: &str) -> Result<(), StoreError> {
        self.db
            .query(REHASH)
            .bind(id)
            .bind(password_hash)
            .execute()
            .await
            .map(|_| ())
            .map_err(StoreError::new)
    }

    async fn advance_totp_step(&self, id: &str, step: i64) -> Result<bool, StoreError> {
        let done = self
            .db
            .query(ADVANCE_STEP)
            .bind(id)
            .bind(step)
            .execute()
            .await
            .map_err(StoreError::new)?;
        Ok(done == 1)
    }

    async fn recovery_codes(&self, id: &str) -> Result<Vec<(String, String)>, StoreError> {
        self.db
            .query(CODES)
            .bind(id)
            .fetch_all()
            .await
            .map_err(StoreError::new)
    }

    async fn use_recovery_code(&self, id: &str, code_id: &str) -> Result<bool, StoreError> {
        let done = self
            .db
            .query(USE_CODE)
            .bind(id)
            .bind(code_id)
            .execute()
            .await
            .map_err(StoreError::new)?;
        Ok(done == 1)
    }

    async fn record_sign_in(&self, record: &SignInRecord, now: i64) -> Result<(), StoreError> {
        self.db
            .query(INSERT_SIGN_IN)
            .bind(record.family_id.as_str())
            .bind(record.user_id.as_str())
            .bind(amr_text(&record.amr))
            .bind(record.auth_time)
            .bind(record.credential_version)
            .bind(now)
            .execute()
            .await
            .map(|_| ())
            .map_err(StoreError::new)
    }

    async fn sign_in(&self, family_id: &str) -> Result<Option<SignInRecord>, StoreError> {
        let row: Option<(String, String, String, i64, i64)> = self
            .db
            .query(SIGN_IN)
            .bind(family_id)
            .fetch_optional()
            .await
            .map_err(StoreError::new)?;
        Ok(row.map(
            |(family_id, user_id, amr, auth_time, credential_version)| SignInRecord {
                family_id,
                user_id,
                amr: parse_amr(&amr),
                auth_time,
                credential_version,
            },
        ))
    }

    async fn end_sign_ins(&self, id: &str) -> Result<Option<i64>, StoreError> {
        let mut tx = self.db.begin().await.map_err(StoreError::new)?;
        tx.query(END_SIGN_INS)
            .bind(id)
            .execute()
            .await
            .map_err(StoreError::new)?;
        let version = tx
            .query(VERSION)
            .bind(id)
            .fetch_i64()
            .await
            .map_err(StoreError::new)?;
        tx.commit().await.map_err(StoreError::new)?;
        Ok(version)
    }

    async fn change_credentials(
        &self,
        id: &str,
        change: CredentialChange<'_>,
    ) -> Result<Option<i64>, StoreError> {
        let mut tx = self.db.begin().await.map_err(StoreError::new)?;
        let (update, value, step, codes) = match change {
            CredentialChange::Password(hash) => (SET_PASSWORD, Some(hash), None, None),
            CredentialChange::SecondFactor {
                totp_secret,
                confirmed_step,
                recovery_codes,
            } => (
                SET_SECOND_FACTOR,
                Some(totp_secret),
                Some(confirmed_step),
                Some(recovery_codes),
            ),
            CredentialChange::RecoveryCodes(codes) => (END_SIGN_INS, None, None, Some(codes)),
            CredentialChange::NoSecondFactor => (NO_SECOND_FACTOR, None, None, Some(&[][..])),
        };
        let mut query = tx.query(update).bind(id);
        if let Some(value) = value {
            query = query.bind(value);
        }
        if let Some(step) = step {
            query = query.bind(step);
        }
        if query.execute().await.map_err(StoreError::new)? == 0 {
            // No such account: nothing to change (the transaction rolls back unused).
            return Ok(None);
        }
        if let Some(codes) = codes {
            tx.query(DELETE_CODES)
                .bind(id)
                .execute()
                .await
                .map_err(StoreError::new)?;
            for hash in codes {
                tx.query(INSERT_CODE)
                    .bind(super::new_id())
                    .bind(id)
                    .bind(hash.as_str())
                    .execute()
                    .await
                    .map_err(StoreError::new)?;
            }
        }
        let version = tx
            .query(VERSION)
            .bind(id)
            .fetch_i64()
            .await
            .map_err(StoreError::new)?;
        tx.commit().await.map_err(StoreError::new)?;
        Ok(version)
    }

    async fn set_pending_totp(&self, id: &str, sealed: &str) -> Result<bool, StoreError> {
        let done = self
            .db
            .query(SET_PENDING)
            .bind(id)
            .bind(sealed)
            .execute()
            .await
            .map_err(StoreError::new)?;
        Ok(done == 1)
    }

    async fn create_reset(
        &self,
        token_hash: &str,
        id: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.db
            .query(INSERT_RESET)
            .bind(token_hash)
            .bind(id)
            .bind(expires_at)
            .execute()
            .await
            .map(|_| ())
            .map_err(StoreError::new)
    }

    async fn use_reset(&self, token_hash: &str, now: i64) -> Result<Option<String>, StoreError> {
        let mut tx = self.db.begin().await.map_err(StoreError::new)?;
        let claimed = tx
            .query(USE_RESET)
            .bind(token_hash)
            .bind(now)
            .execute()
            .await
            .map_err(StoreError::new)?
            == 1;
        if !claimed {
            return Ok(None);
        }
        let row: Option<(String,)> = tx
            .query(RESET_ACCOUNT)
            .bind(token_hash)
            .fetch_optional()
            .await
            .map_err(StoreError::new)?;
        tx.commit().await.map_err(StoreError::new)?;
        Ok(row.map(|(id,)| id))
    }

    async fn sealed_sample(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.db
            .query(SEALED_SAMPLE)
            .fetch_all()
            .await
            .map_err(StoreError::new)
    }

    async fn sealed_secrets(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.db
            .query(SEALED_SECRETS)
            .fetch_all()
            .await
            .map_err(StoreError::new)
    }

    async fn replace_sealed(&self, id: &str, old: &str, new: &str) -> Result<bool, StoreError> {
        let done = self
            .db
            .query(REPLACE_SEALED)
            .bind(id)
            .bind(old)
            .bind(new)
            .execute()
            .await
            .map_err(StoreError::new)?;
        Ok(done == 1)
    }

    async fn create_api_key(&self, key: NewApiKey<'_>) -> Result<(), StoreError> {
        self.db
            .query(INSERT_API_KEY)
            .bind(key.id)
            .bind(key.owner_id)
            .bind(key.name)
            .bind(key.key_hash)
            .bind(key.scopes.join(" "))
            .bind(key.created_at)
            .bind(key.expires_at)
            .execute()
            .await
            .map(drop)
            .map_err(StoreError::new)
    }

    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        let row: Option<KeyRow> = self
            .db
            .query(API_KEY)
            .bind(id)
            .fetch_optional()
            .await
            .map_err(StoreError::new)?;
        Ok(row.map(key_record))
    }

    async fn api_keys_of(&self, owner_id: &str) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let rows: Vec<KeyRow> = self
            .db
            .query(API_KEYS_OF)
            .bind(owner_id)
            .fetch_all()
            .await
            .map_err(StoreError::new)?;
        Ok(rows.into_iter().map(key_record).collect())
    }

    async fn revoke_api_key(&self, owner_id: &str, id: &str, now: i64) -> Result<bool, StoreError> {
        let done = self
            .db
            .query(REVOKE_API_KEY)
            .bind(owner_id)
            .bind(id)
            .bind(now)
            .execute()
            .await
            .map_err(StoreError::new)?;
        Ok(done == 1)
    }

    async fn touch_api_key(&self, id: &str, now: i64) -> Result<(), StoreError> {
        self.db
            .query(TOUCH_API_KEY)
            .bind(id)
            .bind(now)
            .bind(now.saturating_sub(60))
            .execute()
            .await
            .map(drop)
            .map_err(StoreError::new)
    }

    async fn link(
        &self,
        issuer: &str,
        subject: &str,
        account: NewAccount<'_>,
    ) -> Result<String, StoreError> {
        if let Some(id) = self.link_of(issuer, subject).await? {
            return Ok(id);
        }
        if self.insert(&account, Some((issuer, subject))).await? {
            return Ok(account.id.to_owned());
        }
        self.link_of(issuer, subject)
            .await?
            .ok_or_else(|| StoreError::new("a link was refused as taken, and none is there"))
    }

    async fn set_roles(&self, id: &str, roles: &[&str]) -> Result<bool, StoreError> {
        let done = self
            .db
            .query(SET_ROLES)
            .bind(id)
            .bind(roles.join(" "))
            .execute()
            .await
            .map_err(StoreError::new)?;
        Ok(done == 1)
    }

    async fn purge_sign_ins(&self, before: i64) -> Result<u64, StoreError> {
        let resets = self
            .db
            .query(PURGE_RESETS)
            .bind(before)
            .execute()
            .await
            .map_err(StoreError::new)?;
        let sign_ins = self
            .db
            .query(PURGE_SIGN_INS)
            .bind(before)
            .execute()
            .await
            .map_err(StoreError::new)?;
        Ok(resets + sign_ins)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_selects_read_every_column_by_the_key_they_name() {
        for (sql, key) in [(BY_USERNAME, "username"), (BY_ID, "id")] {
            assert!(sql.contains(COLUMNS), "{sql}");
            assert!(sql.ends_with(&format!("WHERE {key} = $1")), "{sql}");
        }
    }

    #[test]
    fn amr_round_trips_and_unknown_methods_prove_nothing() {
        assert_eq!(amr_text(&[Amr::Pwd, Amr::Otp]), "pwd otp");
        assert_eq!(parse_amr("pwd otp"), [Amr::Pwd, Amr::Otp]);
        assert_eq!(parse_amr("pwd hwk"), [Amr::Pwd]);
        assert!(parse_amr("").is_empty());
    }
}
