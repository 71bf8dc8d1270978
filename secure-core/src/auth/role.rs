//! Roles: the closed set of names an application grants, as a Rust enum.
//!
//! What this protects against: authorisation by stringly-typed role names (ASVS 4.1.3, 4.2.1:
//! least privilege, checks that cannot be mistyped). A role a token carries is turned into a
//! variant with [`Role::parse`]; a name the enum does not know is **rejected**, never ignored,
//! so a token minted for another application (or another version of this one) is refused
//! rather than half-understood. Handlers then compare variants, so `has_role(Admn)` does not
//! compile.
//!
//! `#[derive(Role)]` implements the trait for a fieldless enum. Each variant's wire name is its
//! name in snake_case (`SupportAgent` -> `support_agent`), or `#[role(rename = "...")]`.
//! Wire names must be unique and made of `A-Z a-z 0-9 _ - . :`; both are checked at compile time.
//!
//! ```
//! use secure_core::auth::Role;
//!
//! #[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
//! enum AppRole {
//!     Admin,
//!     SupportAgent,
//!     #[role(rename = "billing:read")]
//!     BillingReader,
//! }
//!
//! assert_eq!(AppRole::SupportAgent.as_str(), "support_agent");
//! assert_eq!(AppRole::parse("billing:read"), Some(AppRole::BillingReader));
//! assert_eq!(AppRole::parse("Admin"), None); // exact match only
//! assert_eq!(AppRole::ALL.len(), 3);
//! ```

/// A closed set of roles. Implement it with `#[derive(Role)]` on a fieldless enum.
///
/// `as_str` and `parse` must be inverse of each other over [`Role::ALL`]; the derive
/// guarantees it, and [`Role::parse`] matches exactly (no case folding, no trimming).
///
/// ```
/// use secure_core::auth::Role;
///
/// #[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
/// enum AppRole {
///     Admin,
///     Member,
/// }
///
/// for role in AppRole::ALL {
///     assert_eq!(AppRole::parse(role.as_str()), Some(*role));
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a role enum",
    label = "this type does not implement `Role`",
    note = "add `#[derive(Role)]` (from `secure_core::auth`) to a fieldless enum of your roles"
)]
pub trait Role: Copy + Eq + std::fmt::Debug + Send + Sync + 'static {
    /// Every role, in declaration order.
    const ALL: &'static [Self];

    /// The wire name, as it appears in a token's `roles` claim.
    fn as_str(self) -> &'static str;

    /// The role whose wire name is exactly `s`, or `None`.
    fn parse(s: &str) -> Option<Self>;
}

pub use secure_macros::Role;
