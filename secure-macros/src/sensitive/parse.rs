//! `#[sensitive(...)]` and the item under it -> the IR in `ast.rs`. Simple mistakes (unknown
//! options, malformed masks, a union) are reported here; rules that involve the derive list
//! or the field types are in `check.rs`.

use proc_macro2::{Span, TokenStream};
use quote::format_ident;
use syn::punctuated::Punctuated;
use syn::{Attribute, Data, DeriveInput, Expr, Fields, Lit, Member, Token};

use super::ast::*;
use crate::diag::{Ctxt, unknown_name_message};
use crate::meta::{self, Meta};

pub(crate) const ATTR: &str = "sensitive";

const OPTIONS: &[&str] = &["mask", "serialize"];
const MASKS: &[&str] = &["last", "first", "email"];
const SERIALIZE: &[&str] = &["masked"];

/// The item under the attribute, if it is a struct, an enum or a union.
pub(crate) fn item(cx: &mut Ctxt, input: TokenStream) -> Option<DeriveInput> {
    match syn::parse2::<DeriveInput>(input) {
        Ok(item) => Some(item),
        Err(_) => {
            cx.error_spanned_by(
                TokenStream::new(),
                "`#[sensitive]` goes on a struct or an enum (the whole value is secret), or on a field inside a `#[sensitive]` type; for a single value use `SecretString` or `SecretBox<T>`",
            );
            None
        }
    }
}

pub(crate) fn container<'a>(
    cx: &mut Ctxt,
    args: TokenStream,
    input: &'a DeriveInput,
) -> Option<Container<'a>> {
    let outer = options_from_tokens(cx, args, Span::call_site());
    let derives = derives(&input.attrs);
    misplaced_markers(cx, &input.attrs, "the type");

    let body = match &input.data {
        Data::Struct(data) => Body::Struct(shape(cx, &data.fields, &outer, false)),
        Data::Enum(data) => Body::Enum(
            data.variants
                .iter()
                .map(|v| {
                    let vopts = marker(cx, &v.attrs);
                    let serde_skip = serde_skips(&v.attrs);
                    let shape = match &vopts {
                        // A marked variant: all its fields are secret, with its options.
                        Some(o) => {
                            let merged = Options {
                                mask: o.mask.clone().or_else(|| outer.mask.clone()),
                                serialize_masked: o
                                    .serialize_masked
                                    .clone()
                                    .or_else(|| outer.serialize_masked.clone()),
                                span: o.span,
                            };
                            shape(cx, &v.fields, &merged, true)
                        }
                        None => shape(cx, &v.fields, &outer, false),
                    };
                    Variant {
                        ident: &v.ident,
                        shape,
                        serde_skip,
                    }
                })
                .collect(),
        ),
        Data::Union(u) => {
            cx.error_spanned_by(
                u.union_token,
                "`#[sensitive]` cannot be used on a union: which field holds the value is unknown, so it can be neither redacted nor wiped safely; use an enum",
            );
            return None;
        }
    };

    let marked = input_has_markers(input);
    let mut c = Container {
        input,
        mode: if marked { Mode::Marked } else { Mode::Whole },
        derives,
        body,
    };
    apply_mode(&mut c, &outer);
    Some(c)
}

/// In the whole-type form every field is secret, with the type's options.
fn apply_mode(c: &mut Container<'_>, outer: &Options) {
    if c.mode == Mode::Marked {
        return;
    }
    let shapes: Vec<&mut Shape<'_>> = match &mut c.body {
        Body::Struct(s) => vec![s],
        Body::Enum(vs) => vs.iter_mut().map(|v| &mut v.shape).collect(),
    };
    for shape in shapes {
        for f in &mut shape.fields {
            f.secret = Some(Options::default().or(outer));
        }
    }
}

fn input_has_markers(input: &DeriveInput) -> bool {
    let fields: Vec<&syn::Field> = match &input.data {
        Data::Struct(d) => d.fields.iter().collect(),
        Data::Enum(d) => {
            if d.variants.iter().any(|v| has_marker(&v.attrs)) {
                return true;
            }
            d.variants.iter().flat_map(|v| v.fields.iter()).collect()
        }
        Data::Union(_) => Vec::new(),
    };
    fields.iter().any(|f| has_marker(&f.attrs))
}

pub(crate) fn is_marker(attr: &Attribute) -> bool {
    attr.path().is_ident(ATTR)
}

fn has_marker(attrs: &[Attribute]) -> bool {
    attrs.iter().any(is_marker)
}

/// `#[sensitive]` repeated on the type itself (below the one being expanded).
fn misplaced_markers(cx: &mut Ctxt, attrs: &[Attribute], place: &str) {
    for attr in attrs.iter().filter(|a| is_marker(a)) {
        cx.error_spanned_by(
            attr,
            format!("duplicate `#[sensitive]` on {place}: write it once, above `#[derive(...)]`"),
        );
    }
}

