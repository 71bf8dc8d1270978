//! Cross-option rules and the function's signature: access declared, no contradictions, no
//! unvalidated input without a written reason, no `Principal` on a public route.

use syn::{FnArg, Ident, ItemFn, Pat, Type};

use super::ast::*;
use super::parse::{Written, attribute_span};
use crate::diag::{Ctxt, did_you_mean};

/// How the handler uses one parameter.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum ParamKind {
    /// `Principal<R>`: filled from the authentication the wrapper already did.
    Principal,
    /// Any other extractor (`Valid<..>`, `Path`, `State`, headers, ...).
    Extractor,
}

pub(crate) struct Param<'a> {
    pub(crate) ty: &'a Type,
    pub(crate) kind: ParamKind,
    /// Declared with `unvalidated(name, reason = "..")`: raw on purpose.
    pub(crate) declared_raw: bool,
}

/// The policy and the parameters, or `None` when an error was recorded.
pub(crate) fn handler<'a>(
    cx: &mut Ctxt,
    w: Written,
    f: &'a ItemFn,
) -> Option<(Policy, Vec<Param<'a>>)> {
    let access = access(cx, &w);
    let params = signature(cx, f, &w, access.as_ref());
    let policy = Policy {
        access: access?,
        rate_limit: w.rate_limit,
        body_limit: w.body_limit,
        audit: w.audit,
        unvalidated: w.unvalidated,
        reads: w.reads,
    };
    Some((policy, params))
}

fn access(cx: &mut Ctxt, w: &Written) -> Option<Access> {
    match (&w.public, &w.auth) {
        (Some(_), Some(auth)) => {
            cx.error_spanned_by(
                auth,
                "a route is either `public` or `auth`, not both: keep one",
            );
            None
        }
        (Some(_), None) => {
            if let Some((roles, _)) = &w.roles {
                cx.error_spanned_by(roles, "`roles` on a `public` route: a public route has no caller to check; replace `public` with `auth`");
            }
            if let Some((scopes, _)) = &w.scopes {
                cx.error_spanned_by(scopes, "`scopes` on a `public` route: a public route has no credential to check; replace `public` with `auth`");
            }
            if let Some(mfa) = &w.mfa {
                cx.error_spanned_by(mfa, "`mfa` on a `public` route: a public route has no caller to check; replace `public` with `auth`");
            }
            if let Some((fresh, _)) = &w.fresh {
                cx.error_spanned_by(fresh, "`fresh` on a `public` route: a public route has no sign-in to check the age of; replace `public` with `auth`");
            }
            if let Some(r) = &w.rate_limit
                && r.key == RateKey::User
            {
                cx.error_at(
                    r.span,
                    "`key = user` on a `public` route: there is no user to count; use `key = ip`",
                );
            }
            // With roles, mfa or fresh the route was meant to be `auth`: judge the rest as
            // such, so the one mistake is reported once.
            if w.roles.is_some() || w.scopes.is_some() || w.mfa.is_some() || w.fresh.is_some() {
                return None;
            }
            Some(Access::Public)
        }
        (None, Some(_)) => Some(Access::Auth {
            roles: w.roles.as_ref().map(|(_, r)| r.clone()).unwrap_or_default(),
            scopes: w
                .scopes
                .as_ref()
                .map(|(_, s)| s.clone())
                .unwrap_or_default(),
            mfa: w.mfa.is_some(),
            fresh: w.fresh.as_ref().map(|(_, secs)| *secs),
        }),
        (None, None) => {
            if let Some((roles, _)) = &w.roles {
                cx.error_spanned_by(
                    roles,
                    "`roles` needs `auth`: write `#[secure_handler(auth, roles(..))]`",
                );
            } else if let Some((scopes, _)) = &w.scopes {
                cx.error_spanned_by(
                    scopes,
                    "`scopes` needs `auth`: write `#[secure_handler(auth, scopes(..))]`",
                );
            } else if let Some(mfa) = &w.mfa {
                cx.error_spanned_by(
                    mfa,
                    "`mfa` needs `auth`: write `#[secure_handler(auth, mfa)]`",
                );
            } else if let Some((fresh, _)) = &w.fresh {
                cx.error_spanned_by(
                    fresh,
                    "`fresh` needs `auth`: write `#[secure_handler(auth, fresh = \"5m\")]`",
                );
            } else {
                cx.error_at(
                    attribute_span(),
                    "declare who may call this route: `#[secure_handler(public)]`, or `#[secure_handler(auth)]` with optional `roles(..)` and `mfa`",
                );
            }
            None
        }
    }
}

