//! Store errors: a database or Redis that could not answer.

/// A store (a database, Redis) could not answer: unreachable, timed out, a constraint or an
/// unexpected reply. The one store error of the crate, for credential stores (refresh tokens,
/// sessions) and rate-limit stores alike. Its message carries the store's own (for the log,
/// never a response); callers wrap only the store's error, so no key, token hash or subject.
///
/// ```
/// use secure_core::error::StoreError;
///
/// let e = StoreError::new(std::io::Error::other("db-7 refused"));
/// assert_eq!(e.to_string(), "store unavailable: db-7 refused");
/// ```
#[derive(Debug, thiserror::Error)]
#[error("store unavailable: {0}")]
pub struct StoreError(Box<dyn std::error::Error + Send + Sync>);

impl StoreError {
    /// Wraps the cause.
    pub fn new(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        StoreError(cause.into())
    }
}
