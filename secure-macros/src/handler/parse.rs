//! `#[secure_handler(...)]` -> [`Policy`]. Each option is parsed where it is named, so a
//! mistake is reported at its token with the fix; cross-option rules are in `check.rs`.

use proc_macro2::{Span, TokenStream};
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitStr, Token};

use super::ast::*;
use super::units;
use crate::diag::{Ctxt, unknown_name_message};

pub(crate) const OPTIONS: &[&str] = &[
    "public",
    "auth",
    "roles",
    "scopes",
    "mfa",
    "fresh",
    "rate_limit",
    "body_limit",
    "audit",
    "unvalidated",
    "reads",
];

/// One option as written, before it is understood.
struct Item {
    name: Ident,
    kind: ItemKind,
}

enum ItemKind {
    Flag,
    Value(Expr),
    List(TokenStream),
}

impl Parse for Item {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let name: Ident = input.call(syn::ext::IdentExt::parse_any)?;
        let kind = if input.peek(Token![=]) {
            let _: Token![=] = input.parse()?;
            ItemKind::Value(input.parse()?)
        } else if input.peek(syn::token::Paren) {
            let content;
            syn::parenthesized!(content in input);
            ItemKind::List(content.parse()?)
        } else {
            ItemKind::Flag
        };
        Ok(Item { name, kind })
    }
}

/// What was written, with the tokens kept for `check.rs`.
#[derive(Default)]
pub(crate) struct Written {
    pub(crate) public: Option<Ident>,
    pub(crate) auth: Option<Ident>,
    pub(crate) roles: Option<(Ident, Vec<syn::Path>)>,
    pub(crate) scopes: Option<(Ident, Vec<syn::Path>)>,
    pub(crate) mfa: Option<Ident>,
    /// `fresh = "5m"`: the name (for errors about the option) and the window in seconds.
    pub(crate) fresh: Option<(Ident, u64)>,
    pub(crate) rate_limit: Option<RateLimit>,
    pub(crate) body_limit: Option<BodyLimit>,
    pub(crate) audit: Option<LitStr>,
    pub(crate) unvalidated: Vec<Unvalidated>,
    /// Every parameter named by `unvalidated(..)`, also those whose reason was rejected, so
    /// that one mistake is reported once.
    pub(crate) unvalidated_names: Vec<Ident>,
    pub(crate) reads: Vec<Reads>,
}

