//! Procedural macros of the `secure` framework. Use them through `secure_core`.
#![forbid(unsafe_code)]

use proc_macro::TokenStream;

mod diag;
mod filter;
mod handler;
mod meta;
mod resource;
mod role;
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

/// Derives `secure_core::resource::Resource` for the struct a row is read into: see
/// `secure_core::resource`.
#[proc_macro_derive(Resource, attributes(resource))]
pub fn derive_resource(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    resource::expand(&input).into()
}

/// Derives `secure_core::resource::Filter` for a list's filter: each field an `Option`
/// compared with one column of the resource. See `secure_core::resource::Filter`.
#[proc_macro_derive(Filter, attributes(filter))]
pub fn derive_filter(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    filter::expand(&input).into()
}

/// Derives `secure_core::auth::Role` for a fieldless enum: each variant is a role whose wire
/// name is its snake_case name or `#[role(rename = "...")]`. See `secure_core::auth::role`.
#[proc_macro_derive(Role, attributes(role))]
pub fn derive_role(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    role::expand(&input, &role::ROLE).into()
}

/// Derives `secure_core::auth::Scope` for a fieldless enum: each variant is a scope (what a
/// scoped credential, such as an API key, may do) whose wire name is its snake_case name or
/// `#[scope(rename = "...")]`. See `secure_core::auth::Scope`.
#[proc_macro_derive(Scope, attributes(scope))]
pub fn derive_scope(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    role::expand(&input, &role::SCOPE).into()
}

/// Declares who may call an axum handler, and wraps it so that the declaration is enforced:
/// see `secure_core::secure_handler`.
#[proc_macro_attribute]
pub fn secure_handler(args: TokenStream, input: TokenStream) -> TokenStream {
    handler::expand(args.into(), input.into()).into()
}
