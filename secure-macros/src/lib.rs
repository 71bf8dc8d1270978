//! Procedural macros of the `secure` framework. Use them through `secure_core`.
#![forbid(unsafe_code)]

use proc_macro::TokenStream;

mod diag;
mod meta;
mod validated;

/// Derives `secure_core::Validate`: see `secure_core` for the rules.
#[proc_macro_derive(Validated, attributes(validate))]
pub fn derive_validated(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    validated::expand(&input).into()
}
