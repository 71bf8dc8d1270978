//! `#[validate(...)]` attributes -> the IR in `ast.rs`. Simple mistakes (unknown names,
//! malformed arguments) are reported here; rules that depend on types or on other fields are
//! checked in `check.rs`.

use quote::format_ident;
use syn::punctuated::Punctuated;
use syn::{Data, DeriveInput, Expr, Fields, Ident, Lit, LitStr, Member, Token};

use super::ast::*;
use super::serde_names::{self, RenameRule, SerdeAttrs};
use crate::diag::{Ctxt, unknown_name_message};
use crate::meta::{self, Arg, LitArg, Meta};

const ATTR: &str = "validate";

pub(crate) const FIELD_RULES: &[&str] = &[
    "length",
    "bytes",
    "range",
    "email",
    "url",
    "ip",
    "ipv4",
    "ipv6",
    "uuid",
    "credit_card",
    "pattern",
    "one_of",
    "none_of",
    "ascii",
    "alphanumeric",
    "no_control",
    "safe_path",
    "contains",
    "does_not_contain",
    "must_match",
    "custom",
    "nested",
    "each",
    "trim",
    "lowercase",
    "uppercase",
    "nfc",
    "nfkc",
    "strip_control",
];

const CONTAINER_OPTIONS: &[&str] = &["custom", "allow_unknown_fields"];

pub(crate) fn container<'a>(cx: &mut Ctxt, input: &'a DeriveInput) -> Option<Container<'a>> {
    sensitive_order(cx, input);
    let serde = serde_names::read(&input.attrs);
    let mut customs = Vec::new();
    let mut allow_unknown_fields = false;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident(ATTR)) {
        let Some(list) = attr_list(cx, attr) else {
            continue;
        };
        for item in list {
            let name = item.name().to_string();
            match (name.as_str(), &item) {
                ("allow_unknown_fields", Meta::Flag(_)) => {
                    if allow_unknown_fields {
                        cx.error_spanned_by(item.name(), "duplicate `allow_unknown_fields`");
                    }
                    allow_unknown_fields = true;
                }
                ("custom", _) => {
                    if let Some(c) = custom(cx, &item) {
                        customs.push(c);
                    }
                }
                ("allow_unknown_fields", _) => cx.error_spanned_by(
                    &item,
                    "`allow_unknown_fields` takes no arguments: write `#[validate(allow_unknown_fields)]`",
                ),
                _ if FIELD_RULES.contains(&name.as_str()) => cx.error_spanned_by(
                    item.name(),
                    format!(
                        "`{name}` is a field rule: put it on a field; on the type itself only `custom = path::to::fn` and `allow_unknown_fields` are allowed"
                    ),
                ),
                _ => cx.error_spanned_by(
                    item.name(),
                    unknown_name_message("type-level option", &name, CONTAINER_OPTIONS),
                ),
            }
        }
    }

    if !allow_unknown_fields {
        mass_assignment_gaps(cx, input, &serde);
    }

    let body = match &input.data {
        Data::Struct(data) => {
            let transparent = serde.transparent;
            Body::Struct(shape(cx, &data.fields, &serde, None, transparent))
        }
        Data::Enum(data) => {
            let variants = data
                .variants
                .iter()
                .map(|v| {
                    let vserde = serde_names::read(&v.attrs);
                    for attr in v.attrs.iter().filter(|a| a.path().is_ident(ATTR)) {
                        cx.error_spanned_by(
                            attr,
                            "`#[validate]` goes on the fields of a variant, not on the variant itself",
                        );
                    }
                    let wire = vserde.rename.clone().unwrap_or_else(|| {
                        serde
                            .rename_all
                            .unwrap_or(RenameRule::None)
                            .apply_to_variant(&v.ident.to_string())
                    });
                    let seg = if serde.untagged || (serde.tag.is_some() && serde.content.is_none()) {
                        Seg::Same
                    } else if let Some(content) = &serde.content {
                        Seg::Name(content.clone())
                    } else {
                        Seg::Name(wire)
                    };
                    let field_rule = vserde.rename_all.or(serde.rename_all_fields);
                    Variant {
                        ident: &v.ident,
                        seg,
                        shape: shape(cx, &v.fields, &vserde, field_rule, false),
                    }
                })
                .collect();
            Body::Enum(variants)
        }
        Data::Union(u) => {
            cx.error_spanned_by(
                u.union_token,
                "`Validated` cannot be derived for a union: its active field is unknown, so it cannot be validated; use an enum",
            );
            return None;
        }
    };

    Some(Container {
        input,
        body,
        customs,
        allow_unknown_fields,
    })
}

