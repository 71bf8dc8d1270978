//! Rules across variants: the enum has roles, wire names are unique and safe to put in a
//! token or a log line.

use std::collections::HashMap;

use super::Kind;
use super::ast::RoleEnum;
use crate::diag::Ctxt;

pub(crate) fn container(cx: &mut Ctxt, roles: &RoleEnum<'_>, kind: &Kind) {
    let noun = kind.noun;
    if roles.variants.is_empty() {
        cx.error_spanned_by(
            roles.ident,
            format!(
                "`{}` has no variants: a {noun} enum needs at least one {noun}",
                roles.ident
            ),
        );
    }
    if let Some(params) = (!roles.generics.params.is_empty()).then_some(&roles.generics) {
        cx.error_spanned_by(params, format!("a {noun} enum cannot be generic"));
    }
    let mut seen: HashMap<&str, &syn::Ident> = HashMap::new();
    for v in &roles.variants {
        if v.wire.is_empty() {
            cx.error_at(v.wire_span, format!("a {noun} name cannot be empty"));
        } else if !is_wire_name(&v.wire) {
            let what = if v.renamed {
                format!("a {noun} name")
            } else {
                format!("the snake_case name of a variant, its {noun} name,")
            };
            cx.error_at(
                v.wire_span,
                format!(
                    "{noun} name `{}` is not allowed: {what} must be 1 to 64 characters from `A-Z a-z 0-9 _ - . :`",
                    v.wire.escape_debug()
                ),
            );
        }
        if let Some(first) = seen.insert(&v.wire, v.ident) {
            cx.error_at(
                v.wire_span,
                format!(
                    "duplicate {noun} name `{}`: `{first}` and `{}` both map to it; give one of them `#[{noun}(rename = \"...\")]`",
                    v.wire, v.ident
                ),
            );
        }
    }
}

fn is_wire_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}
