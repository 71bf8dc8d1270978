//! `#[derive(Validated)]`: parse -> check -> emit.

mod ast;
mod body;
mod check;
mod emit;
mod parse;
mod serde_names;
mod types;

pub(crate) use check::pattern as check_pattern;
pub(crate) use emit::anchored;

use proc_macro2::TokenStream;

use crate::diag::Ctxt;

pub(crate) fn expand(input: &syn::DeriveInput) -> TokenStream {
    let mut cx = Ctxt::new();
    let container = parse::container(&mut cx, input);
    if let Some(c) = &container {
        check::container(&mut cx, c);
    }
    match container {
        Some(c) if !cx.has_errors() => emit::container(&c),
        _ => {
            let mut out = cx.into_compile_errors();
            out.extend(emit::fallback(input));
            out
        }
    }
}