pub(crate) fn attribute(cx: &mut Ctxt, args: TokenStream) -> Written {
    let mut out = Written::default();
    let items = match Punctuated::<Item, Token![,]>::parse_terminated.parse2(args) {
        Ok(items) => items,
        Err(e) => {
            cx.syn_error(syn::Error::new(
                e.span(),
                format!("malformed `#[secure_handler(...)]`: {e}; write options such as `auth, roles(Admin), rate_limit(\"5/min\", key = user)`"),
            ));
            return out;
        }
    };
    let mut seen: Vec<String> = Vec::new();
    for item in items {
        let name = item.name.to_string();
        if seen.contains(&name) && name != "unvalidated" && name != "reads" {
            cx.error_spanned_by(
                &item.name,
                format!("duplicate option `{name}`: write it once"),
            );
            continue;
        }
        seen.push(name.clone());
        match name.as_str() {
            "public" | "auth" | "mfa" => {
                if !matches!(item.kind, ItemKind::Flag) {
                    cx.error_spanned_by(
                        &item.name,
                        format!("`{name}` takes no value: write `{name}`"),
                    );
                    continue;
                }
                let slot = match name.as_str() {
                    "public" => &mut out.public,
                    "auth" => &mut out.auth,
                    _ => &mut out.mfa,
                };
                *slot = Some(item.name);
            }
            "roles" => {
                let ItemKind::List(tokens) = item.kind else {
                    cx.error_spanned_by(
                        &item.name,
                        "`roles` lists role variants, such as `roles(Admin, Editor)`",
                    );
                    continue;
                };
                match Punctuated::<syn::Path, Token![,]>::parse_terminated.parse2(tokens) {
                    Ok(list) if list.is_empty() => {
                        cx.error_spanned_by(&item.name, "`roles()` is empty: list at least one role, such as `roles(Admin)`, or remove it");
                    }
                    Ok(list) => out.roles = Some((item.name, list.into_iter().collect())),
                    Err(e) => cx.syn_error(syn::Error::new(
                        e.span(),
                        "`roles` lists role variants separated by commas, such as `roles(Admin, Editor)`",
                    )),
                }
            }
            "scopes" => {
                let ItemKind::List(tokens) = item.kind else {
                    cx.error_spanned_by(
                        &item.name,
                        "`scopes` lists scope variants by path, such as `scopes(AppScope::NotesRead)`",
                    );
                    continue;
                };
                match Punctuated::<syn::Path, Token![,]>::parse_terminated.parse2(tokens) {
                    Ok(list) if list.is_empty() => {
                        cx.error_spanned_by(&item.name, "`scopes()` is empty: list at least one scope, such as `scopes(AppScope::NotesRead)`, or remove it");
                    }
                    Ok(list) => {
                        let list: Vec<syn::Path> = list.into_iter().collect();
                        if let Some(bare) = list.iter().find(|p| p.segments.len() < 2) {
                            cx.error_spanned_by(bare, "write scopes with their type, such as `scopes(AppScope::NotesRead)`: the handler names no scope type");
                        } else {
                            out.scopes = Some((item.name, list));
                        }
                    }
                    Err(e) => cx.syn_error(syn::Error::new(
                        e.span(),
                        "`scopes` lists scope variants separated by commas, such as `scopes(AppScope::NotesRead, AppScope::NotesWrite)`",
                    )),
                }
            }
            "rate_limit" => {
                let ItemKind::List(tokens) = item.kind else {
                    cx.error_spanned_by(&item.name, "`rate_limit` needs a rate and a key, such as `rate_limit(\"5/min\", key = ip)`");
                    continue;
                };
                if let Some(r) = rate_limit(cx, &item.name, tokens) {
                    out.rate_limit = Some(r);
                }
            }
            "fresh" => match item.kind {
                ItemKind::Value(Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(lit),
                    ..
                })) => match units::parse_fresh(&lit.value()) {
                    Ok(secs) => out.fresh = Some((item.name, secs)),
                    Err(msg) => cx.error_spanned_by(&lit, msg),
                },
                _ => cx.error_spanned_by(
                    &item.name,
                    "`fresh` takes how recent the caller's sign-in must be, such as `fresh = \"5m\"`",
                ),
            },
            "body_limit" => match item.kind {
                ItemKind::Value(Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(lit),
                    ..
                })) => match units::parse_size(&lit.value()) {
                    Ok(bytes) => {
                        out.body_limit = Some(BodyLimit {
                            bytes,
                            span: lit.span(),
                        })
                    }
                    Err(msg) => cx.error_spanned_by(&lit, msg),
                },
                _ => cx.error_spanned_by(
                    &item.name,
                    "`body_limit` takes a size string, such as `body_limit = \"16KiB\"`",
                ),
            },
            "audit" => match item.kind {
                ItemKind::Value(Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(lit),
                    ..
                })) => {
                    let v = lit.value();
                    let ok = !v.is_empty()
                        && v.len() <= 64
                        && v.bytes().all(|b| {
                            b.is_ascii_lowercase()
                                || b.is_ascii_digit()
                                || matches!(b, b'.' | b'_' | b'-')
                        });
                    if ok {
                        out.audit = Some(lit);
                    } else {
                        cx.error_spanned_by(&lit, "an audit event name is lowercase letters, digits, `.`, `_` and `-`, such as \"note.delete\"");
                    }
                }
                _ => cx.error_spanned_by(
                    &item.name,
                    "`audit` names the event, such as `audit = \"note.delete\"`",
                ),
            },
            "unvalidated" => {
                let ItemKind::List(tokens) = item.kind else {
                    cx.error_spanned_by(&item.name, "`unvalidated` names the raw parameter and why, such as `unvalidated(body, reason = \"HMAC-signed webhook, verified first\")`");
                    continue;
                };
                if let Some(u) = unvalidated(cx, &item.name, tokens, &mut out.unvalidated_names) {
                    out.unvalidated.push(u);
                }
            }
            "reads" => {
                let ItemKind::List(tokens) = item.kind else {
                    cx.error_spanned_by(&item.name, READS_FORM);
                    continue;
                };
                if let Some(r) = reads(cx, &item.name, tokens) {
                    out.reads.push(r);
                }
            }
            _ => cx.error_spanned_by(&item.name, unknown_name_message("option", &name, OPTIONS)),
        }
    }
    out
}