fn shape<'a>(cx: &mut Ctxt, fields: &'a Fields, outer: &Options, all_secret: bool) -> Shape<'a> {
    let style = match fields {
        Fields::Named(_) => Style::Named,
        Fields::Unnamed(_) => Style::Tuple,
        Fields::Unit => Style::Unit,
    };
    let fields = fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let (member, binding, name) = match &f.ident {
                Some(id) => {
                    let raw = id.to_string();
                    let name = raw.strip_prefix("r#").unwrap_or(&raw).to_owned();
                    (
                        Member::Named(id.clone()),
                        format_ident!("__f_{}", name),
                        name,
                    )
                }
                None => (
                    Member::Unnamed(i.into()),
                    format_ident!("__f_{}", i),
                    i.to_string(),
                ),
            };
            let own = marker(cx, &f.attrs);
            let secret = match own {
                Some(o) => Some(o.or(outer)),
                None if all_secret => Some(Options::default().or(outer)),
                None => None,
            };
            let (serde_skip, serde_custom) = serde_field(&f.attrs);
            Field {
                member,
                binding,
                ty: &f.ty,
                name,
                secret,
                serde_skip,
                serde_custom,
            }
        })
        .collect();
    Shape { style, fields }
}

/// The options of the `#[sensitive]` markers in `attrs`, merged; `None` if there is none.
fn marker(cx: &mut Ctxt, attrs: &[Attribute]) -> Option<Options> {
    let mut found: Option<Options> = None;
    for attr in attrs.iter().filter(|a| is_marker(a)) {
        if found.is_some() {
            cx.error_spanned_by(attr, "duplicate `#[sensitive]`: merge the two into one");
            continue;
        }
        let span = syn::spanned::Spanned::span(attr);
        let opts = match &attr.meta {
            syn::Meta::Path(_) => Options {
                span: Some(span),
                ..Options::default()
            },
            syn::Meta::List(list) => options_from_tokens(cx, list.tokens.clone(), span),
            syn::Meta::NameValue(nv) => {
                cx.error_spanned_by(
                    nv,
                    "write `#[sensitive]` or `#[sensitive(mask = last(4))]`, not `#[sensitive = ...]`",
                );
                Options::default()
            }
        };
        found = Some(opts);
    }
    found
}

fn options_from_tokens(cx: &mut Ctxt, tokens: TokenStream, span: Span) -> Options {
    let mut out = Options {
        span: Some(span),
        ..Options::default()
    };
    let list = match syn::parse::Parser::parse2(
        Punctuated::<Meta, Token![,]>::parse_terminated,
        tokens,
    ) {
        Ok(list) => list,
        Err(e) => {
            cx.syn_error(syn::Error::new(
                e.span(),
                format!(
                    "malformed `#[sensitive(...)]`: {e}; write options as `mask = last(4)` or `serialize = masked`"
                ),
            ));
            return out;
        }
    };
    for item in &list {
        let name = item.name().to_string();
        match (name.as_str(), item) {
            ("mask", Meta::NameValue(ident, expr)) => {
                if out.mask.is_some() {
                    cx.error_spanned_by(ident, "duplicate `mask`: keep one");
                }
                out.mask = mask(cx, expr).or(out.mask.take());
            }
            ("serialize", Meta::NameValue(ident, expr)) => {
                match expr_ident(expr) {
                    Some(v) if v == "masked" => {}
                    Some(v) => cx.error_spanned_by(
                        &v,
                        unknown_name_message("`serialize` value", &v.to_string(), SERIALIZE),
                    ),
                    None => cx.error_spanned_by(
                        expr,
                        "write `serialize = masked`: serde then writes only the mask",
                    ),
                }
                if out.serialize_masked.is_some() {
                    cx.error_spanned_by(ident, "duplicate `serialize`: keep one");
                }
                out.serialize_masked = Some(ident.clone());
            }
            ("mask", _) => cx.error_spanned_by(
                item,
                "`mask` needs a value: `mask = last(4)`, `mask = first(4)` or `mask = email`",
            ),
            ("serialize", _) => cx.error_spanned_by(
                item,
                "`serialize` needs a value: write `serialize = masked`",
            ),
            _ if MASKS.contains(&name.as_str()) => cx.error_spanned_by(
                item,
                format!("a mask is written `mask = {}`", mask_example(&name)),
            ),
            _ => cx.error_spanned_by(
                item.name(),
                unknown_name_message("`#[sensitive]` option", &name, OPTIONS),
            ),
        }
    }
    out
}

fn mask_example(name: &str) -> &'static str {
    match name {
        "first" => "first(4)",
        "email" => "email",
        _ => "last(4)",
    }
}

