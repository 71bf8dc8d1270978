//! notes-api: a multi-user notes service built only from secure-core's public API, and the
//! reference for how the pieces fit. Its accounts are secure-core's
//! ([`secure_core::accounts`]: signup, sign-in with the throttles, refresh, sign-out, step-up,
//! password change and reset, TOTP with recovery codes, cookie sessions with CSRF, an
//! administrator's MFA reset); what it adds is each user's notes, declared resources on
//! SQLite or PostgreSQL with bind parameters only, and an administrators' list of accounts.
//!
//! [`accounts`] and [`app`] build the whole service, so tests run it in-process:
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use secure_core::config::{Keys, SecurityConfig};
//!
//! let db = notes_api::connect("sqlite::memory:").await?;
//! notes_api::migrate(&db).await?;
//! let config = SecurityConfig::new().with_keys(Keys::ephemeral());
//! let accounts = notes_api::accounts(&db, &config, &notes_api::Options::default()).await?;
//! let app = notes_api::app(db, config, &accounts)?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! secure_core::serve::serve(listener, app).await?;
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

mod admin;
mod db;
mod notes;
pub mod upgrade;

use secure_core::accounts::{Accounts, AccountsError, LogNotifier};
use secure_core::auth::oidc::OidcConfigError;
use secure_core::auth::password::PasswordHasher;
use secure_core::auth::{Role, Scope};
use secure_core::config::SecurityConfig;
use secure_core::error::AssemblyError;
use secure_core::policy::{SecureApp, SecureRouter};
use secure_core::routing::get;

pub use db::{connect, migrate};
pub use secure_core::sql::{Database, MigrationError};

/// The roles of this service. `Member` is every signed-up user; `Admin` is made with
/// `notes-api create-admin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
pub enum AppRole {
    /// May list all accounts and reset another's second factor (with a second factor).
    Admin,
    /// Owns notes.
    Member,
    /// Reads the service's metrics (`GET /metrics`): a service account for the scraper, made
    /// with `notes-api service-account --role monitor --scope metrics:read`.
    Monitor,
}

/// What an API key may be made for (`POST /auth/api-keys`): keys reach the notes routes
/// that declare their scope, and nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Scope)]
pub enum AppScope {
    /// List and read notes.
    #[scope(rename = "notes:read")]
    NotesRead,
    /// Also write and delete them.
    #[scope(rename = "notes:write")]
    NotesWrite,
    /// Read the metrics, with the `Monitor` role.
    #[scope(rename = "metrics:read")]
    MetricsRead,
}

/// `iss` and `aud` of the access tokens this service issues, the only ones it accepts, and
/// the issuer name authenticator apps show.
pub const TOKEN_NAME: &str = "notes-api";

/// Settings that are not security configuration.
#[derive(Debug, Clone)]
pub struct Options {
    /// Argon2id with OWASP parameters by default; tests pass cheaper ones.
    pub password_hasher: PasswordHasher,
    /// Password reset with the development notifier, which logs links made of this and the
    /// token (`NOTES_RESET_LINK`). Set by default in debug builds only: a release build
    /// refuses to start with it (give `Accounts` a real `Notifier` there).
    pub reset_link: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            password_hasher: PasswordHasher::new(),
            reset_link: cfg!(debug_assertions).then(|| "http://localhost:3000/reset#".to_owned()),
        }
    }
}

