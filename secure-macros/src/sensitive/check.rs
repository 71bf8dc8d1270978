//! Rules across the attribute, the derive list and the field types: each mistake is reported
//! at the token that is wrong, with the fix in one sentence.

use std::collections::HashSet;

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::{GenericArgument, PathArguments, Type};

use super::ast::*;
use super::parse;
use crate::diag::Ctxt;

pub(crate) fn container(cx: &mut Ctxt, c: &Container<'_>) {
    let name = c.input.ident.to_string();
    wrong_order(cx, c);
    if let Some(debug) = &c.derives.debug {
        cx.error_spanned_by(
            debug,
            format!("`#[sensitive]` writes the `Debug` of `{name}` itself, printing secrets as [REDACTED]: remove `Debug` from this derive"),
        );
    }
    if let Some(copy) = &c.derives.copy {
        cx.error_spanned_by(
            copy,
            "a secret cannot be `Copy`: copies are made silently and none of them is wiped; remove `Copy` and call `.clone()` where a copy is needed",
        );
    }
    let mut seen = Seen::default();
    for field in c.secret_fields() {
        if let Some(secret) = &field.secret {
            secret_field(cx, c, field, secret, &mut seen);
        }
    }
    serialize(cx, c);
}

/// Spans already reported, so a type-level option shared by many fields is reported once.
#[derive(Default)]
struct Seen(HashSet<String>);

impl Seen {
    fn first(&mut self, span: Span) -> bool {
        self.0.insert(format!("{span:?}"))
    }
}

/// Derives that ran above `#[sensitive]` leave their helper attributes behind, but not
/// their `#[derive]`: that is how the wrong order shows.
fn wrong_order(cx: &mut Ctxt, c: &Container<'_>) {
    let serde_derived = c.derives.serialize.is_some() || c.derives.deserialize;
    // (`Validated` written above reports this itself: it sees `#[sensitive]` on the type.)
    if serde_derived || !parse::helper_attr(c.input, "serde") {
        return;
    }
    cx.error_spanned_by(
        TokenStream::new(),
        format!(
            "`#[sensitive]` must come before `#[derive(...)]`: serde's derives ran above it without knowing which fields are secret; move `#[sensitive]` up to be the first attribute of `{}`",
            c.input.ident
        ),
    );
}

fn secret_field(
    cx: &mut Ctxt,
    c: &Container<'_>,
    field: &Field<'_>,
    secret: &Secret,
    seen: &mut Seen,
) {
    if let Some(mask) = &secret.mask
        && let Some(what) = not_text(field.ty)
        && seen.first(mask.ident.span())
    {
        cx.error_spanned_by(
            &mask.ident,
            format!(
                "a mask reads text, but `{}` is {what}: remove the mask (the field then prints [REDACTED]) or keep the value as a String",
                field.name
            ),
        );
    }
    if let Some(ser) = &secret.serialize_masked {
        if c.derives.serialize.is_none() {
            if seen.first(ser.span()) {
                cx.error_spanned_by(
                    ser,
                    "`serialize = masked` tells a `derive(Serialize)` to write only the mask, but there is none below `#[sensitive]`: add it there (if it is above, move `#[sensitive]` up), or remove `serialize = masked`",
                );
            }
        } else if secret.mask.is_none() && seen.first(ser.span()) {
            cx.error_spanned_by(
                ser,
                format!(
                    "`serialize = masked` needs a mask to write, such as `mask = last(4)`, but `{}` has none; to leave the field out write `#[serde(skip_serializing)]`",
                    field.name
                ),
            );
        }
    }
}

/// A `derive(Serialize)` may write a secret field only as its mask, or not at all.
fn serialize(cx: &mut Ctxt, c: &Container<'_>) {
    let Some(derive) = &c.derives.serialize else {
        return;
    };
    let skipped_variants: Vec<&Shape<'_>> = match &c.body {
        Body::Enum(vs) => vs
            .iter()
            .filter(|v| v.serde_skip)
            .map(|v| &v.shape)
            .collect(),
        Body::Struct(_) => Vec::new(),
    };
    for shape in c.shapes() {
        if skipped_variants.iter().any(|s| std::ptr::eq(*s, shape)) {
            continue;
        }
        for f in &shape.fields {
            let Some(secret) = &f.secret else { continue };
            if f.serde_skip {
                continue;
            }
            if let Some(custom) = &f.serde_custom {
                cx.error_spanned_by(
                    custom,
                    format!(
                        "`{}` is secret and `#[sensitive]` cannot check what `{custom}` writes: write `#[sensitive(mask = last(4), serialize = masked)]` to write a mask, or `#[serde(skip_serializing)]`",
                        f.name
                    ),
                );
            } else if secret.serialize_masked.is_none() {
                // At the field that leaks, naming the derive that would write it.
                let message = format!(
                    "the secret field `{}` would be written by `derive({})` on `{}`: mark it `#[serde(skip_serializing)]`, or opt in to writing only a mask with `#[sensitive(mask = last(4), serialize = masked)]`",
                    f.name,
                    derive.to_token_stream(),
                    c.input.ident
                );
                match &f.member {
                    syn::Member::Named(name) => cx.error_spanned_by(name, message),
                    syn::Member::Unnamed(_) => cx.error_spanned_by(f.ty, message),
                }
            }
        }
    }
}

/// What `ty` is, when its syntax alone shows it is not text (`u32`, a Vec, an array).
fn not_text(ty: &Type) -> Option<String> {
    let ty = strip_option(ty);
    let shown = ty.to_token_stream().to_string();
    match ty {
        Type::Array(_) | Type::Slice(_) | Type::Tuple(_) => return Some(format!("`{shown}`")),
        _ => {}
    }
    let Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last()?;
    let name = seg.ident.to_string();
    let scalar = matches!(
        name.as_str(),
        "u8" | "u16"
            | "u32"
            | "u64"
            | "u128"
            | "usize"
            | "i8"
            | "i16"
            | "i32"
            | "i64"
            | "i128"
            | "isize"
            | "f32"
            | "f64"
            | "bool"
            | "char"
            | "Vec"
            | "VecDeque"
            | "HashMap"
            | "BTreeMap"
            | "HashSet"
            | "BTreeSet"
    );
    scalar.then(|| format!("`{}`", shown.replace(" < ", "<").replace(" >", ">")))
}

fn strip_option(mut ty: &Type) -> &Type {
    loop {
        let Type::Path(p) = ty else { return ty };
        let Some(seg) = p.path.segments.last() else {
            return ty;
        };
        if seg.ident != "Option" {
            return ty;
        }
        let PathArguments::AngleBracketed(args) = &seg.arguments else {
            return ty;
        };
        match args.args.first() {
            Some(GenericArgument::Type(inner)) if args.args.len() == 1 => ty = inner,
            _ => return ty,
        }
    }
}