/// serde drops unknown keys silently inside `flatten` fields and tagged or untagged enums, where
/// the extractors' unknown-field check cannot see them: require an explicit decision there.
fn mass_assignment_gaps(cx: &mut Ctxt, input: &DeriveInput, serde: &SerdeAttrs) {
    let opt_out = "or add `#[validate(allow_unknown_fields)]` to accept unknown fields";
    if let (Data::Enum(_), Some(span)) = (&input.data, serde.shape_span)
        && (serde.tag.is_some() || serde.untagged)
        && !serde.deny_unknown_fields
    {
        cx.error_at(
            span,
            format!(
                "serde drops unknown fields of tagged and untagged enums before they can be rejected (mass assignment): add `#[serde(deny_unknown_fields)]` to the enum, {opt_out}"
            ),
        );
    }
    let fields: Vec<&syn::Field> = match &input.data {
        Data::Struct(d) => d.fields.iter().collect(),
        Data::Enum(d) => d.variants.iter().flat_map(|v| v.fields.iter()).collect(),
        Data::Union(_) => Vec::new(),
    };
    for f in fields {
        let fserde = serde_names::read(&f.attrs);
        if let (true, Some(span)) = (fserde.flatten, fserde.shape_span) {
            cx.error_at(
                span,
                format!(
                    "serde drops unknown fields inside a `flatten` field before they can be rejected (mass assignment): list the fields here instead of flattening, {opt_out}"
                ),
            );
        }
    }
}

fn shape<'a>(
    cx: &mut Ctxt,
    fields: &'a Fields,
    serde: &SerdeAttrs,
    variant_rule: Option<RenameRule>,
    transparent: bool,
) -> Shape<'a> {
    let rule = variant_rule
        .or(serde.rename_all)
        .unwrap_or(RenameRule::None);
    let (style, count) = match fields {
        Fields::Named(f) => (Style::Named, f.named.len()),
        Fields::Unnamed(f) => (Style::Tuple, f.unnamed.len()),
        Fields::Unit => (Style::Unit, 0),
    };
    let fields = fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let fserde = serde_names::read(&f.attrs);
            let (member, binding, name) = match &f.ident {
                Some(id) => (
                    Member::Named(id.clone()),
                    format_ident!("__f_{}", id),
                    id.to_string(),
                ),
                None => (
                    Member::Unnamed(i.into()),
                    format_ident!("__f_{}", i),
                    i.to_string(),
                ),
            };
            let seg = if fserde.flatten || transparent || (style == Style::Tuple && count == 1) {
                Seg::Same
            } else if let Some(id) = &f.ident {
                let raw = id.to_string();
                let raw = raw.strip_prefix("r#").unwrap_or(&raw).to_owned();
                Seg::Name(
                    fserde
                        .rename
                        .clone()
                        .unwrap_or_else(|| rule.apply_to_field(&raw)),
                )
            } else {
                Seg::Index(i)
            };
            // The longest key a client may send for it: its name or an alias.
            let key_len = match &seg {
                Seg::Name(wire) => fserde
                    .aliases
                    .iter()
                    .map(String::len)
                    .chain([wire.len()])
                    .max()
                    .unwrap_or(0),
                _ => 0,
            };
            let mut rules = RuleSet::default();
            for attr in f.attrs.iter().filter(|a| a.path().is_ident(ATTR)) {
                if let Some(list) = attr_list(cx, attr) {
                    rule_set(cx, list.iter(), &mut rules);
                }
            }
            Field {
                member,
                binding,
                ty: &f.ty,
                name,
                seg,
                key_len,
                rules,
            }
        })
        .collect();
    Shape { style, fields }
}

