//! SQL built from strings: a `format!`, a `+` of strings, or a local grown with `push_str`,
//! `+=` or `write!`, passed to sqlx's `query`, `query_as` or `query_scalar`, or to a
//! `Database`'s or `Transaction`'s `.query(..)` (directly, behind `&`, `.as_str()` or
//! `AssertSqlSafe(..)`, or through a local variable, typed or not) is a compile error (OWASP
//! A03 injection, ASVS 5.3.4).

use std::collections::HashMap;

use syn::visit::{self, Visit};
use syn::{Expr, Ident, Macro};

use crate::diag::Ctxt;

const QUERY_FNS: &[&str] = &[
    "query",
    "query_as",
    "query_scalar",
    "query_with",
    "query_as_with",
    "query_scalar_with",
];

const FIX: &str = "SQL built from strings can be injected: write the SQL as a string literal and pass values with `.bind(..)`, such as `db.query(\"SELECT * FROM notes WHERE id = $1\").bind(id)`";

/// The SQL argument of a query: the first argument of sqlx's `query*(..)` functions, or of a
/// `.query(..)` method call (secure-core's `Database` and `Transaction`).
fn query_argument(e: &Expr) -> Option<&Expr> {
    match e {
        Expr::Call(call) => {
            let is_query = matches!(&*call.func, Expr::Path(p)
                if p.path.segments.last().is_some_and(|s| QUERY_FNS.contains(&s.ident.to_string().as_str())));
            if is_query { call.args.first() } else { None }
        }
        Expr::MethodCall(m) if m.method == "query" => m.args.first(),
        _ => None,
    }
}

/// Reports every query built from a formatted string in `block`.
pub(crate) fn check(cx: &mut Ctxt, block: &syn::Block) {
    let mut finder = Finder {
        formatted: HashMap::new(),
        found: Vec::new(),
    };
    finder.visit_block(block);
    for (span_of, via) in finder.found {
        match via {
            Some((var, how)) => cx.error_spanned_by(
                &span_of,
                format!("`{var}` holds SQL built with {how}, and it reaches a query here. {FIX}"),
            ),
            None => cx.error_spanned_by(&span_of, FIX),
        }
    }
}

/// The SQL a handler's body hands to sqlx's query functions as a string literal or a constant
/// (`INSERT`, `GET`: an upper-case name), for the policy: assembly refuses hand-written reads
/// of a declared resource's table.
pub(crate) fn statements(block: &syn::Block) -> Vec<proc_macro2::TokenStream> {
    struct Collect(Vec<proc_macro2::TokenStream>);
    impl<'ast> Visit<'ast> for Collect {
        fn visit_expr(&mut self, e: &'ast Expr) {
            if let Some(first) = query_argument(e) {
                match peel(first) {
                    e @ Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(_),
                        ..
                    }) => self.0.push(quote::ToTokens::to_token_stream(e)),
                    Expr::Path(p)
                        if p.path.segments.last().is_some_and(|s| {
                            let name = s.ident.to_string();
                            name.chars().any(|c| c.is_ascii_uppercase())
                                && !name.chars().any(|c| c.is_ascii_lowercase())
                        }) =>
                    {
                        self.0.push(quote::ToTokens::to_token_stream(p));
                    }
                    _ => {}
                }
            }
            visit::visit_expr(self, e);
        }
    }
    let mut collect = Collect(Vec::new());
    collect.visit_block(block);
    collect.0
}