fn expr_ident(expr: &Expr) -> Option<syn::Ident> {
    match expr {
        Expr::Path(p) if p.qself.is_none() => p.path.get_ident().cloned(),
        _ => None,
    }
}

fn mask(cx: &mut Ctxt, expr: &Expr) -> Option<MaskSpec> {
    let usage = "write `mask = last(4)`, `mask = first(4)` or `mask = email`";
    let (ident, args) = match expr {
        Expr::Call(call) => match expr_ident(&call.func) {
            Some(i) => (i, Some(&call.args)),
            None => {
                cx.error_spanned_by(expr, format!("unknown mask: {usage}"));
                return None;
            }
        },
        _ => match expr_ident(expr) {
            Some(i) => (i, None),
            None => {
                cx.error_spanned_by(expr, format!("unknown mask: {usage}"));
                return None;
            }
        },
    };
    let name = ident.to_string();
    let kind = match (name.as_str(), args) {
        ("email", None) => MaskKind::Email,
        ("email", Some(_)) => {
            cx.error_spanned_by(
                expr,
                "`email` takes no count: write `mask = email` (it shows `j***@example.com`)",
            );
            return None;
        }
        ("last" | "first", None) => {
            cx.error_spanned_by(
                &ident,
                format!("`{name}` needs how many characters to show, such as `mask = {name}(4)`"),
            );
            return None;
        }
        ("last" | "first", Some(args)) => {
            let n = match args.first().and_then(meta::expr_lit) {
                Some(meta::LitArg {
                    neg: None,
                    lit: Lit::Int(i),
                }) if args.len() == 1 => i.base10_parse::<usize>().ok(),
                _ => None,
            };
            let Some(n) = n else {
                cx.error_spanned_by(
                    args,
                    format!("`{name}` takes one count, such as `mask = {name}(4)`"),
                );
                return None;
            };
            if n == 0 {
                cx.error_spanned_by(
                    args,
                    format!(
                        "`{name}(0)` shows nothing: write plain `#[sensitive]` to print [REDACTED]"
                    ),
                );
                return None;
            }
            if name == "last" {
                MaskKind::Last(n)
            } else {
                MaskKind::First(n)
            }
        }
        _ => {
            cx.error_spanned_by(&ident, unknown_name_message("mask", &name, MASKS));
            return None;
        }
    };
    Some(MaskSpec { kind, ident })
}

/// The derives listed on the item, by the last segment of each path.
fn derives(attrs: &[Attribute]) -> Derives {
    let mut out = Derives::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("derive")) {
        let Ok(paths) = attr.parse_args_with(Punctuated::<syn::Path, Token![,]>::parse_terminated)
        else {
            continue;
        };
        for path in paths {
            let Some(last) = path.segments.last() else {
                continue;
            };
            match last.ident.to_string().as_str() {
                "Debug" => out.debug = Some(path),
                "Copy" => out.copy = Some(path),
                "Serialize" => out.serialize = Some(path),
                "Deserialize" => out.deserialize = true,
                _ => {}
            }
        }
    }
    out
}

/// The serde helper options named in `#[serde(...)]` attributes (values ignored).
fn serde_names(attrs: &[Attribute]) -> Vec<syn::Ident> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("serde"))
        .filter_map(|a| meta::parse_list(a).ok())
        .flat_map(|list| list.into_iter().map(|m| m.name().clone()))
        .collect()
}

fn serde_skips(attrs: &[Attribute]) -> bool {
    serde_names(attrs)
        .iter()
        .any(|n| n == "skip" || n == "skip_serializing")
}

/// (`skip` / `skip_serializing`, the `serialize_with` / `with` token if any).
fn serde_field(attrs: &[Attribute]) -> (bool, Option<syn::Ident>) {
    let names = serde_names(attrs);
    let skip = names.iter().any(|n| n == "skip" || n == "skip_serializing");
    let custom = names
        .into_iter()
        .find(|n| n == "serialize_with" || n == "with");
    (skip, custom)
}

/// `#[serde]` / `#[validate]` helper attributes anywhere on the item: their derive must be
/// somewhere, and if it is not below `#[sensitive]` it ran above it, before us.
pub(crate) fn helper_attr(input: &DeriveInput, name: &str) -> bool {
    let mut attrs: Vec<&Attribute> = input.attrs.iter().collect();
    match &input.data {
        Data::Struct(d) => attrs.extend(d.fields.iter().flat_map(|f| &f.attrs)),
        Data::Enum(d) => {
            for v in &d.variants {
                attrs.extend(&v.attrs);
                attrs.extend(v.fields.iter().flat_map(|f| &f.attrs));
            }
        }
        Data::Union(_) => {}
    }
    attrs.iter().any(|a| a.path().is_ident(name))
}
