//! Start-up errors: settings that cannot be used, found when they are built, and routes
//! that cannot be assembled.

use std::fmt;

/// A security setting that cannot be used, found when it is built (at start-up): the message
/// names the setting, directive, header, origin or variable at fault. Never a panic. The one
/// configuration error of the crate (re-exported as `config::ConfigError`).
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A Content-Security-Policy directive is unknown, malformed or unsafe.
    #[error("Content-Security-Policy directive `{directive}`: {reason}")]
    Csp {
        /// The directive at fault.
        directive: String,
        /// Why it is refused.
        reason: String,
    },
    /// A response header cannot be set as asked.
    #[error("security header `{name}`: {reason}")]
    Header {
        /// The header at fault.
        name: String,
        /// Why it is refused.
        reason: String,
    },
    /// The CORS settings are unsafe or malformed.
    #[error("CORS: {0}")]
    Cors(String),
    /// A `SECURE_*` variable is missing, malformed, weak or unknown.
    #[error("{var}: {reason}")]
    Env {
        /// The variable at fault.
        var: String,
        /// Why it is refused (never a key's content).
        reason: String,
    },
    /// A lifetime or timeout of zero: every token or session would be born expired.
    #[error("{0} must be at least one second")]
    ZeroDuration(&'static str),
    /// A key shorter than `min` bytes.
    #[error("the {key} key must be at least {min} bytes, not {got}")]
    KeyTooShort {
        /// Which key (`CSRF`).
        key: &'static str,
        /// The minimum (32).
        min: usize,
        /// The length given.
        got: usize,
    },
}

super::debug_as_display!(ConfigError);

/// Why an app could not be assembled: each names the routes at fault and the fix, in
/// `Debug` as in `Display` (what `main` prints when it returns the error).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AssemblyError {
    /// `auth` routes, and no authenticator in the configuration.
    NoAuthenticator {
        /// `GET /notes`, ...
        routes: Vec<String>,
    },
    /// An unprotected route whose reason says nothing.
    UnprotectedWithoutReason {
        /// `POST /webhook`
        route: String,
    },
    /// A handler whose own SQL reads or changes the table of a resource other routes load
    /// through `Authorized<..>`: a query that may skip the object check.
    UncheckedObjectQuery {
        /// `GET /leaky/{id}`
        route: String,
        /// `notes`
        table: String,
    },
}

impl fmt::Display for AssemblyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AssemblyError::NoAuthenticator { routes } => write!(
                f,
                "{} need an authenticator and the configuration has none: add one with \
                 `SecurityConfig::authenticator(Authenticator::new(tokens))` (access tokens \
                 from `AccessTokens::builder(keys.access_token_key(), issuer, audience)`)",
                routes.join(", ")
            ),
            AssemblyError::UnprotectedWithoutReason { route } => write!(
                f,
                "{route} is unprotected without a reason: write why it is safe (10 characters \
                 or more), such as \"HMAC-signed webhook, verified before parsing\""
            ),
            AssemblyError::UncheckedObjectQuery { route, table } => write!(
                f,
                "{route} reads or changes `{table}` with its own SQL, outside the object check: \
                 take `Authorized<..>` or `AuthorizedList<..>` (the resource's scoped queries), or, \
                 when the query is not one caller's rows on purpose (a count, a report), declare it \
                 with `reads({table}, reason = \"...\")` so the policy table says why"
            ),
        }
    }
}

impl std::error::Error for AssemblyError {}

super::debug_as_display!(AssemblyError);