/// Why the service could not be built.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// The accounts refused the configuration (keys, data keys, notifier).
    Accounts(AccountsError),
    /// TOTP secrets from before the accounts module could not be moved to it.
    Upgrade(upgrade::UpgradeError),
    /// The routes need what the configuration lacks.
    Assembly(AssemblyError),
    /// `SECURE_OIDC_*` name a provider that is misconfigured or names another issuer.
    Oidc(OidcConfigError),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Accounts(e) => write!(f, "{e}"),
            StartError::Upgrade(e) => write!(f, "moving TOTP secrets to the accounts: {e}"),
            StartError::Assembly(e) => write!(f, "assembly: {e}"),
            StartError::Oidc(e) => write!(f, "OpenID provider: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

/// The accounts on `db`: bearer tokens and cookie sessions, open signup, `Admin` given only
/// to sign-ins with the second factor and resetting others' second factors, password reset
/// when [`Options::reset_link`] is set. TOTP secrets stored
/// by earlier versions are sealed for the accounts first.
pub async fn accounts(
    db: &Database,
    config: &SecurityConfig,
    options: &Options,
) -> Result<Accounts, StartError> {
    if let Some(keys) = config.keys() {
        upgrade::reseal_old_secrets(db, &keys.data_keys())
            .await
            .map_err(StartError::Upgrade)?;
    }
    let mut builder = Accounts::builder(db.clone(), config, AppRole::Member)
        .token_name(TOKEN_NAME)
        .password_hasher(options.password_hasher.clone())
        .cookie_sessions(true)
        .admin_role(AppRole::Admin)
        // An administrator signed in with a password alone is a member.
        .mfa_required_for(&[AppRole::Admin])
        // `notes_<random>_<checksum>` keys for scripts, scoped by AppScope.
        .api_keys::<AppScope>("notes");
    if let Some(link) = &options.reset_link {
        builder = builder.password_reset(LogNotifier::new(link.as_str()));
    }
    // Users of an outside provider (SECURE_OIDC_*), each linked to an account of its own;
    // their tokens reach the notes routes by scope (`notes:read`, `notes:write`).
    if let Some(provider) = config.oidc_provider::<AppRole>() {
        let provider = provider.map_err(StartError::Oidc)?;
        builder = builder.provider(provider.discover().await.map_err(StartError::Oidc)?);
    }
    builder.build().await.map_err(StartError::Accounts)
}

/// What the routes share: the database (what the notes' handlers and `Authorized` take),
/// and the rate limiter, whose store readiness asks.
#[derive(Debug, Clone)]
pub struct AppState {
    db: Database,
    limiter: std::sync::Arc<secure_core::ratelimit::RateLimiter>,
}

impl secure_core::prelude::FromRef<AppState> for Database {
    fn from_ref(state: &AppState) -> Database {
        state.db.clone()
    }
}

/// Every route with its declared policy: the accounts' under `/auth`, the notes, the
/// administrators' list, on the service's database.
pub fn routes(accounts: &Accounts) -> SecureRouter<AppState> {
    SecureRouter::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics_text))
        .merge(accounts.router())
        .route("/notes", get(notes::list_notes).post(notes::create_note))
        .route(
            "/notes/{id}",
            get(notes::get_note)
                .put(notes::update_note)
                .delete(notes::delete_note),
        )
        .route("/admin/users", get(admin::list_users))
}

/// The service: [`routes`] behind secure-core's stack, authenticating the access tokens and
/// session cookies of `accounts` (from [`accounts`]). Run migrations first ([`migrate`]).
pub fn app(
    db: Database,
    config: SecurityConfig,
    accounts: &Accounts,
) -> Result<SecureApp, StartError> {
    let state = AppState {
        db,
        limiter: config.limiter(),
    };
    routes(accounts)
        .with_state(state)
        .into_app(config.authenticator(accounts.authenticator()))
        .map_err(StartError::Assembly)
}

#[derive(Debug, serde::Serialize)]
struct Health {
    status: &'static str,
}

/// `200 {"status":"ok"}`: the process serves (liveness).
#[secure_core::secure_handler(public)]
async fn health() -> axum::Json<Health> {
    axum::Json(Health { status: "ok" })
}

/// `200 {"status":"ok"}` when the database answers and so does the rate-limit store when
/// there is one (`SECURE_REDIS_URL`), else 503 (readiness; the stack makes the body a bare
/// problem+json). Keys are loaded at start-up or the service does not start.
#[secure_core::secure_handler(public)]
async fn ready(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> (axum::http::StatusCode, axum::Json<Health>) {
    let database = state.db.query("SELECT 1").fetch_one::<(i32,)>().await;
    let limits = state.limiter.ready().await;
    let failed = match (&database, &limits) {
        (Ok(_), Ok(())) => {
            return (
                axum::http::StatusCode::OK,
                axum::Json(Health { status: "ok" }),
            );
        }
        (Err(e), _) => ("the database", e.to_string()),
        (_, Err(e)) => ("the rate-limit store", e.to_string()),
    };
    tracing::warn!(error = %failed.1, "not ready: {} does not answer", failed.0);
    (
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(Health {
            status: "unavailable",
        }),
    )
}

/// The Prometheus text of `secure_core::metrics`: to a `Monitor` (its API key with
/// `metrics:read`), never to anyone else.
#[secure_core::secure_handler(auth, roles(AppRole::Monitor), scopes(AppScope::MetricsRead))]
async fn metrics_text() -> Result<secure_core::metrics::Metrics, secure_core::error::ApiError> {
    // Installed by `into_app`; another recorder in the process is a server fault (500).
    Ok(secure_core::metrics::install()?)
}