fn attr_list(cx: &mut Ctxt, attr: &syn::Attribute) -> Option<Punctuated<Meta, Token![,]>> {
    if let syn::Meta::Path(_) = attr.meta {
        cx.error_spanned_by(
            attr,
            "`#[validate]` needs a list of rules, such as `#[validate(length(min = 1, max = 100))]`",
        );
        return None;
    }
    match meta::parse_list(attr) {
        Ok(list) => Some(list),
        Err(e) => {
            cx.syn_error(syn::Error::new(
                e.span(),
                format!(
                    "malformed `#[validate(...)]`: {e}; write rules as `name`, `name = value` or `name(option = value, ...)`"
                ),
            ));
            None
        }
    }
}

/// Parses rules (and sanitizers) into `out`.
pub(crate) fn rule_set<'m>(
    cx: &mut Ctxt,
    items: impl Iterator<Item = &'m Meta>,
    out: &mut RuleSet,
) {
    for item in items {
        let ident = item.name().clone();
        let name = ident.to_string();
        if let Some(kind) = sanitizer_kind(&name) {
            if let Meta::Flag(_) = item {
                out.sanitizers.push(Sanitizer { ident, kind });
            } else {
                cx.error_spanned_by(
                    item,
                    format!("the sanitizer `{name}` takes no arguments: write `{name}`"),
                );
            }
            continue;
        }
        if let Some(rule) = rule(cx, item) {
            out.rules.push(rule);
        }
    }
}

fn sanitizer_kind(name: &str) -> Option<SanitizerKind> {
    Some(match name {
        "trim" => SanitizerKind::Trim,
        "lowercase" => SanitizerKind::Lowercase,
        "uppercase" => SanitizerKind::Uppercase,
        "nfc" => SanitizerKind::Nfc,
        "nfkc" => SanitizerKind::Nfkc,
        "strip_control" => SanitizerKind::StripControl,
        _ => return None,
    })
}

fn str_check(name: &str) -> Option<StrCheck> {
    Some(match name {
        "email" => StrCheck::Email,
        "ip" => StrCheck::Ip,
        "ipv4" => StrCheck::Ipv4,
        "ipv6" => StrCheck::Ipv6,
        "uuid" => StrCheck::Uuid,
        "credit_card" => StrCheck::CreditCard,
        "ascii" => StrCheck::Ascii,
        "alphanumeric" => StrCheck::Alphanumeric,
        "no_control" => StrCheck::NoControl,
        "safe_path" => StrCheck::SafePath,
        _ => return None,
    })
}

/// The arguments of one rule, consumed option by option; what is left is reported.
struct Args<'m> {
    rule: &'m Ident,
    positional: Vec<&'m Arg>,
    named: Vec<(&'m Ident, &'m Expr)>,
    lists: Vec<(&'m Ident, &'m Punctuated<Arg, Token![,]>)>,
    code: Option<LitStr>,
    message: Option<LitStr>,
}

impl<'m> Args<'m> {
    fn new(cx: &mut Ctxt, rule: &'m Ident, args: Option<&'m Punctuated<Arg, Token![,]>>) -> Self {
        let mut out = Args {
            rule,
            positional: Vec::new(),
            named: Vec::new(),
            lists: Vec::new(),
            code: None,
            message: None,
        };
        for arg in args.into_iter().flatten() {
            match arg {
                Arg::Meta(Meta::NameValue(name, value)) if name == "message" || name == "code" => {
                    let Some(lit) = str_lit(value) else {
                        cx.error_spanned_by(
                            value,
                            format!("`{name}` must be a string literal, such as {name} = \"...\""),
                        );
                        continue;
                    };
                    let slot = if name == "message" {
                        &mut out.message
                    } else {
                        &mut out.code
                    };
                    if slot.is_some() {
                        cx.error_spanned_by(name, format!("duplicate `{name}` in `{rule}`"));
                    }
                    if name == "code" && !valid_code(&lit.value()) {
                        cx.error_spanned_by(&lit, "a code is a stable identifier: lowercase letters, digits and `_`, such as \"too_short\"");
                    }
                    *slot = Some(lit);
                }
                Arg::Meta(Meta::NameValue(name, value)) => out.named.push((name, value)),
                Arg::Meta(Meta::List(name, list)) => out.lists.push((name, list)),
                _ => out.positional.push(arg),
            }
        }
        out
    }

    fn take_named(&mut self, name: &str) -> Option<(&'m Ident, &'m Expr)> {
        let i = self.named.iter().position(|(n, _)| *n == name)?;
        Some(self.named.remove(i))
    }

