//! `#[derive(Role)]`: parse -> check -> emit.

mod ast;
mod check;
mod emit;
mod parse;

use proc_macro2::TokenStream;

use crate::diag::Ctxt;

pub(crate) fn expand(input: &syn::DeriveInput) -> TokenStream {
    let mut cx = Ctxt::new();
    let roles = parse::container(&mut cx, input);
    if let Some(r) = &roles {
        check::container(&mut cx, r);
    }
    match roles {
        Some(r) if !cx.has_errors() => emit::container(&r),
        other => {
            let mut out = cx.into_compile_errors();
            // An enum that parsed still gets an impl, so one mistake gives one error.
            if let Some(r) = other {
                out.extend(emit::fallback(&r));
            }
            out
        }
    }
}