/// What a parameter's type says about its input.
enum Input {
    Principal,
    /// `Json<T>`, `Form<T>`, `Query<T>` not wrapped in `Valid`.
    Unchecked(&'static str),
    /// The raw body or request.
    Raw,
    /// `Valid<..>` and `State<..>`: never raw input.
    Checked,
    /// Decided by type (`SecureInput`), so `unvalidated(..)` may name it (`Path<String>`).
    Other,
}

fn classify(ty: &Type) -> Input {
    let ty = match ty {
        Type::Reference(r) => &*r.elem,
        Type::Paren(p) => &*p.elem,
        Type::Group(g) => &*g.elem,
        other => other,
    };
    let Type::Path(p) = ty else {
        return Input::Other;
    };
    let Some(last) = p.path.segments.last() else {
        return Input::Other;
    };
    match last.ident.to_string().as_str() {
        "Principal" => Input::Principal,
        "Json" => Input::Unchecked("Json"),
        "Form" => Input::Unchecked("Form"),
        "Query" => Input::Unchecked("Query"),
        "String" | "Bytes" | "Request" | "Body" | "RawForm" | "RawQuery" | "Multipart"
        | "BodyStream" => Input::Raw,
        "Valid" | "State" => Input::Checked,
        _ => Input::Other,
    }
}

/// The name a parameter is known by: `body` of `body: T`, and `id` of `Path(id): Path<T>`
/// (a wrapper pattern of one field), so `unvalidated(id, ..)` can name it.
fn param_name(pat: &Pat) -> Option<&Ident> {
    match pat {
        Pat::Ident(pi) => Some(&pi.ident),
        Pat::Type(pt) => param_name(&pt.pat),
        Pat::TupleStruct(ts) if ts.elems.len() == 1 => param_name(&ts.elems[0]),
        _ => None,
    }
}

fn signature<'a>(
    cx: &mut Ctxt,
    f: &'a ItemFn,
    w: &Written,
    access: Option<&Access>,
) -> Vec<Param<'a>> {
    let sig = &f.sig;
    if sig.asyncness.is_none() {
        cx.error_spanned_by(
            sig.fn_token,
            "a secure handler must be an `async fn`: add `async`",
        );
    }
    if let Some(c) = &sig.constness {
        cx.error_spanned_by(c, "a secure handler cannot be `const`: remove it");
    }
    if !sig.generics.params.is_empty() {
        cx.error_spanned_by(
            &sig.generics,
            "a secure handler cannot be generic: the route table needs one concrete handler",
        );
    }
    let names: Vec<String> = sig
        .inputs
        .iter()
        .filter_map(|a| match a {
            FnArg::Typed(t) => param_name(&t.pat).map(ToString::to_string),
            FnArg::Receiver(_) => None,
        })
        .collect();
    for param in &w.unvalidated_names {
        let name = param.to_string();
        if !names.contains(&name) {
            let hint =
                match did_you_mean(&name, &names.iter().map(String::as_str).collect::<Vec<_>>()) {
                    Some(g) => format!(": did you mean `{g}`?"),
                    None => String::new(),
                };
            cx.error_spanned_by(
                param,
                format!("`unvalidated({name})` names no parameter of this handler{hint}"),
            );
        }
    }
    let mut params = Vec::new();
    let mut principal_seen = false;
    for arg in &sig.inputs {
        let pt = match arg {
            FnArg::Receiver(r) => {
                cx.error_spanned_by(
                    r,
                    "a secure handler is a free `async fn`, not a method: move it out of the `impl` block and take what it needs as extractors (`State<..>`)",
                );
                continue;
            }
            FnArg::Typed(pt) => pt,
        };
        let name = param_name(&pt.pat);
        let declared_raw = name.is_some_and(|n| w.unvalidated_names.contains(n));
        let kind = match classify(&pt.ty) {
            Input::Principal => {
                if matches!(access, Some(Access::Public)) {
                    cx.error_spanned_by(
                        &pt.ty,
                        "a `public` handler cannot take `Principal`: nobody is authenticated on a public route; declare `auth` to require a caller",
                    );
                }
                if principal_seen {
                    cx.error_spanned_by(&pt.ty, "`Principal` is taken twice: keep one parameter");
                }
                principal_seen = true;
                ParamKind::Principal
            }
            Input::Unchecked(wrapper) => {
                if declared_raw {
                    ParamKind::Extractor
                } else {
                    cx.error_spanned_by(
                        &pt.ty,
                        format!("`{wrapper}<T>` gives the handler unvalidated input: take `Valid<{wrapper}<T>>` (and derive `Validated` on `T`)"),
                    );
                    ParamKind::Extractor
                }
            }
            Input::Raw => {
                if !declared_raw {
                    let pname = name.map_or_else(|| "body".to_owned(), ToString::to_string);
                    cx.error_spanned_by(
                        &pt.ty,
                        format!("this parameter takes the raw request input, unvalidated: take `Valid<Json<T>>`, or declare it on purpose with `unvalidated({pname}, reason = \"...\")`"),
                    );
                }
                ParamKind::Extractor
            }
            Input::Other => ParamKind::Extractor,
            Input::Checked => {
                if declared_raw && let Some(n) = name {
                    cx.error_spanned_by(n, format!("`unvalidated({n})`: `{n}` does not take raw input; remove it from `unvalidated`"));
                }
                ParamKind::Extractor
            }
        };
        params.push(Param {
            ty: &pt.ty,
            kind,
            declared_raw,
        });
    }
    if let Some(Access::Auth { roles, .. }) = access
        && !roles.is_empty()
        && !principal_seen
        && roles.iter().any(|r| r.segments.len() == 1)
    {
        cx.error_spanned_by(
            &roles[0],
            "`roles(..)` with bare variant names needs the handler to take `Principal<YourRole>`, which names the role type; or write full paths such as `roles(AppRole::Admin)`",
        );
    }
    super::sql::check(cx, &f.block);
    params
}
