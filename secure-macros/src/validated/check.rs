//! Rules that depend on the field's type or on other fields: a mistake here is reported at
//! the rule that is wrong, with the fix in one sentence.

use std::collections::HashSet;

use quote::ToTokens;
use syn::{Lit, Type};

use super::ast::*;
use super::types::{self, TyClass};
use crate::diag::{Ctxt, did_you_mean};

pub(crate) fn container(cx: &mut Ctxt, c: &Container<'_>) {
    match &c.body {
        Body::Struct(shape) => check_shape(cx, shape),
        Body::Enum(variants) => variants.iter().for_each(|v| check_shape(cx, &v.shape)),
    }
}

fn check_shape(cx: &mut Ctxt, shape: &Shape<'_>) {
    let siblings: Vec<&str> = match shape.style {
        Style::Named => shape.fields.iter().map(|f| f.name.as_str()).collect(),
        _ => Vec::new(),
    };
    for field in &shape.fields {
        let subject = Subject {
            name: &field.name,
            ty: Some(field.ty),
        };
        rule_set(cx, &field.rules, subject, &siblings, false);
    }
}

/// What a rule set applies to: a field, or the elements of one.
#[derive(Clone, Copy)]
struct Subject<'a> {
    name: &'a str,
    /// `None` when `each` was used on a collection whose element type is not written out.
    ty: Option<&'a Type>,
}

impl Subject<'_> {
    /// The type the value rules see: `Option`s are unwrapped.
    fn value_ty(&self) -> Option<&Type> {
        self.ty.map(types::strip_options)
    }

    fn class(&self) -> TyClass {
        self.value_ty().map_or(TyClass::Other, types::classify)
    }

    fn describe(&self) -> String {
        match self.value_ty() {
            Some(ty) => format!("`{}` is `{}`", self.name, types::display(ty)),
            None => format!("the elements of `{}` are not strings", self.name),
        }
    }
}

fn rule_set(cx: &mut Ctxt, set: &RuleSet, subject: Subject<'_>, siblings: &[&str], in_each: bool) {
    sanitizers(cx, set, subject);
    let mut seen: HashSet<String> = HashSet::new();
    for rule in &set.rules {
        let name = rule.ident.to_string();
        if name != "custom" && !seen.insert(name.clone()) {
            cx.error_spanned_by(
                &rule.ident,
                format!("duplicate rule `{name}`: merge both into one `{name}(...)`"),
            );
            continue;
        }
        rule_kind(cx, rule, subject, siblings, in_each);
    }
}

fn sanitizers(cx: &mut Ctxt, set: &RuleSet, subject: Subject<'_>) {
    let mut seen = HashSet::new();
    let has = |k| set.sanitizers.iter().any(|s| s.kind == k);
    for s in &set.sanitizers {
        let name = s.ident.to_string();
        if !seen.insert(s.kind as u8) {
            cx.error_spanned_by(
                &s.ident,
                format!("duplicate sanitizer `{name}`: remove one"),
            );
            continue;
        }
        let class = subject.class();
        if class.is_scalar() {
            cx.error_spanned_by(
                &s.ident,
                format!(
                    "`{name}` changes a String in place, but {}: remove it",
                    subject.describe()
                ),
            );
        } else if class == TyClass::Collection {
            cx.error_spanned_by(
                &s.ident,
                format!("`{name}` changes a String in place, but {}: use `each({name})` to sanitise every element", subject.describe()),
            );
        }
    }
    if has(SanitizerKind::Lowercase) && has(SanitizerKind::Uppercase) {
        let s = set
            .sanitizers
            .iter()
            .rfind(|s| matches!(s.kind, SanitizerKind::Lowercase | SanitizerKind::Uppercase));
        if let Some(s) = s {
            cx.error_spanned_by(
                &s.ident,
                "`lowercase` and `uppercase` contradict each other: keep one",
            );
        }
    }
    if has(SanitizerKind::Nfc) && has(SanitizerKind::Nfkc) {
        let s = set
            .sanitizers
            .iter()
            .rfind(|s| matches!(s.kind, SanitizerKind::Nfc | SanitizerKind::Nfkc));
        if let Some(s) = s {
            cx.error_spanned_by(&s.ident, "`nfc` and `nfkc` are two normal forms: keep one (`nfkc` also folds look-alike characters)");
        }
    }
}

