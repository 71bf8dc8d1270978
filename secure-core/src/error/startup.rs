//! Start-up errors: settings that cannot be used, found when they are built.

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
