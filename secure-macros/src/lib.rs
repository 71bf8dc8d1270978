//! Procedural macros of the `secure` framework. Use them through `secure_core`.
#![forbid(unsafe_code)]

use proc_macro::TokenStream;

mod diag;
#[allow(dead_code)] // wired into an attribute once its runtime lands
mod handler;
mod meta;
mod sensitive;
mod validated;

/// Derives `secure_core::Validate`: see `secure_core` for the rules.
#[proc_macro_derive(Validated, attributes(validate))]
pub fn derive_validated(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    validated::expand(&input).into()
}

/// Marks a type (or, inside such a type, some of its fields) as secret: a redacting `Debug`,
/// zeroize on drop, and no `derive(Debug)` or unmasked `derive(Serialize)`. Write it above
/// `#[derive(...)]`. See `secure_core::sensitive`.
#[proc_macro_attribute]
pub fn sensitive(args: TokenStream, input: TokenStream) -> TokenStream {
    sensitive::expand(args.into(), input.into()).into()
}