    fn take_num(&mut self, cx: &mut Ctxt, name: &str) -> Option<Num> {
        let (ident, expr) = self.take_named(name)?;
        if let Some((dup, _)) = self.named.iter().find(|(n, _)| *n == name) {
            cx.error_spanned_by(dup, format!("duplicate `{name}` in `{}`", self.rule));
        }
        match meta::expr_lit(expr).and_then(num) {
            Some(n) => Some(n),
            None => {
                cx.error_spanned_by(
                    expr,
                    format!("`{ident}` must be a number literal, such as `{ident} = 10`"),
                );
                None
            }
        }
    }

    /// Reports every argument no option consumed; `false` if there was one.
    fn finish(self, cx: &mut Ctxt, known: &[&str]) -> bool {
        let clean = self.named.is_empty() && self.lists.is_empty() && self.positional.is_empty();
        let rule = self.rule.to_string();
        let mut known: Vec<&str> = known.to_vec();
        known.extend(["message", "code"]);
        for (name, _) in &self.named {
            cx.error_spanned_by(
                name,
                unknown_name_message(&format!("`{rule}` option"), &name.to_string(), &known),
            );
        }
        for (name, _) in &self.lists {
            cx.error_spanned_by(
                name,
                unknown_name_message(&format!("`{rule}` option"), &name.to_string(), &known),
            );
        }
        for arg in &self.positional {
            match arg {
                Arg::Meta(Meta::Flag(name)) => cx.error_spanned_by(
                    name,
                    unknown_name_message(&format!("`{rule}` option"), &name.to_string(), &known),
                ),
                _ => cx.error_spanned_by(
                    arg,
                    format!(
                        "unexpected value in `{rule}(...)`: options are written `name = value`"
                    ),
                ),
            }
        }
        clean
    }
}

