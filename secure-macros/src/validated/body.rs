//! `Validate::MAX_BODY`: the largest body the rules accept, as a `const` expression built from
//! `secure_core::validate::body`'s `const fn`s. What the rules and the written type say bounds
//! a field; anything else leaves the type unbounded (see that module for the encoding).

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Lit, Type};

use super::ast::*;
use super::types::{self, TyClass};

fn body() -> TokenStream {
    quote!(::secure_core::__private::body)
}

fn none() -> TokenStream {
    quote!(::core::option::Option::None)
}

/// The `const MAX_BODY` item of the impl.
pub(crate) fn max_body(c: &Container<'_>) -> TokenStream {
    let b = body();
    let value = match &c.body {
        // Unknown keys accepted: nothing bounds them.
        _ if c.allow_unknown_fields => none(),
        Body::Enum(_) => none(),
        Body::Struct(shape) => match (shape.style, shape.fields.as_slice()) {
            // A newtype or `transparent` struct is its one field.
            (_, [only]) if matches!(only.seg, Seg::Same) => {
                let bound = bound(only.ty, &only.rules);
                quote!(#b::value(#bound))
            }
            (Style::Named, fields) => {
                let members = fields.iter().map(|f| match &f.seg {
                    Seg::Name(name) => {
                        let key_len = f.key_len as u64;
                        let bound = bound(f.ty, &f.rules);
                        quote!((#name, #key_len, #bound))
                    }
                    // `flatten`: whatever the inner type takes, under keys not listed here.
                    _ => {
                        let none = none();
                        quote!(("", 0, #none))
                    }
                });
                quote!(#b::object(&[#(#members),*]))
            }
            _ => none(),
        },
    };
    quote! {
        const MAX_BODY: ::core::option::Option<#b::MaxBody> = #value;
    }
}

/// The bound of one value of type `ty` under `rules`, as an `Option<u64>` expression.
fn bound(ty: &Type, rules: &RuleSet) -> TokenStream {
    let b = body();
    if let Some(inner) = types::option_inner(ty) {
        let inner = bound(inner, rules);
        return quote!(#b::option(#inner));
    }
    if rules
        .rules
        .iter()
        .any(|r| matches!(r.kind, RuleKind::Nested))
    {
        return quote!(#b::of(<#ty as ::secure_core::__private::Validate>::MAX_BODY));
    }
    match types::classify(ty) {
        TyClass::Str => text(rules),
        TyClass::Other if is_secret_text(ty) => text(rules),
        TyClass::Int { signed } => {
            let bits = types::primitive_name(ty).map_or(128, |n| int_bits(&n));
            quote!(::core::option::Option::Some(#b::integer(#bits, #signed)))
        }
        TyClass::Float => quote!(::core::option::Option::Some(#b::FLOAT)),
        TyClass::Bool => quote!(::core::option::Option::Some(5u64)),
        TyClass::Char => quote!(::core::option::Option::Some(#b::string(1))),
        TyClass::Collection => collection(ty, rules),
        TyClass::Other => none(),
    }
}

/// `SecretString` and `SecretBox<str>`: text behind a wrapper the rules see through.
fn is_secret_text(ty: &Type) -> bool {
    let Type::Path(p) = types::peel(ty) else {
        return false;
    };
    p.path.segments.last().is_some_and(|s| {
        s.ident == "SecretString"
            || (s.ident == "SecretBox"
                && quote::ToTokens::to_token_stream(&s.arguments)
                    .to_string()
                    .replace(' ', "")
                    == "<str>")
    })
}

fn int_bits(name: &str) -> u32 {
    match name {
        "u8" | "i8" => 8,
        "u16" | "i16" => 16,
        "u32" | "i32" => 32,
        "u64" | "i64" | "usize" | "isize" => 64,
        _ => 128,
    }
}

/// A string's bound: the smallest of what its rules cap, each character at its longest escape.
fn text(rules: &RuleSet) -> TokenStream {
    let b = body();
    let mut chars: Option<u64> = None;
    let mut bytes: Option<u64> = None;
    let cap = |slot: &mut Option<u64>, n: u64| *slot = Some(slot.map_or(n, |s| s.min(n)));
    for rule in &rules.rules {
        match &rule.kind {
            RuleKind::Length { max, equal, .. } => {
                for n in [max, equal].into_iter().flatten() {
                    cap(&mut chars, whole(n));
                }
            }
            RuleKind::Bytes { max: Some(n), .. } => cap(&mut bytes, whole(n)),
            RuleKind::OneOf(values) => {
                let longest = values.iter().map(|v| match &v.lit {
                    Lit::Str(s) => Some(s.value().chars().count() as u64),
                    _ => None,
                });
                if let Some(longest) = longest.collect::<Option<Vec<_>>>() {
                    cap(&mut chars, longest.into_iter().max().unwrap_or(0));
                }
            }
            RuleKind::StrCheck(StrCheck::Uuid) => cap(&mut chars, 36),
            RuleKind::StrCheck(StrCheck::Ipv4) => cap(&mut chars, 15),
            RuleKind::StrCheck(StrCheck::Ip | StrCheck::Ipv6) => cap(&mut chars, 45),
            RuleKind::StrCheck(StrCheck::Email) => cap(&mut bytes, 254),
            _ => {}
        }
    }
    let some = |e: TokenStream| quote!(::core::option::Option::Some(#e));
    let chars = chars.map_or_else(none, |n| some(quote!(#b::string(#n))));
    let bytes = bytes.map_or_else(none, |n| some(quote!(#b::string_bytes(#n))));
    quote!(#b::min(#chars, #bytes))
}

/// A collection's bound: `length(max)` elements, each bounded by its `each(..)` rules.
fn collection(ty: &Type, rules: &RuleSet) -> TokenStream {
    let b = body();
    let Some(element) = types::element_type(ty) else {
        return none();
    };
    // Map keys are free text: no bound.
    let is_map = matches!(
        types::peel(ty),
        Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident.to_string().ends_with("Map"))
    );
    if is_map {
        return none();
    }
    let mut len: Option<u64> = None;
    let empty = RuleSet::default();
    let mut each = &empty;
    for rule in &rules.rules {
        match &rule.kind {
            RuleKind::Length { max, equal, .. } => {
                for n in [max, equal].into_iter().flatten() {
                    let n = whole(n);
                    len = Some(len.map_or(n, |l| l.min(n)));
                }
            }
            RuleKind::Each(inner) => each = inner,
            _ => {}
        }
    }
    let len = len.map_or_else(none, |n| quote!(::core::option::Option::Some(#n)));
    let element = bound(element, each);
    quote!(#b::array(#len, #element))
}

/// A length bound as a whole number (rules check that it is one).
fn whole(n: &Num) -> u64 {
    if n.value <= 0.0 { 0 } else { n.value as u64 }
}
