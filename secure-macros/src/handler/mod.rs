//! `#[secure_handler(...)]`: parse the attribute, check it against the function, emit the
//! wrapper.

mod ast;
mod check;
mod emit;
mod parse;
mod sql;
mod units;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::diag::Ctxt;

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut cx = Ctxt::new();
    let f = match syn::parse2::<syn::ItemFn>(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            cx.error_at(
                proc_macro2::Span::call_site(),
                "`#[secure_handler]` goes on an `async fn` handler",
            );
            let mut out = cx.into_compile_errors();
            out.extend(item);
            return out;
        }
    };
    let written = parse::attribute(&mut cx, args);
    let checked = check::handler(&mut cx, written, &f);
    match checked {
        Some((policy, params)) if !cx.has_errors() => emit::handler(&policy, &params, &f),
        _ => {
            let mut out = cx.into_compile_errors();
            // A method stays a method (a struct cannot be declared inside an `impl`).
            let is_method = f
                .sig
                .inputs
                .iter()
                .any(|a| matches!(a, syn::FnArg::Receiver(_)));
            out.extend(if is_method { quote!(#f) } else { fallback(&f) });
            out
        }
    }
}

/// A handler that compiles but serves nothing, emitted beside `compile_error!` so that one
/// mistake gives one error (routing it still type-checks). The user's function is kept, so
/// errors in its body are still reported.
fn fallback(f: &syn::ItemFn) -> TokenStream {
    let vis = &f.vis;
    let name = &f.sig.ident;
    let mut inner = f.clone();
    inner.sig.ident = format_ident!("__secure_handler_{}", name);
    inner.vis = syn::Visibility::Inherited;
    let p = quote!(::secure_core::__private);
    let seal = emit::seal(name);
    quote! {
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, Debug)]
        #vis struct #name;
        const _: () = {
            #[allow(dead_code)]
            #inner
            impl<__S: ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync + 'static>
                #p::SecureHandler<__S> for #name
            {
                fn policy(&self) -> #p::RoutePolicy {
                    #p::RoutePolicy::denied(::core::stringify!(#name))
                }

                fn call(
                    self,
                    _: #p::Parts,
                    _: #p::Body,
                    _: __S,
                ) -> impl ::core::future::Future<Output = ::secure_core::__private::axum::response::Response>
                       + ::core::marker::Send {
                    ::core::future::ready(#p::not_built())
                }
            }
            #seal
        };
    }
}

