//! SQL built from strings: a `format!` passed to sqlx's `query`, `query_as` or `query_scalar`
//! (directly, behind `&`, `.as_str()` or `AssertSqlSafe(..)`, or through a local variable bound
//! to a `format!`) is a compile error (OWASP A03 injection, ASVS 5.3.4).

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

const FIX: &str = "SQL built with `format!` can be injected: write the SQL as a string literal and pass values with `.bind(..)`, such as `sqlx::query(\"SELECT * FROM notes WHERE id = $1\").bind(id)`";

/// Reports every query built from a formatted string in `block`.
pub(crate) fn check(cx: &mut Ctxt, block: &syn::Block) {
    let mut finder = Finder {
        formatted: HashMap::new(),
        found: Vec::new(),
    };
    finder.visit_block(block);
    for (span_of, via) in finder.found {
        match via {
            Some(var) => cx.error_spanned_by(
                &span_of,
                format!(
                    "`{var}` holds SQL built with `format!`, and it reaches a query here. {FIX}"
                ),
            ),
            None => cx.error_spanned_by(&span_of, FIX),
        }
    }
}

struct Finder {
    /// Locals bound to a `format!(..)`.
    formatted: HashMap<String, ()>,
    /// The offending token, and the local it came through.
    found: Vec<(proc_macro2::TokenStream, Option<Ident>)>,
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
        if let (syn::Pat::Ident(pi), Some(init)) = (&local.pat, &local.init)
            && let Expr::Macro(m) = peel(&init.expr)
            && is_format(&m.mac)
        {
            self.formatted.insert(pi.ident.to_string(), ());
        }
        visit::visit_local(self, local);
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        let is_query = matches!(&*call.func, Expr::Path(p)
            if p.path.segments.last().is_some_and(|s| QUERY_FNS.contains(&s.ident.to_string().as_str())));
        if is_query && let Some(first) = call.args.first() {
            match peel(first) {
                Expr::Macro(m) if is_format(&m.mac) => {
                    self.found
                        .push((quote::ToTokens::to_token_stream(&m.mac), None));
                }
                Expr::Path(p) => {
                    if let Some(id) = p.path.get_ident()
                        && self.formatted.contains_key(&id.to_string())
                    {
                        self.found
                            .push((quote::ToTokens::to_token_stream(id), Some(id.clone())));
                    }
                }
                _ => {}
            }
        }
        visit::visit_expr_call(self, call);
    }
}