struct Finder {
    /// Locals holding a built string, and how it was built (`format!`, `+`, `push_str`).
    formatted: HashMap<String, &'static str>,
    /// The offending token, and the local it came through with how it was built.
    found: Vec<(proc_macro2::TokenStream, Option<(Ident, &'static str)>)>,
}

/// How `e` builds a string, if it does: `format!(..)` or a `+` of strings.
fn built(e: &Expr) -> Option<&'static str> {
    match peel(e) {
        Expr::Macro(m) if is_format(&m.mac) => Some("`format!`"),
        Expr::Binary(b) if matches!(b.op, syn::BinOp::Add(_)) => Some("`+`"),
        _ => None,
    }
}

/// The name a `let` pattern binds, typed (`let q: String`) or not.
fn bound_name(pat: &syn::Pat) -> Option<&Ident> {
    match pat {
        syn::Pat::Ident(pi) => Some(&pi.ident),
        syn::Pat::Type(pt) => bound_name(&pt.pat),
        _ => None,
    }
}

/// The local a method call or an assignment grows: `q.push_str(..)`, `q += ..`.
fn grown(e: &Expr) -> Option<(String, &'static str)> {
    match e {
        Expr::MethodCall(m)
            if matches!(
                m.method.to_string().as_str(),
                "push_str" | "push" | "insert_str"
            ) =>
        {
            match &*m.receiver {
                Expr::Path(p) => p.path.get_ident().map(|i| (i.to_string(), "`push_str`")),
                _ => None,
            }
        }
        Expr::Binary(b) if matches!(b.op, syn::BinOp::AddAssign(_)) => match &*b.left {
            Expr::Path(p) => p.path.get_ident().map(|i| (i.to_string(), "`+=`")),
            _ => None,
        },
        _ => None,
    }
}

fn is_format(mac: &Macro) -> bool {
    mac.path
        .segments
        .last()
        .is_some_and(|s| s.ident == "format")
}

/// Strips `&`, parentheses, `.as_str()`/`.as_ref()`/`.to_string()` and `AssertSqlSafe(..)`.
fn peel(mut e: &Expr) -> &Expr {
    loop {
        e = match e {
            Expr::Reference(r) => &r.expr,
            Expr::Paren(p) => &p.expr,
            Expr::Group(g) => &g.expr,
            Expr::MethodCall(m)
                if m.args.is_empty()
                    && matches!(
                        m.method.to_string().as_str(),
                        "as_str" | "as_ref" | "to_string" | "to_owned" | "into"
                    ) =>
            {
                &m.receiver
            }
            Expr::Call(c)
                if c.args.len() == 1
                    && matches!(&*c.func, Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "AssertSqlSafe")) =>
            {
                &c.args[0]
            }
            _ => return e,
        };
    }
}

impl<'ast> Visit<'ast> for Finder {
    fn visit_local(&mut self, local: &'ast syn::Local) {
        if let (Some(name), Some(init)) = (bound_name(&local.pat), &local.init)
            && let Some(how) = built(&init.expr)
        {
            self.formatted.insert(name.to_string(), how);
        }
        visit::visit_local(self, local);
    }

    fn visit_expr(&mut self, e: &'ast Expr) {
        if let Some((name, how)) = grown(e) {
            self.formatted.entry(name).or_insert(how);
        }
        if let Expr::Macro(m) = e
            && m.mac
                .path
                .segments
                .last()
                .is_some_and(|s| s.ident == "write" || s.ident == "writeln")
            && let Ok(first) = m.mac.parse_body_with(|input: syn::parse::ParseStream<'_>| {
                let first: Expr = input.parse()?;
                let _: proc_macro2::TokenStream = input.parse()?;
                Ok(first)
            })
            && let Expr::Path(p) = peel(&first)
            && let Some(id) = p.path.get_ident()
        {
            self.formatted.entry(id.to_string()).or_insert("`write!`");
        }
        if let Some(first) = query_argument(e) {
            self.check_argument(first);
        }
        visit::visit_expr(self, e);
    }
}

impl Finder {
    /// Records `first`, a query's SQL argument, when it was built from strings.
    fn check_argument(&mut self, first: &Expr) {
        match peel(first) {
            Expr::Macro(m) if is_format(&m.mac) => {
                self.found
                    .push((quote::ToTokens::to_token_stream(&m.mac), None));
            }
            e @ Expr::Binary(b) if matches!(b.op, syn::BinOp::Add(_)) => {
                self.found.push((quote::ToTokens::to_token_stream(e), None));
            }
            Expr::Path(p) => {
                if let Some(id) = p.path.get_ident()
                    && let Some(how) = self.formatted.get(&id.to_string())
                {
                    self.found.push((
                        quote::ToTokens::to_token_stream(id),
                        Some((id.clone(), how)),
                    ));
                }
            }
            _ => {}
        }
    }
}