/// Parses and checks; returns the collected errors as `compile_error!`s (empty when clean).
#[cfg(test)]
pub(crate) fn diagnose(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut cx = Ctxt::new();
    match syn::parse2::<syn::ItemFn>(item) {
        Ok(f) => {
            let written = parse::attribute(&mut cx, args);
            let _ = check::handler(&mut cx, written, &f);
        }
        Err(_) => cx.error_at(
            proc_macro2::Span::call_site(),
            "`#[secure_handler]` goes on an `async fn` handler",
        ),
    }
    cx.into_compile_errors()
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::diagnose;

    fn errors(args: TokenStream2, item: TokenStream2) -> String {
        diagnose(args, item).to_string()
    }

    type TokenStream2 = proc_macro2::TokenStream;

    fn assert_clean(args: TokenStream2, item: TokenStream2) {
        let e = errors(args, item);
        assert!(e.is_empty(), "unexpected errors: {e}");
    }

    fn assert_error(args: TokenStream2, item: TokenStream2, needle: &str) {
        let e = errors(args, item);
        assert!(e.contains(needle), "expected {needle:?} in {e}");
    }

    #[test]
    fn accepts_well_formed_handlers() {
        assert_clean(
            quote!(public),
            quote!(
                async fn health() -> &'static str {
                    "ok"
                }
            ),
        );
        assert_clean(
            quote!(
                auth,
                roles(Admin),
                mfa,
                rate_limit("5/min", key = user),
                body_limit = "16KiB",
                audit = "note.delete"
            ),
            quote!(
                async fn delete(p: Principal<AppRole>, Path(id): Path<i64>) {}
            ),
        );
        assert_clean(
            quote!(auth, roles(AppRole::Admin)),
            quote!(
                async fn list() {}
            ),
        );
        assert_clean(
            quote!(
                public,
                unvalidated(body, reason = "HMAC-signed webhook, verified first")
            ),
            quote!(
                async fn hook(headers: HeaderMap, body: Bytes) {}
            ),
        );
        assert_clean(
            quote!(auth),
            quote!(
                async fn get(p: Principal<R>) {
                    sqlx::query("SELECT 1 WHERE id = $1").bind(p.subject());
                }
            ),
        );
    }

    #[test]
    fn access_must_be_declared_and_consistent() {
        assert_error(
            quote!(),
            quote!(
                async fn f() {}
            ),
            "declare who may call this route",
        );
        assert_error(
            quote!(rate_limit("5/min", key = ip)),
            quote!(
                async fn f() {}
            ),
            "declare who may call",
        );
        assert_error(
            quote!(public, roles(Admin)),
            quote!(
                async fn f() {}
            ),
            "`roles` on a `public` route",
        );
        assert_error(
            quote!(public, mfa),
            quote!(
                async fn f() {}
            ),
            "`mfa` on a `public` route",
        );
        assert_error(
            quote!(roles(Admin)),
            quote!(
                async fn f() {}
            ),
            "`roles` needs `auth`",
        );
        assert_error(
            quote!(mfa),
            quote!(
                async fn f() {}
            ),
            "`mfa` needs `auth`",
        );
        assert_error(
            quote!(public, auth),
            quote!(
                async fn f() {}
            ),
            "either `public` or `auth`",
        );
        assert_error(
            quote!(public),
            quote!(
                async fn f(p: Principal<R>) {}
            ),
            "cannot take `Principal`",
        );
        assert_error(
            quote!(auth, roles(Admin)),
            quote!(
                async fn f() {}
            ),
            "needs the handler to take `Principal",
        );
        assert_error(
            quote!(public, rate_limit("5/min", key = user)),
            quote!(
                async fn f() {}
            ),
            "no user to count",
        );
    }

    #[test]
    fn options_are_checked() {
        assert_error(
            quote!(publc),
            quote!(
                async fn f() {}
            ),
            "did you mean `public`",
        );
        assert_error(
            quote!(auth, auth),
            quote!(
                async fn f() {}
            ),
            "duplicate option `auth`",
        );
        assert_error(
            quote!(public, rate_limit("5/fortnight", key = ip)),
            quote!(
                async fn f() {}
            ),
            "unknown unit `fortnight`",
        );
        assert_error(
            quote!(public, rate_limit("5/min")),
            quote!(
                async fn f() {}
            ),
            "needs a key",
        );
        assert_error(
            quote!(public, rate_limit("5/min", key = ipp)),
            quote!(
                async fn f() {}
            ),
            "did you mean `ip`",
        );
        assert_error(
            quote!(public, body_limit = "16 KiBs"),
            quote!(
                async fn f() {}
            ),
            "is not a size",
        );
        assert_error(
            quote!(public, audit = "Note Delete"),
            quote!(
                async fn f() {}
            ),
            "audit event name",
        );
        assert_error(
            quote!(auth, roles()),
            quote!(
                async fn f() {}
            ),
            "`roles()` is empty",
        );
    }

    #[test]
    fn input_must_be_validated_or_declared_raw() {
        assert_error(
            quote!(public),
            quote!(
                async fn f(b: Json<Signup>) {}
            ),
            "take `Valid<Json<T>>`",
        );
        assert_error(
            quote!(public),
            quote!(
                async fn f(q: Query<Search>) {}
            ),
            "take `Valid<Query<T>>`",
        );
        assert_error(
            quote!(public),
            quote!(
                async fn f(b: Form<Login>) {}
            ),
            "take `Valid<Form<T>>`",
        );
        assert_error(
            quote!(public),
            quote!(
                async fn f(body: String) {}
            ),
            "unvalidated(body, reason",
        );
        assert_error(
            quote!(public),
            quote!(
                async fn f(body: Bytes) {}
            ),
            "raw request input",
        );
        assert_error(
            quote!(public),
            quote!(
                async fn f(req: Request) {}
            ),
            "unvalidated(req, reason",
        );
        assert_error(
            quote!(public, unvalidated(body)),
            quote!(
                async fn f(body: Bytes) {}
            ),
            "needs a written reason",
        );
        assert_error(
            quote!(public, unvalidated(body, reason = "x")),
            quote!(
                async fn f(body: Bytes) {}
            ),
            "write a real reason",
        );
        assert_error(
            quote!(public, unvalidated(bdy, reason = "signed webhook body")),
            quote!(
                async fn f(body: Bytes) {}
            ),
            "did you mean `body`",
        );
    }

    #[test]
    fn signature_is_checked() {
        assert_error(
            quote!(public),
            quote!(
                fn f() {}
            ),
            "must be an `async fn`",
        );
        assert_error(
            quote!(public),
            quote!(
                async fn f(&self) {}
            ),
            "not a method",
        );
        assert_error(
            quote!(public),
            quote!(
                async fn f<T>(t: State<T>) {}
            ),
            "cannot be generic",
        );
        assert_error(
            quote!(public),
            quote!(
                struct S;
            ),
            "goes on an `async fn`",
        );
    }

    #[test]
    fn sql_built_with_format_is_refused() {
        let fix = "SQL built from strings can be injected";
        assert_error(
            quote!(public),
            quote!(
                async fn f() {
                    sqlx::query(&format!("SELECT {}", x));
                }
            ),
            fix,
        );
        assert_error(
            quote!(public),
            quote!(
                async fn f() {
                    query_as::<_, Note>(format!("SELECT {x}"));
                }
            ),
            fix,
        );
        assert_error(
            quote!(public),
            quote!(
                async fn f() {
                    sqlx::query_scalar(AssertSqlSafe(format!("x{y}")));
                }
            ),
            fix,
        );
        assert_error(
            quote!(public),
            quote!(
                async fn f() {
                    let sql = format!("SELECT * FROM t WHERE a = '{a}'");
                    sqlx::query(&sql).fetch_all(db).await;
                }
            ),
            "`sql` holds SQL built with `format!`",
        );
        assert_clean(
            quote!(public),
            quote!(
                async fn f() {
                    let msg = format!("hi {x}");
                    sqlx::query("SELECT 1");
                }
            ),
        );
    }
}
