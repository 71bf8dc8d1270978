//! notes-api: a multi-user notes service built only from secure-core's public API, and the
//! reference for how the pieces fit: validated input, declared access on every route,
//! Argon2id passwords, JWT access tokens with rotating refresh tokens, TOTP with recovery
//! codes, cookie sessions with CSRF, rate limits, and SQLite or PostgreSQL through sqlx with
//! bind parameters only.
//!
//! [`app`] builds the whole service as an axum router, so tests run it in-process:
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use secure_core::config::{Keys, SecurityConfig};
//!
//! let db = notes_api::connect("sqlite::memory:").await?;
//! notes_api::migrate(&db).await?;
//! let config = SecurityConfig::new().with_keys(Keys::ephemeral());
//! let app = notes_api::app(db, config, notes_api::Options::default())?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! secure_core::serve::serve(listener, app).await?;
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

mod account;
mod admin;
mod auth;
mod db;
mod mfa;
mod notes;
mod problem;
mod session;
mod users;

use std::sync::Arc;
use std::time::Duration;

use secure_core::auth::Authenticator;
use secure_core::auth::Role;
use secure_core::auth::device::DeviceTokens;
use secure_core::auth::jwt::{AccessTokens, TokenConfigError};
use secure_core::auth::mfa::{MfaError, TotpIssuer};
use secure_core::auth::password::PasswordHasher;
use secure_core::auth::refresh::{RefreshTokens, SqlRefreshTokenStore};
use secure_core::config::SecurityConfig;
use secure_core::crypto::DataKeys;
use secure_core::error::AssemblyError;
use secure_core::policy::SecureApp;
use secure_core::policy::SecureRouter;
use secure_core::ratelimit::RateLimiter;
use secure_core::routing::{get, post};
use secure_core::session::{SessionManager, SqlSessionStore};

pub use db::{connect, migrate};
pub use secure_core::sql::Database;
pub use secure_core::sql::MigrationError;
pub use users::{CreateAdminError, Rekeyed, create_admin, rekey};

/// The roles of this service. `Member` is every signed-up user; `Admin` is made with
/// `notes-api create-admin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
pub enum AppRole {
    /// May list all users (with a second factor).
    Admin,
    /// Owns notes.
    Member,
}

/// `iss` of the access tokens this service issues, and the only one it accepts.
pub const TOKEN_ISSUER: &str = "notes-api";
/// `aud` of the access tokens.
pub const TOKEN_AUDIENCE: &str = "notes-api";
/// The issuer name authenticator apps show.
pub const TOTP_ISSUER: &str = "notes-api";

/// What the handlers share: one `Arc`, so the per-request clone axum makes is one counter
/// increment rather than one per pool and store.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The database of `Authorized<..>` and `AuthorizedList<..>`.
impl axum::extract::FromRef<AppState> for Database {
    fn from_ref(state: &AppState) -> Self {
        state.db.clone()
    }
}

/// The contents of [`AppState`].
#[derive(Debug)]
pub struct Shared {
    db: Database,
    hasher: PasswordHasher,
    refresh: RefreshTokens<SqlRefreshTokenStore>,
    sessions: SessionManager<SqlSessionStore>,
    totp: TotpIssuer,
    data_keys: DataKeys,
    devices: DeviceTokens,
    /// Issues access tokens at login (the app's authenticator verifies them).
    tokens: AccessTokens,
    /// The app's own limiter: the login limit and the per-account throttle count here.
    limiter: Arc<RateLimiter>,
}

impl Shared {
    /// The keys TOTP secrets are sealed with (`SECURE_DATA_KEY`).
    pub(crate) fn data_keys(&self) -> &DataKeys {
        &self.data_keys
    }
}

/// Settings that are not security configuration.
#[derive(Debug, Clone)]
pub struct Options {
    /// Argon2id with OWASP parameters by default; tests pass cheaper ones.
    pub password_hasher: PasswordHasher,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            password_hasher: PasswordHasher::new(),
        }
    }
}

