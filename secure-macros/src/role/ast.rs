//! The checked-shape IR of `#[derive(Role)]`: a fieldless enum and each variant's wire name.

use proc_macro2::Span;
use syn::Ident;

/// A fieldless enum whose variants are roles.
pub(crate) struct RoleEnum<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) generics: &'a syn::Generics,
    pub(crate) variants: Vec<RoleVariant<'a>>,
}

/// One role: the variant and the name it has in tokens.
pub(crate) struct RoleVariant<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) wire: String,
    /// The `rename` literal if there is one, else the variant name: where errors point.
    pub(crate) wire_span: Span,
    pub(crate) renamed: bool,
}
