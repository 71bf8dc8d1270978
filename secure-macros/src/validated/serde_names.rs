//! The names serde uses on the wire, so error paths match what the client sent
//! (`#[serde(rename = "..")]`, `rename_all`, `rename_all_fields`, `tag`, `content`, `untagged`,
//! `transparent`, `flatten`). Case rules follow serde_derive's `RenameRule`.

use syn::spanned::Spanned;
use syn::{Attribute, LitStr};

/// serde's case conventions.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum RenameRule {
    None,
    Lower,
    Upper,
    Pascal,
    Camel,
    Snake,
    ScreamingSnake,
    Kebab,
    ScreamingKebab,
}

impl RenameRule {
    fn from_str(s: &str) -> Option<Self> {
        Some(match s {
            "lowercase" => RenameRule::Lower,
            "UPPERCASE" => RenameRule::Upper,
            "PascalCase" => RenameRule::Pascal,
            "camelCase" => RenameRule::Camel,
            "snake_case" => RenameRule::Snake,
            "SCREAMING_SNAKE_CASE" => RenameRule::ScreamingSnake,
            "kebab-case" => RenameRule::Kebab,
            "SCREAMING-KEBAB-CASE" => RenameRule::ScreamingKebab,
            _ => return None,
        })
    }

    /// A variant name (written in PascalCase) in this case.
    pub(crate) fn apply_to_variant(self, variant: &str) -> String {
        match self {
            RenameRule::None | RenameRule::Pascal => variant.to_owned(),
            RenameRule::Lower => variant.to_ascii_lowercase(),
            RenameRule::Upper => variant.to_ascii_uppercase(),
            RenameRule::Camel => {
                let mut chars = variant.chars();
                match chars.next() {
                    Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
                    None => String::new(),
                }
            }
            RenameRule::Snake => {
                let mut out = String::new();
                for (i, ch) in variant.char_indices() {
                    if i > 0 && ch.is_uppercase() {
                        out.push('_');
                    }
                    out.push(ch.to_ascii_lowercase());
                }
                out
            }
            RenameRule::ScreamingSnake => RenameRule::Snake
                .apply_to_variant(variant)
                .to_ascii_uppercase(),
            RenameRule::Kebab => RenameRule::Snake
                .apply_to_variant(variant)
                .replace('_', "-"),
            RenameRule::ScreamingKebab => RenameRule::ScreamingSnake
                .apply_to_variant(variant)
                .replace('_', "-"),
        }
    }

    /// A field name (written in snake_case) in this case.
    pub(crate) fn apply_to_field(self, field: &str) -> String {
        match self {
            RenameRule::None | RenameRule::Lower | RenameRule::Snake => field.to_owned(),
            RenameRule::Upper | RenameRule::ScreamingSnake => field.to_ascii_uppercase(),
            RenameRule::Pascal => {
                let mut pascal = String::new();
                let mut capitalize = true;
                for ch in field.chars() {
                    if ch == '_' {
                        capitalize = true;
                    } else if capitalize {
                        pascal.push(ch.to_ascii_uppercase());
                        capitalize = false;
                    } else {
                        pascal.push(ch);
                    }
                }
                pascal
            }
            RenameRule::Camel => {
                let pascal = RenameRule::Pascal.apply_to_field(field);
                let mut chars = pascal.chars();
                match chars.next() {
                    Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
                    None => String::new(),
                }
            }
            RenameRule::Kebab => field.replace('_', "-"),
            RenameRule::ScreamingKebab => field.to_ascii_uppercase().replace('_', "-"),
        }
    }
}

/// What the derive reads from `#[serde(...)]` on one item.
#[derive(Default)]
pub(crate) struct SerdeAttrs {
    pub(crate) rename: Option<String>,
    pub(crate) rename_all: Option<RenameRule>,
    pub(crate) rename_all_fields: Option<RenameRule>,
    pub(crate) tag: Option<String>,
    pub(crate) content: Option<String>,
    pub(crate) untagged: bool,
    pub(crate) transparent: bool,
    pub(crate) flatten: bool,
    pub(crate) deny_unknown_fields: bool,
    /// `alias = ".."`: other names a field is read under.
    pub(crate) aliases: Vec<String>,
    /// Where `tag`, `untagged` or `flatten` was written, for errors about them.
    pub(crate) shape_span: Option<proc_macro2::Span>,
}

/// Reads serde's attributes. Anything unparsable is left to serde_derive to report.
pub(crate) fn read(attrs: &[Attribute]) -> SerdeAttrs {
    let mut out = SerdeAttrs::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            let key = meta
                .path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            match key.as_str() {
                "rename" => out.rename = deserialize_name(&meta)?,
                "rename_all" => {
                    out.rename_all = deserialize_name(&meta)?.and_then(|s| RenameRule::from_str(&s))
                }
                "rename_all_fields" => {
                    out.rename_all_fields =
                        deserialize_name(&meta)?.and_then(|s| RenameRule::from_str(&s))
                }
                "tag" => {
                    out.shape_span.get_or_insert(meta.path.span());
                    out.tag = Some(meta.value()?.parse::<LitStr>()?.value());
                }
                "content" => out.content = Some(meta.value()?.parse::<LitStr>()?.value()),
                "untagged" => {
                    out.shape_span.get_or_insert(meta.path.span());
                    out.untagged = true;
                }
                "transparent" => out.transparent = true,
                "flatten" => {
                    out.shape_span.get_or_insert(meta.path.span());
                    out.flatten = true;
                }
                "deny_unknown_fields" => out.deny_unknown_fields = true,
                "alias" => out.aliases.push(meta.value()?.parse::<LitStr>()?.value()),
                _ => skip(&meta)?,
            }
            Ok(())
        });
    }
    out
}

/// `rename = "x"` or `rename(deserialize = "x", serialize = "y")`: the deserialize name.
fn deserialize_name(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<Option<String>> {
    if meta.input.peek(syn::Token![=]) {
        return Ok(Some(meta.value()?.parse::<LitStr>()?.value()));
    }
    let mut name = None;
    meta.parse_nested_meta(|inner| {
        if inner.path.is_ident("deserialize") {
            name = Some(inner.value()?.parse::<LitStr>()?.value());
        } else {
            skip(&inner)?;
        }
        Ok(())
    })?;
    Ok(name)
}

/// Consumes whatever value follows a key we do not care about.
fn skip(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        let _: syn::Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        let _: proc_macro2::TokenStream = content.parse()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::RenameRule::*;

    #[test]
    fn field_rules_match_serde() {
        assert_eq!(Camel.apply_to_field("zip_code"), "zipCode");
        assert_eq!(Pascal.apply_to_field("zip_code"), "ZipCode");
        assert_eq!(Kebab.apply_to_field("zip_code"), "zip-code");
        assert_eq!(ScreamingSnake.apply_to_field("zip_code"), "ZIP_CODE");
        assert_eq!(ScreamingKebab.apply_to_field("zip_code"), "ZIP-CODE");
    }

    #[test]
    fn variant_rules_match_serde() {
        assert_eq!(Snake.apply_to_variant("CreditCard"), "credit_card");
        assert_eq!(Camel.apply_to_variant("CreditCard"), "creditCard");
        assert_eq!(Kebab.apply_to_variant("CreditCard"), "credit-card");
        assert_eq!(Lower.apply_to_variant("CreditCard"), "creditcard");
    }
}
