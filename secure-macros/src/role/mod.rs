//! `#[derive(Role)]` and `#[derive(Scope)]` (the same shape: a fieldless enum of wire names):
//! parse -> check -> emit.

mod ast;
mod check;
mod emit;
mod parse;

use proc_macro2::TokenStream;

use crate::diag::Ctxt;

/// Which derive: what its names are called, its attribute and trait, an example.
pub(crate) struct Kind {
    /// `role`: in messages, and the variant attribute (`#[role(rename = "...")]`).
    pub(crate) noun: &'static str,
    /// `Role`: the derive and the trait in `secure_core::__private`.
    pub(crate) name: &'static str,
    /// Variants for the example in messages.
    pub(crate) example: &'static str,
}

pub(crate) const ROLE: Kind = Kind {
    noun: "role",
    name: "Role",
    example: "Admin, Member",
};

pub(crate) const SCOPE: Kind = Kind {
    noun: "scope",
    name: "Scope",
    example: "NotesRead, NotesWrite",
};

pub(crate) fn expand(input: &syn::DeriveInput, kind: &Kind) -> TokenStream {
    let mut cx = Ctxt::new();
    let roles = parse::container(&mut cx, input, kind);
    if let Some(r) = &roles {
        check::container(&mut cx, r, kind);
    }
    match roles {
        Some(r) if !cx.has_errors() => emit::container(&r, kind),
        other => {
            let mut out = cx.into_compile_errors();
            // An enum that parsed still gets an impl, so one mistake gives one error.
            if let Some(r) = other {
                out.extend(emit::fallback(&r, kind));
            }
            out
        }
    }
}
