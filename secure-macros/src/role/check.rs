//! Rules across variants: the enum has roles, wire names are unique and safe to put in a
//! token or a log line.

use std::collections::HashMap;

use super::ast::RoleEnum;
use crate::diag::Ctxt;

pub(crate) fn container(cx: &mut Ctxt, roles: &RoleEnum<'_>) {
    if roles.variants.is_empty() {
        cx.error_spanned_by(
            roles.ident,
            format!(
                "`{}` has no variants: a role enum needs at least one role",
                roles.ident
            ),
        );
    }
    if let Some(params) = (!roles.generics.params.is_empty()).then_some(&roles.generics) {
        cx.error_spanned_by(params, "a role enum cannot be generic");
    }
    let mut seen: HashMap<&str, &syn::Ident> = HashMap::new();
    for v in &roles.variants {
        if v.wire.is_empty() {
            cx.error_at(v.wire_span, "a role name cannot be empty");
        } else if !is_wire_name(&v.wire) {
            let what = if v.renamed {
                "a role name"
            } else {
                "the snake_case name of a variant, its role name,"
            };
            cx.error_at(
                v.wire_span,
                format!(
                    "role name `{}` is not allowed: {what} must be 1 to 64 characters from `A-Z a-z 0-9 _ - . :`",
                    v.wire.escape_debug()
                ),
            );
        }
        if let Some(first) = seen.insert(&v.wire, v.ident) {
            cx.error_at(
                v.wire_span,
                format!(
                    "duplicate role name `{}`: `{first}` and `{}` both map to it; give one of them `#[role(rename = \"...\")]`",
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
