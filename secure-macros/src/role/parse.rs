//! Reads the enum and its `#[role(...)]` attributes into the IR. Simple, local mistakes are
//! reported here; rules across variants live in `check.rs`.

use syn::{Data, DeriveInput, Expr, Fields, Lit};

use super::Kind;
use super::ast::{RoleEnum, RoleVariant};
use crate::diag::{Ctxt, unknown_name_message};
use crate::meta::{Meta, parse_list};

/// `#[role(rename = "...")]`.
const RENAME: &str = "rename";
/// Every option a variant accepts.
const OPTIONS: &[&str] = &[RENAME];

pub(crate) fn container<'a>(
    cx: &mut Ctxt,
    input: &'a DeriveInput,
    kind: &Kind,
) -> Option<RoleEnum<'a>> {
    let data = match &input.data {
        Data::Enum(data) => data,
        Data::Struct(s) => {
            cx.error_spanned_by(
                s.struct_token,
                format!(
                    "`#[derive({})]` needs a fieldless enum, such as `enum {} {{ {} }}`; `{}` is a struct",
                    kind.name, input.ident, kind.example, input.ident
                ),
            );
            return None;
        }
        Data::Union(u) => {
            cx.error_spanned_by(
                u.union_token,
                format!(
                    "`#[derive({})]` needs a fieldless enum, such as `enum {} {{ {} }}`; `{}` is a union",
                    kind.name, input.ident, kind.example, input.ident
                ),
            );
            return None;
        }
    };
    for attr in input.attrs.iter().filter(|a| a.path().is_ident(kind.noun)) {
        cx.error_spanned_by(
            attr,
            format!(
                "`#[{0}(...)]` goes on a variant (`#[{0}(rename = \"...\")]`); the enum itself takes no options",
                kind.noun
            ),
        );
    }
    let variants = data
        .variants
        .iter()
        .map(|v| {
            if !matches!(v.fields, Fields::Unit) {
                cx.error_spanned_by(
                    &v.fields,
                    format!(
                        "a {} is a name and cannot carry data: remove the fields of `{}`",
                        kind.noun, v.ident
                    ),
                );
            }
            variant(cx, v, kind)
        })
        .collect();
    Some(RoleEnum {
        ident: &input.ident,
        generics: &input.generics,
        variants,
    })
}

fn variant<'a>(cx: &mut Ctxt, v: &'a syn::Variant, kind: &Kind) -> RoleVariant<'a> {
    let mut rename: Option<(String, proc_macro2::Span)> = None;
    for attr in v.attrs.iter().filter(|a| a.path().is_ident(kind.noun)) {
        let list = match parse_list(attr) {
            Ok(list) => list,
            Err(e) => {
                cx.syn_error(e);
                continue;
            }
        };
        for meta in &list {
            let name = meta.name();
            if name != RENAME {
                cx.error_spanned_by(
                    name,
                    unknown_name_message(
                        &format!("{} option", kind.noun),
                        &name.to_string(),
                        OPTIONS,
                    ),
                );
                continue;
            }
            let Meta::NameValue(_, value) = meta else {
                cx.error_spanned_by(meta, "write `rename = \"wire_name\"`");
                continue;
            };
            let Some(lit) = string_literal(value) else {
                cx.error_spanned_by(
                    value,
                    "`rename` takes a string literal, such as `rename = \"billing:read\"`",
                );
                continue;
            };
            if rename.is_some() {
                cx.error_spanned_by(meta, "`rename` is given twice for this variant; keep one");
                continue;
            }
            rename = Some((lit.value(), lit.span()));
        }
    }
    let (wire, wire_span, renamed) = match rename {
        Some((wire, span)) => (wire, span, true),
        None => (snake_case(&v.ident.unraw_string()), v.ident.span(), false),
    };
    RoleVariant {
        ident: &v.ident,
        wire,
        wire_span,
        renamed,
    }
}

fn string_literal(expr: &Expr) -> Option<&syn::LitStr> {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(s),
        Expr::Group(g) => string_literal(&g.expr),
        _ => None,
    }
}

/// `SupportAgent` -> `support_agent`, as serde's `rename_all = "snake_case"` does.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, ch) in name.char_indices() {
        if i > 0 && ch.is_uppercase() {
            out.push('_');
        }
        out.extend(ch.to_lowercase());
    }
    out
}

trait UnrawString {
    fn unraw_string(&self) -> String;
}

impl UnrawString for syn::Ident {
    fn unraw_string(&self) -> String {
        let s = self.to_string();
        match s.strip_prefix("r#") {
            Some(raw) => raw.to_owned(),
            None => s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn snake_case_matches_serde() {
        assert_eq!(snake_case("Admin"), "admin");
        assert_eq!(snake_case("SupportAgent"), "support_agent");
        assert_eq!(snake_case("V2Reader"), "v2_reader");
    }
}