fn rule_kind(cx: &mut Ctxt, rule: &Rule, subject: Subject<'_>, siblings: &[&str], in_each: bool) {
    let name = rule.ident.to_string();
    let class = subject.class();
    match &rule.kind {
        RuleKind::Length { min, max, equal } => {
            if class.is_scalar() {
                cx.error_spanned_by(
                    &rule.ident,
                    format!("`length` needs a string or a collection, but {}: did you mean `range(min = .., max = ..)`?", subject.describe()),
                );
                return;
            }
            counts(cx, rule, &[min, max, equal]);
            if equal.is_some() && (min.is_some() || max.is_some()) {
                cx.error_spanned_by(&rule.ident, "`length(equal = ..)` cannot be combined with `min` or `max`: use one or the other");
            }
            bounds_order(cx, min.as_ref(), max.as_ref(), "min", "max");
            if let (Some(min), Some(max)) = (min, max)
                && min.value == max.value
            {
                cx.error_spanned_by(
                    &max.lit,
                    format!(
                        "`min` and `max` are both {}: write `length(equal = {})`",
                        lit_text(min),
                        lit_text(min)
                    ),
                );
            }
            if min.is_none() && max.is_none() && equal.is_none() {
                cx.error_spanned_by(&rule.ident, "`length` needs a bound: `min`, `max` or `equal`, such as `length(min = 1, max = 100)`");
            }
        }
        RuleKind::Bytes { min, max } => {
            if class.is_scalar() {
                cx.error_spanned_by(
                    &rule.ident,
                    format!("`bytes` needs a string or a byte buffer, but {}: did you mean `range(min = .., max = ..)`?", subject.describe()),
                );
                return;
            }
            counts(cx, rule, &[min, max]);
            bounds_order(cx, min.as_ref(), max.as_ref(), "min", "max");
            if min.is_none() && max.is_none() {
                cx.error_spanned_by(
                    &rule.ident,
                    "`bytes` needs a bound, such as `bytes(max = 4096)`",
                );
            }
        }
        RuleKind::Range {
            min,
            max,
            exclusive_min,
            exclusive_max,
        } => {
            if matches!(class, TyClass::Str | TyClass::Collection) {
                cx.error_spanned_by(
                    &rule.ident,
                    format!("`range` compares numbers, but {}: did you mean `length(min = .., max = ..)`?", subject.describe()),
                );
                return;
            }
            if min.is_some() && exclusive_min.is_some() {
                cx.error_spanned_by(
                    &rule.ident,
                    "`range` has both `min` and `exclusive_min`: keep one",
                );
            }
            if max.is_some() && exclusive_max.is_some() {
                cx.error_spanned_by(
                    &rule.ident,
                    "`range` has both `max` and `exclusive_max`: keep one",
                );
            }
            let lower = min.as_ref().or(exclusive_min.as_ref());
            let upper = max.as_ref().or(exclusive_max.as_ref());
            if lower.is_none() && upper.is_none() {
                cx.error_spanned_by(
                    &rule.ident,
                    "`range` needs a bound, such as `range(min = 1, max = 100)`",
                );
            }
            if let (Some(lo), Some(hi)) = (lower, upper) {
                let empty = if exclusive_min.is_some() || exclusive_max.is_some() {
                    lo.value >= hi.value
                } else {
                    lo.value > hi.value
                };
                if empty {
                    cx.error_spanned_by(
                        &hi.lit,
                        format!("this range is empty: the lower bound ({}) is not below the upper bound ({}); swap them", lit_text(lo), lit_text(hi)),
                    );
                }
            }
            if let Some(prim) = subject.value_ty().and_then(types::primitive_name) {
                for n in [min, max, exclusive_min, exclusive_max]
                    .into_iter()
                    .flatten()
                {
                    fits_type(cx, n, &prim, subject.name);
                }
            }
        }
        RuleKind::StrCheck(_)
        | RuleKind::Url { .. }
        | RuleKind::Pattern(_)
        | RuleKind::Contains(_)
        | RuleKind::DoesNotContain(_) => {
            if class.is_scalar() || class == TyClass::Collection {
                let hint = if class == TyClass::Collection {
                    format!("use `each({name})` to check every element")
                } else {
                    "use a String field".to_owned()
                };
                cx.error_spanned_by(
                    &rule.ident,
                    format!(
                        "`{name}` needs a string field, but {}: {hint}",
                        subject.describe()
                    ),
                );
                return;
            }
            match &rule.kind {
                RuleKind::Pattern(lit) => pattern(cx, lit),
                RuleKind::Url { schemes, .. } => url_schemes(cx, schemes),
                RuleKind::Contains(lit) | RuleKind::DoesNotContain(lit)
                    if lit.value().is_empty() =>
                {
                    cx.error_spanned_by(
                        lit,
                        format!(
                            "`{name}` with an empty string {}: remove the rule",
                            if name == "contains" {
                                "always passes"
                            } else {
                                "always fails"
                            }
                        ),
                    );
                }
                _ => {}
            }
        }
        RuleKind::OneOf(values) | RuleKind::NoneOf(values) => allowlist(cx, rule, values, subject),
        RuleKind::MustMatch(other) => {
            let other_name = other.to_string();
            if in_each {
                cx.error_spanned_by(
                    &rule.ident,
                    "`must_match` compares two fields and cannot be used inside `each`",
                );
            } else if siblings.is_empty() {
                cx.error_spanned_by(
                    &rule.ident,
                    "`must_match` compares named fields; this field has no name to compare with",
                );
            } else if other_name == subject.name {
                cx.error_spanned_by(other, "`must_match` names this same field: name the field it must equal, such as `must_match(password)`");
            } else if !siblings.contains(&other_name.as_str()) {
                let msg = match did_you_mean(&other_name, siblings) {
                    Some(guess) => {
                        format!("no field `{other_name}` to match: did you mean `{guess}`?")
                    }
                    None => format!(
                        "no field `{other_name}` to match: `must_match` names another field of this struct, one of {}",
                        siblings
                            .iter()
                            .map(|s| format!("`{s}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                cx.error_spanned_by(other, msg);
            }
        }
        RuleKind::Nested => {
            if class.is_scalar() || class == TyClass::Str {
                cx.error_spanned_by(
                    &rule.ident,
                    format!("`nested` runs the rules of a type that derives `Validated`, but {}: put the rules on the field directly", subject.describe()),
                );
            }
        }
        RuleKind::Each(inner) => {
            if class.is_scalar() || class == TyClass::Str {
                cx.error_spanned_by(
                    &rule.ident,
                    format!("`each` needs a collection such as Vec<T>, but {}: put the rules on the field directly", subject.describe()),
                );
                return;
            }
            if let Some(s) = inner.sanitizers.first()
                && subject.value_ty().is_some_and(types::is_set)
            {
                cx.error_spanned_by(
                    &s.ident,
                    format!("`{}` cannot change the elements of a set in place, and {}: use a Vec, or sanitise before building the set", s.ident, subject.describe()),
                );
                return;
            }
            let elem = subject.value_ty().and_then(types::element_type);
            let name = format!("{}[..]", subject.name);
            rule_set(
                cx,
                inner,
                Subject {
                    name: &name,
                    ty: elem,
                },
                siblings,
                true,
            );
        }
        RuleKind::Custom(_) => {}
    }
}

fn lit_text(n: &Num) -> String {
    n.lit.to_token_stream().to_string().replace(' ', "")
}

/// Counts (`length`, `bytes`) are whole, non-negative numbers.
fn counts(cx: &mut Ctxt, rule: &Rule, bounds: &[&Option<Num>]) {
    for n in bounds.iter().filter_map(|b| b.as_ref()) {
        if n.is_float || n.value < 0.0 {
            cx.error_spanned_by(
                &n.lit,
                format!(
                    "`{}` counts, so its bounds are whole numbers of 0 or more",
                    rule.ident
                ),
            );
        }
    }
}

fn bounds_order(cx: &mut Ctxt, min: Option<&Num>, max: Option<&Num>, lo: &str, hi: &str) {
    if let (Some(min), Some(max)) = (min, max)
        && min.value > max.value
    {
        cx.error_spanned_by(
            &max.lit,
            format!(
                "`{lo}` ({}) is greater than `{hi}` ({}): nothing can pass; swap them",
                lit_text(min),
                lit_text(max)
            ),
        );
    }
}

fn fits_type(cx: &mut Ctxt, n: &Num, prim: &str, field: &str) {
    if let Some((lo, hi)) = types::int_bounds(prim) {
        if n.is_float {
            cx.error_spanned_by(
                &n.lit,
                format!("`{field}` is `{prim}`, so its bounds are whole numbers"),
            );
        } else if n.value < lo || n.value > hi {
            cx.error_spanned_by(&n.lit, format!("{} does not fit in `{prim}` (the type of `{field}`): use a bound between {lo} and {hi}", lit_text(n)));
        }
    }
}

pub(crate) fn pattern(cx: &mut Ctxt, lit: &syn::LitStr) {
    let value = lit.value();
    if let Err(e) = regex_syntax::Parser::new().parse(&value) {
        let detail = e.to_string();
        let last = detail
            .lines()
            .rev()
            .find(|l| l.starts_with("error:"))
            .unwrap_or("error: invalid pattern");
        cx.error_spanned_by(
            lit,
            format!(
                "invalid regular expression: {}; the pattern must be valid `regex` crate syntax",
                last.trim_start_matches("error: ")
            ),
        );
        return;
    }
    if let Err(e) = regex::Regex::new(&super::emit::anchored(&value)) {
        cx.error_spanned_by(lit, format!("this pattern cannot be compiled: {e}"));
    }
}

fn url_schemes(cx: &mut Ctxt, schemes: &[syn::LitStr]) {
    let mut seen = HashSet::new();
    for s in schemes {
        let v = s.value();
        let well_formed = v.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && v.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '+' | '-' | '.')
            });
        if !well_formed {
            cx.error_spanned_by(
                s,
                "a scheme is lowercase ASCII without `:`, such as \"https\"",
            );
        } else if matches!(v.as_str(), "javascript" | "data" | "vbscript") {
            cx.error_spanned_by(s, format!("the `{v}` scheme runs or embeds content in the browser (XSS) and cannot be allowed"));
        } else if !seen.insert(v.clone()) {
            cx.error_spanned_by(s, format!("duplicate scheme \"{v}\""));
        }
    }
}

fn allowlist(cx: &mut Ctxt, rule: &Rule, values: &[crate::meta::LitArg], subject: Subject<'_>) {
    let name = rule.ident.to_string();
    let Some(first) = values.first() else {
        let what = if name == "one_of" {
            "allowed"
        } else {
            "forbidden"
        };
        cx.error_spanned_by(
            &rule.ident,
            format!("`{name}` needs at least one {what} value, such as `{name}(\"a\", \"b\")`"),
        );
        return;
    };
    let is_str = |l: &crate::meta::LitArg| matches!(l.lit, Lit::Str(_)) && l.neg.is_none();
    let is_int = |l: &crate::meta::LitArg| matches!(l.lit, Lit::Int(_));
    let want_str = is_str(first);
    let mut seen = HashSet::new();
    for v in values {
        if !(is_str(v) || is_int(v)) {
            cx.error_spanned_by(v, format!("`{name}` takes string or integer literals"));
            return;
        }
        if is_str(v) != want_str {
            cx.error_spanned_by(
                v,
                format!("`{name}` mixes strings and numbers: use one kind"),
            );
            return;
        }
        if !seen.insert(v.to_token_stream().to_string()) {
            cx.error_spanned_by(v, format!("duplicate value in `{name}`"));
        }
    }
    let class = subject.class();
    if want_str && (class.is_scalar() || class == TyClass::Collection) {
        cx.error_spanned_by(
            first,
            format!("`{name}` lists strings, but {}", subject.describe()),
        );
    } else if !want_str
        && matches!(
            class,
            TyClass::Str | TyClass::Collection | TyClass::Float | TyClass::Bool | TyClass::Char
        )
    {
        cx.error_spanned_by(
            first,
            format!("`{name}` lists integers, but {}", subject.describe()),
        );
    }
}