fn valid_code(code: &str) -> bool {
    !code.is_empty()
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn str_lit(expr: &Expr) -> Option<LitStr> {
    match meta::expr_lit(expr) {
        Some(LitArg {
            neg: None,
            lit: Lit::Str(s),
        }) => Some(s),
        _ => None,
    }
}

fn num(lit: LitArg) -> Option<Num> {
    let sign = if lit.neg.is_some() { -1.0 } else { 1.0 };
    let (value, is_float) = match &lit.lit {
        Lit::Int(i) => (i.base10_digits().parse::<f64>().ok()?, false),
        Lit::Float(f) => (f.base10_digits().parse::<f64>().ok()?, true),
        _ => return None,
    };
    Some(Num {
        value: sign * value,
        is_float,
        lit,
    })
}

fn rule(cx: &mut Ctxt, item: &Meta) -> Option<Rule> {
    let ident = item.name();
    let name = ident.to_string();
    let list = match item {
        Meta::List(_, list) => Some(list),
        _ => None,
    };
    let mut args = Args::new(cx, ident, list);
    let kind = match name.as_str() {
        "length" | "bytes" | "range" => {
            if !matches!(item, Meta::List(..)) {
                let example = if name == "range" {
                    "range(min = 1, max = 100)"
                } else {
                    "length(min = 1, max = 100)"
                };
                let example = if name == "bytes" {
                    "bytes(max = 4096)"
                } else {
                    example
                };
                cx.error_spanned_by(item, format!("`{name}` needs bounds, such as `{example}`"));
                return None;
            }
            let kind = match name.as_str() {
                "length" => RuleKind::Length {
                    min: args.take_num(cx, "min"),
                    max: args.take_num(cx, "max"),
                    equal: args.take_num(cx, "equal"),
                },
                "bytes" => RuleKind::Bytes {
                    min: args.take_num(cx, "min"),
                    max: args.take_num(cx, "max"),
                },
                _ => RuleKind::Range {
                    min: args.take_num(cx, "min"),
                    max: args.take_num(cx, "max"),
                    exclusive_min: args.take_num(cx, "exclusive_min"),
                    exclusive_max: args.take_num(cx, "exclusive_max"),
                },
            };
            let known: &[&str] = match name.as_str() {
                "length" => &["min", "max", "equal"],
                "bytes" => &["min", "max"],
                _ => &["min", "max", "exclusive_min", "exclusive_max"],
            };
            finish(cx, args, known, kind)
        }
        "url" => {
            if let Meta::NameValue(..) = item {
                cx.error_spanned_by(
                    item,
                    "write `url`, `url(public)` or `url(schemes(\"https\"), public)`",
                );
                return None;
            }
            let mut schemes = Vec::new();
            if let Some(i) = args.lists.iter().position(|(n, _)| *n == "schemes") {
                let (sname, list) = args.lists.remove(i);
                for arg in list {
                    match arg {
                        Arg::Lit(LitArg {
                            neg: None,
                            lit: Lit::Str(s),
                        }) => schemes.push(s.clone()),
                        _ => cx.error_spanned_by(
                            arg,
                            "a scheme is a string literal, such as `schemes(\"https\")`",
                        ),
                    }
                }
                if list.is_empty() {
                    cx.error_spanned_by(
                        sname,
                        "`schemes(...)` needs at least one scheme, such as `schemes(\"https\")`",
                    );
                }
            }
            let mut public = false;
            if let Some(i) = args
                .positional
                .iter()
                .position(|a| matches!(a, Arg::Meta(Meta::Flag(f)) if f == "public"))
            {
                args.positional.remove(i);
                public = true;
            }
            finish(
                cx,
                args,
                &["schemes", "public"],
                RuleKind::Url { schemes, public },
            )
        }
        "pattern" | "contains" | "does_not_contain" => {
            let lit = match item {
                Meta::NameValue(_, expr) => match str_lit(expr) {
                    Some(l) => Some(l),
                    None => {
                        cx.error_spanned_by(
                            expr,
                            format!("`{name}` takes a string literal, such as `{name} = \"...\"`"),
                        );
                        return None;
                    }
                },
                Meta::List(..) => match args.positional.first() {
                    Some(Arg::Lit(LitArg {
                        neg: None,
                        lit: Lit::Str(s),
                    })) => {
                        let s = s.clone();
                        args.positional.remove(0);
                        Some(s)
                    }
                    _ => None,
                },
                Meta::Flag(_) => None,
            };
            let Some(lit) = lit else {
                cx.error_spanned_by(
                    item,
                    format!("`{name}` needs a string, such as `{name} = \"...\"`"),
                );
                return None;
            };
            let kind = match name.as_str() {
                "pattern" => RuleKind::Pattern(lit),
                "contains" => RuleKind::Contains(lit),
                _ => RuleKind::DoesNotContain(lit),
            };
            finish(cx, args, &[], kind)
        }
        "one_of" | "none_of" => {
            let Meta::List(..) = item else {
                cx.error_spanned_by(
                    item,
                    format!(
                        "`{name}` needs its values in parentheses, such as `{name}(\"a\", \"b\")`"
                    ),
                );
                return None;
            };
            let mut values = Vec::new();
            args.positional.retain(|a| match a {
                Arg::Lit(l) => {
                    values.push(l.clone());
                    false
                }
                _ => true,
            });
            let kind = if name == "one_of" {
                RuleKind::OneOf(values)
            } else {
                RuleKind::NoneOf(values)
            };
            finish(cx, args, &[], kind)
        }
        "must_match" => {
            let other = match item {
                Meta::NameValue(_, Expr::Path(p)) => p.path.get_ident().cloned(),
                Meta::List(..) => {
                    if let Some((_, Expr::Path(p))) = args.take_named("other") {
                        p.path.get_ident().cloned()
                    } else if let Some(Arg::Meta(Meta::Flag(f))) = args.positional.first() {
                        let f = f.clone();
                        args.positional.remove(0);
                        Some(f)
                    } else {
                        None
                    }
                }
                _ => None,
            };
            let Some(other) = other else {
                cx.error_spanned_by(
                    item,
                    "`must_match` names the other field, such as `must_match(password)`",
                );
                return None;
            };
            finish(cx, args, &["other"], RuleKind::MustMatch(other))
        }
        "custom" => {
            let c = custom(cx, item)?;
            return Some(Rule {
                ident: ident.clone(),
                kind: RuleKind::Custom(c.path),
                code: c.code,
                message: c.message,
            });
        }
        "nested" => {
            if !matches!(item, Meta::Flag(_)) {
                cx.error_spanned_by(
                    item,
                    "`nested` takes no arguments: the inner type's own rules and messages apply",
                );
                return None;
            }
            finish(cx, args, &[], RuleKind::Nested)
        }
        "each" => {
            let Meta::List(_, list) = item else {
                cx.error_spanned_by(
                    item,
                    "`each` needs the rules for every element, such as `each(length(max = 20))`",
                );
                return None;
            };
            let mut inner = RuleSet::default();
            let metas: Vec<&Meta> = list
                .iter()
                .filter_map(|a| match a {
                    Arg::Meta(m) => Some(m),
                    Arg::Lit(l) => {
                        cx.error_spanned_by(l, "`each(...)` holds rules, not values");
                        None
                    }
                })
                .collect();
            rule_set(cx, metas.into_iter(), &mut inner);
            if inner.is_empty() {
                cx.error_spanned_by(
                    item,
                    "`each` needs at least one rule, such as `each(length(max = 20))`",
                );
            }
            return Some(Rule {
                ident: ident.clone(),
                kind: RuleKind::Each(inner),
                code: None,
                message: None,
            });
        }
        other => {
            match str_check(other) {
                Some(check) => {
                    if let Meta::NameValue(..) = item {
                        cx.error_spanned_by(item, format!("`{name}` takes no value: write `{name}` or `{name}(message = \"...\")`"));
                        return None;
                    }
                    finish(cx, args, &[], RuleKind::StrCheck(check))
                }
                None => {
                    cx.error_spanned_by(ident, unknown_name_message("rule", &name, FIELD_RULES));
                    return None;
                }
            }
        }
    };
    let (kind, code, message) = kind?;
    Some(Rule {
        ident: ident.clone(),
        kind,
        code,
        message,
    })
}

type Parsed = Option<(RuleKind, Option<LitStr>, Option<LitStr>)>;

fn finish(cx: &mut Ctxt, mut args: Args<'_>, known: &[&str], kind: RuleKind) -> Parsed {
    let code = args.code.take();
    let message = args.message.take();
    // A rule with a misspelt option is dropped, so its other checks do not pile up errors.
    args.finish(cx, known).then_some((kind, code, message))
}

fn custom(cx: &mut Ctxt, item: &Meta) -> Option<Custom> {
    let usage = "`custom` names a function, such as `custom = path::to::check` or `custom(function = check, code = \"...\")`";
    match item {
        Meta::NameValue(_, Expr::Path(p)) => Some(Custom {
            path: p.path.clone(),
            code: None,
            message: None,
        }),
        Meta::List(ident, list) => {
            let mut args = Args::new(cx, ident, Some(list));
            let path = if let Some((_, Expr::Path(p))) = args.take_named("function") {
                Some(p.path.clone())
            } else if let Some(Arg::Meta(Meta::Flag(f))) = args.positional.first() {
                let p = syn::Path::from(f.clone());
                args.positional.remove(0);
                Some(p)
            } else {
                None
            };
            let Some(path) = path else {
                cx.error_spanned_by(item, usage);
                return None;
            };
            let code = args.code.take();
            let message = args.message.take();
            args.finish(cx, &["function"]);
            Some(Custom {
                path,
                code,
                message,
            })
        }
        _ => {
            cx.error_spanned_by(item, usage);
            None
        }
    }
}

/// `#[sensitive]` expands before the derives written below it and strips its field markers,
/// so a derive that still sees one was written above it (or on a type that is not
/// `#[sensitive]`): say which, instead of the compiler's "expected non-macro attribute".
fn sensitive_order(cx: &mut Ctxt, input: &DeriveInput) {
    let is_sensitive = |a: &&syn::Attribute| a.path().is_ident("sensitive");
    if let Some(attr) = input.attrs.iter().find(is_sensitive) {
        cx.error_spanned_by(
            attr,
            "`#[sensitive]` must come before `#[derive(...)]`: `Validated` ran above it without knowing which fields are secret; move `#[sensitive]` up to be the first attribute",
        );
        return;
    }
    let fields: Vec<&syn::Field> = match &input.data {
        Data::Struct(d) => d.fields.iter().collect(),
        Data::Enum(d) => d.variants.iter().flat_map(|v| &v.fields).collect(),
        Data::Union(_) => Vec::new(),
    };
    for attr in fields
        .iter()
        .flat_map(|f| f.attrs.iter().filter(is_sensitive))
    {
        cx.error_spanned_by(
            attr,
            "a field is marked `#[sensitive]` only inside a `#[sensitive]` type: add `#[sensitive]` above the type's `#[derive(...)]`",
        );
    }
}
