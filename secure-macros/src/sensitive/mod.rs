//! `#[sensitive]`: parse -> check -> emit.
//!
//! An attribute macro, not a derive, for two reasons: it must see the `#[derive(...)]` list
//! below it (to refuse `Debug`, `Copy` and a `Serialize` that would write a secret), and it
//! must strip the field-level `#[sensitive]` markers, which are not attributes anywhere else.

mod ast;
mod check;
mod emit;
mod parse;

use proc_macro2::TokenStream;

use crate::diag::Ctxt;

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut cx = Ctxt::new();
    let item = match parse::item(&mut cx, input.clone()) {
        Some(item) => item,
        // Not a struct or enum: keep the user's tokens so only our error is reported.
        None => {
            let mut out = cx.into_compile_errors();
            out.extend(input);
            return out;
        }
    };
    let container = parse::container(&mut cx, args, &item);
    if let Some(c) = &container {
        check::container(&mut cx, c);
    }
    match container {
        Some(c) if !cx.has_errors() => emit::container(&c),
        _ => {
            let mut out = cx.into_compile_errors();
            out.extend(emit::fallback(&item));
            out
        }
    }
}