fn rate_limit(cx: &mut Ctxt, name: &Ident, tokens: TokenStream) -> Option<RateLimit> {
    let parser = |input: ParseStream<'_>| {
        let rate: LitStr = input.parse()?;
        let key = if input.is_empty() {
            None
        } else {
            let _: Token![,] = input.parse()?;
            let k: Ident = input.parse()?;
            if k != "key" {
                return Err(syn::Error::new(
                    k.span(),
                    "expected `key = ip`, `key = user` or `key = global`",
                ));
            }
            let _: Token![=] = input.parse()?;
            let value: Ident = input.call(syn::ext::IdentExt::parse_any)?;
            let _: Option<Token![,]> = input.parse()?;
            Some(value)
        };
        Ok((rate, key))
    };
    let (rate, key) = match parser.parse2(tokens) {
        Ok(v) => v,
        Err(e) => {
            cx.syn_error(syn::Error::new(
                e.span(),
                format!("{e}: write `rate_limit(\"5/min\", key = ip)`"),
            ));
            return None;
        }
    };
    let (count, period_secs) = match units::parse_rate(&rate.value()) {
        Ok(v) => v,
        Err(msg) => {
            cx.error_spanned_by(&rate, msg);
            return None;
        }
    };
    let key = match key {
        None => {
            cx.error_spanned_by(name, "`rate_limit` needs a key: who shares the budget? `key = ip`, `key = user` or `key = global`");
            return None;
        }
        Some(k) => match k.to_string().as_str() {
            "ip" => RateKey::Ip,
            "user" => RateKey::User,
            "global" => RateKey::Global,
            other => {
                cx.error_spanned_by(
                    &k,
                    unknown_name_message("rate limit key", other, &["ip", "user", "global"]),
                );
                return None;
            }
        },
    };
    Some(RateLimit {
        count,
        period_secs,
        key,
        span: rate.span(),
    })
}

fn unvalidated(
    cx: &mut Ctxt,
    name: &Ident,
    tokens: TokenStream,
    names: &mut Vec<Ident>,
) -> Option<Unvalidated> {
    let parser = |input: ParseStream<'_>| {
        let param: Ident = input.parse()?;
        let mut reason = None;
        if !input.is_empty() {
            let _: Token![,] = input.parse()?;
            if !input.is_empty() {
                let k: Ident = input.parse()?;
                if k != "reason" {
                    return Err(syn::Error::new(k.span(), "expected `reason = \"...\"`"));
                }
                let _: Token![=] = input.parse()?;
                reason = Some(input.parse::<LitStr>()?);
                let _: Option<Token![,]> = input.parse()?;
            }
        }
        Ok((param, reason))
    };
    let (param, reason) = match parser.parse2(tokens) {
        Ok(v) => v,
        Err(e) => {
            cx.syn_error(syn::Error::new(
                e.span(),
                format!("{e}: write `unvalidated(body, reason = \"...\")`"),
            ));
            return None;
        }
    };
    names.push(param.clone());
    let reason = match reason {
        Some(r) if r.value().trim().len() >= 10 => r,
        Some(r) => {
            cx.error_spanned_by(&r, "write a real reason (10 characters or more): reviewers read it in the route policy table");
            return None;
        }
        None => {
            cx.error_spanned_by(
                name,
                format!("`unvalidated({param})` needs a written reason: `unvalidated({param}, reason = \"...\")` says why raw input is safe here"),
            );
            return None;
        }
    };
    Some(Unvalidated { param, reason })
}

const READS_FORM: &str = "`reads` names the tables the handler's own SQL reads and why, such as `reads(notes, reason = \"an administrator's count of every note\")`";

/// `reads(notes, shares, reason = "...")`.
fn reads(cx: &mut Ctxt, name: &Ident, tokens: TokenStream) -> Option<Reads> {
    let parser = |input: ParseStream<'_>| {
        let mut tables = Vec::new();
        let mut reason = None;
        while !input.is_empty() {
            let ident: Ident = input.parse()?;
            if ident == "reason" && input.peek(Token![=]) {
                let _: Token![=] = input.parse()?;
                reason = Some(input.parse::<LitStr>()?);
            } else {
                tables.push(ident);
            }
            if !input.is_empty() {
                let _: Token![,] = input.parse()?;
            }
        }
        Ok((tables, reason))
    };
    let (tables, reason) = match parser.parse2(tokens) {
        Ok(v) => v,
        Err(e) => {
            cx.syn_error(syn::Error::new(e.span(), format!("{e}: {READS_FORM}")));
            return None;
        }
    };
    if tables.is_empty() {
        cx.error_spanned_by(name, READS_FORM);
        return None;
    }
    match reason {
        Some(r) if r.value().trim().len() >= 10 => Some(Reads { tables, reason: r }),
        Some(r) => {
            cx.error_spanned_by(&r, "write a real reason (10 characters or more): reviewers read it in the route policy table");
            None
        }
        None => {
            cx.error_spanned_by(
                name,
                format!("`reads(..)` needs a written reason: {READS_FORM}"),
            );
            None
        }
    }
}

/// The span of the whole attribute, for errors about what is missing from it.
pub(crate) fn attribute_span() -> Span {
    Span::call_site()
}