/// Why the service could not be built.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// The configuration has no keys: use `SecurityConfig::from_env` or `with_keys`.
    NoKeys,
    /// The access-token settings were refused.
    Tokens(TokenConfigError),
    /// The TOTP issuer name was refused.
    Totp(MfaError),
    /// The routes need what the configuration lacks.
    Assembly(AssemblyError),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::NoKeys => f.write_str(
                "the security configuration has no keys (SecurityConfig::from_env or with_keys)",
            ),
            StartError::Tokens(e) => write!(f, "access tokens: {e}"),
            StartError::Totp(e) => write!(f, "TOTP: {e}"),
            StartError::Assembly(e) => write!(f, "assembly: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

/// Every route with its declared policy. `routes().policies()` is the table printed at
/// start-up.
pub fn routes() -> SecureRouter<AppState> {
    SecureRouter::new()
        .route("/health", get(health))
        .route("/auth/signup", post(auth::signup))
        .route("/auth/login", post(auth::login))
        .route("/auth/refresh", post(auth::refresh))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/reauth", post(account::reauth))
        .route("/auth/password", post(account::change_password))
        .route("/auth/mfa/enroll", post(mfa::enroll))
        .route("/auth/mfa/confirm", post(mfa::confirm))
        .route("/auth/mfa/recovery-codes", post(mfa::new_recovery_codes))
        .route("/auth/mfa/disable", post(mfa::disable))
        .route("/notes", get(notes::list_notes).post(notes::create_note))
        .route(
            "/notes/{id}",
            get(notes::get_note)
                .put(notes::update_note)
                .delete(notes::delete_note),
        )
        .route("/admin/users", get(admin::list_users))
        .route("/admin/users/{id}/mfa/reset", post(mfa::admin_reset))
        .route("/session/login", post(session::session_login))
        .route("/session/logout", post(session::session_logout))
}

/// The service: [`routes`] behind secure-core's stack (`into_app`), authenticating bearer
/// access tokens and session cookies with the keys of `config`. Run migrations first
/// ([`migrate`]). Inside a tokio runtime it also starts the hourly purge of ended
/// refresh-token families and sessions.
pub fn app(
    db: Database,
    config: SecurityConfig,
    options: Options,
) -> Result<SecureApp, StartError> {
    let keys = config.keys().ok_or(StartError::NoKeys)?;
    let tokens = AccessTokens::builder(keys.access_token_key(), TOKEN_ISSUER, TOKEN_AUDIENCE)
        .build()
        .map_err(StartError::Tokens)?;
    let sessions = SessionManager::new(SqlSessionStore::new(db.clone()), keys.csrf_key());
    let state = AppState(Arc::new(Shared {
        refresh: RefreshTokens::new(SqlRefreshTokenStore::new(db.clone())),
        sessions: sessions.clone(),
        // The parameters are the options'; how many hashes run at once is the configuration's.
        hasher: options.password_hasher.with_limit(config.hash_limit()),
        totp: TotpIssuer::new(TOTP_ISSUER).map_err(StartError::Totp)?,
        data_keys: keys.data_keys(),
        devices: DeviceTokens::new(keys.data_keys()),
        tokens: tokens.clone(),
        limiter: config.limiter(),
        db,
    }));
    if tokio::runtime::Handle::try_current().is_ok() {
        tokio::spawn(purge(state.clone()));
    }
    let authenticator = Authenticator::new(tokens).with_sessions(Arc::new(sessions));
    routes()
        .with_state(state)
        .into_app(config.authenticator(authenticator))
        .map_err(StartError::Assembly)
}

/// Deletes ended refresh-token families, their login records, and ended sessions, hourly.
async fn purge(state: AppState) {
    let mut every = tokio::time::interval(Duration::from_secs(60 * 60));
    loop {
        every.tick().await;
        if let Err(e) = state.refresh.purge_expired().await {
            tracing::warn!(target: "notes_api", error = %e, "refresh-token purge failed");
        }
        let month_ago = db::unix_now().saturating_sub(31 * 24 * 60 * 60);
        if let Err(e) = users::purge_families(&state.db, month_ago).await {
            tracing::warn!(target: "notes_api", error = %e, "login-family purge failed");
        }
        if let Err(e) = state.sessions.purge_expired().await {
            tracing::warn!(target: "notes_api", error = %e, "session purge failed");
        }
    }
}

#[derive(Debug, serde::Serialize)]
struct Health {
    status: &'static str,
}

/// `200 {"status":"ok"}`.
#[secure_core::secure_handler(public)]
async fn health() -> axum::Json<Health> {
    axum::Json(Health { status: "ok" })
}
