//! Scopes: what a scoped credential (an API key) may do, as a Rust enum.
//!
//! A user's token or session is not scoped: its roles decide. A scoped credential carries
//! scope names ([`Identity::scopes`](super::Identity::scopes) is `Some`), and reaches only the
//! routes that declare one of them: `#[secure_handler(auth, scopes(AppScope::NotesRead))]`.
//! A route that declares no scopes (an account route, an administrators' route) refuses every
//! scoped credential, so a key never does more than it was made for (ASVS 4.1.3, least
//! privilege; OAuth's `insufficient_scope`). The scopes of a route are checked at compile
//! time: only a variant of a `#[derive(Scope)]` enum is accepted.
//!
//! ```
//! use secure_core::auth::Scope;
//!
//! #[derive(Debug, Clone, Copy, PartialEq, Eq, Scope)]
//! enum AppScope {
//!     #[scope(rename = "notes:read")]
//!     NotesRead,
//!     #[scope(rename = "notes:write")]
//!     NotesWrite,
//! }
//!
//! assert_eq!(AppScope::NotesRead.as_str(), "notes:read");
//! assert_eq!(AppScope::parse("notes:write"), Some(AppScope::NotesWrite));
//! assert_eq!(AppScope::parse("notes:*"), None);
//! ```

/// A closed set of scopes. Implement it with `#[derive(Scope)]` on a fieldless enum; the
/// wire names follow the rules of [`Role`](super::Role)'s.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a scope enum",
    label = "this type does not implement `Scope`",
    note = "add `#[derive(Scope)]` (from `secure_core::auth`) to a fieldless enum of your scopes"
)]
pub trait Scope: Copy + Eq + std::fmt::Debug + Send + Sync + 'static {
    /// Every scope, in declaration order.
    const ALL: &'static [Self];

    /// The wire name, as a credential records it.
    fn as_str(self) -> &'static str;

    /// The scope whose wire name is exactly `s`, or `None`.
    fn parse(s: &str) -> Option<Self>;
}

pub use secure_macros::Scope;
