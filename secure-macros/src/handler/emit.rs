//! The wrapper: a unit struct with the handler's name that implements `SecureHandler`: the
//! policy value and a thin adapter that extracts the arguments and runs the function. The
//! per-request path (authenticate, authorise, rate-limit, audit) is secure-core's, ordinary
//! code reading that policy (`policy::pipeline`). The user's function is kept, renamed, inside
//! a `const _` block. axum's `Handler` is implemented only under a bound nothing meets, so
//! the type cannot be routed outside `SecureRouter`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemFn, Type};

use super::ast::*;
use super::check::{Param, ParamKind};

fn private() -> TokenStream {
    quote!(::secure_core::__private)
}

/// The role type named by `Principal<R>` among the parameters.
fn principal_role(params: &[Param<'_>]) -> Option<Type> {
    params
        .iter()
        .find(|p| p.kind == ParamKind::Principal)
        .and_then(|p| {
            let Type::Path(tp) = p.ty else { return None };
            let seg = tp.path.segments.last()?;
            let syn::PathArguments::AngleBracketed(args) = &seg.arguments else {
                return None;
            };
            args.args.iter().find_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(t.clone()),
                _ => None,
            })
        })
}

/// The role type from `roles(AppRole::Admin)`: the path without its last segment.
fn role_from_paths(roles: &[syn::Path]) -> Option<syn::Path> {
    let first = roles.iter().find(|r| r.segments.len() > 1)?;
    let mut ty = first.clone();
    ty.segments.pop();
    let last = ty.segments.pop()?.into_value();
    ty.segments.push(last);
    Some(ty)
}

/// Whether the last parameter reads the body (`FromRequest`) rather than only the head.
fn reads_body(ty: &Type) -> bool {
    let Type::Path(tp) = ty else { return false };
    let Some(seg) = tp.path.segments.last() else {
        return false;
    };
    match seg.ident.to_string().as_str() {
        "Json" | "Form" | "String" | "Bytes" | "Request" | "Body" | "RawForm" | "Multipart" => true,
        "Valid" => {
            let syn::PathArguments::AngleBracketed(args) = &seg.arguments else {
                return false;
            };
            args.args
                .iter()
                .any(|a| matches!(a, syn::GenericArgument::Type(t) if reads_body(t)))
        }
        _ => false,
    }
}

/// `T` of a parameter written `Valid<W<T>>`.
fn validated_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(tp) = ty else { return None };
    let seg = tp.path.segments.last()?;
    if seg.ident != "Valid" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &seg.arguments else {
        return None;
    };
    let wrapper = args.args.iter().find_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    })?;
    let Type::Path(wp) = wrapper else { return None };
    let wseg = wp.path.segments.last()?;
    let syn::PathArguments::AngleBracketed(wargs) = &wseg.arguments else {
        return None;
    };
    wargs.args.iter().find_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

pub(crate) fn handler(policy: &Policy, params: &[Param<'_>], f: &ItemFn) -> TokenStream {
    let p = private();
    let vis = &f.vis;
    let name = &f.sig.ident;
    let name_str = name.to_string();
    let inner = format_ident!("__secure_handler_{}", name);
    let mut inner_fn = f.clone();
    inner_fn.sig.ident = inner.clone();
    inner_fn.vis = syn::Visibility::Inherited;
    inner_fn.attrs.retain(|a| !a.path().is_ident("doc"));
    let docs: Vec<&syn::Attribute> = f
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .collect();

    // The role type: from `Principal<R>`, else from `roles(AppRole::Admin)`.
    let role_ty: Option<TokenStream> =
        principal_role(params)
            .map(|t| quote!(#t))
            .or_else(|| match &policy.access {
                Access::Auth { roles, .. } => role_from_paths(roles).map(|t| quote!(#t)),
                Access::Public => None,
            });

    // Extractors, in order, the body reader last. `Principal<R>` is one too: it reads the
    // caller the stack authenticated and put in the request.
    let last_index = params.len().saturating_sub(1);
    let mut bindings = Vec::new();
    let mut extract = Vec::new();
    let mut bounds = Vec::new();
    for (i, param) in params.iter().enumerate() {
        let ty = param.ty;
        let var = format_ident!("__arg{}", i);
        bindings.push(quote!(#var));
        if i == last_index && reads_body(ty) {
            bounds.push(quote_spanned!(ty.span()=> #ty: ::secure_core::__private::axum::extract::FromRequest<__S>));
            extract.push(quote! {
                let __request = ::secure_core::__private::axum::http::Request::from_parts(__parts, __body);
                let #var = match <#ty as ::secure_core::__private::axum::extract::FromRequest<__S>>::from_request(__request, &__state).await {
                    ::core::result::Result::Ok(__v) => __v,
                    ::core::result::Result::Err(__rejection) => {
                        return ::secure_core::__private::axum::response::IntoResponse::into_response(__rejection);
                    }
                };
            });
        } else {
            bounds.push(quote_spanned!(ty.span()=> #ty: ::secure_core::__private::axum::extract::FromRequestParts<__S>));
            extract.push(quote! {
                let #var = match <#ty as ::secure_core::__private::axum::extract::FromRequestParts<__S>>::from_request_parts(&mut __parts, &__state).await {
                    ::core::result::Result::Ok(__v) => __v,
                    ::core::result::Result::Err(__rejection) => {
                        return ::secure_core::__private::axum::response::IntoResponse::into_response(__rejection);
                    }
                };
            });
        }
    }
    let body_unused = if params.last().is_some_and(|l| reads_body(l.ty)) {
        quote!()
    } else {
        quote!(let _ = (__parts, __body);)
    };

    // The extractor bounds above only bite when the handler is routed; a `Valid<Json<T>>`
    // whose `T` has no rules is reported here, at `T`, when the handler is defined.
    // The body's type is checked by its body-limit constant, which reads its `Validate`.
    let body_ty = validated_body(params);
    let validate_checks = params
        .iter()
        .filter_map(|p| validated_inner(p.ty))
        .filter(|t| body_ty.is_none_or(|b| !std::ptr::eq(*t, b)))
        .map(|t| {
            quote_spanned! {t.span()=>
                const _: fn() = || {
                    fn __requires_validate<__T: #p::Validate>() {}
                    __requires_validate::<#t>();
                };
            }
        });
    // Every input but `Principal` and declared raw input must be one the framework checks:
    // an allowlist by type (aliases and `Result<Query<T>, _>` included), reported at the
    // parameter. Reading each one's `SecureInput::OBJECT` into the policy is that check.
    let pp = private();
    let objects = params
        .iter()
        .filter(|p| p.kind == ParamKind::Extractor && !p.declared_raw)
        .map(|p| {
            let ty = p.ty;
            quote_spanned!(ty.span()=> <#ty as #pp::SecureInput>::OBJECT)
        })
        .collect::<Vec<_>>();
    // A public route has no caller to check objects against: refused at the parameter.
    let public_objects = params
        .iter()
        .filter(|p| {
            matches!(policy.access, Access::Public)
                && p.kind == ParamKind::Extractor
                && !p.declared_raw
        })
        .map(|p| {
            let ty = p.ty;
            quote_spanned! {ty.span()=>
                const _: () = ::core::assert!(
                    <#ty as #pp::SecureInput>::OBJECT.is_none(),
                    "a `public` route cannot load objects through `Authorized<..>`: an object check needs a caller, so declare it `#[secure_handler(auth, ..)]`"
                );
            }
        })
        .collect::<Vec<_>>();
    let statements = super::sql::statements(&f.block);
    let body_limit = body_limit(policy, params);
    let policy_value = policy_tokens(policy, &name_str, role_ty.as_ref(), &objects, &statements);
    let call_args = bindings.iter();
    let asyncness_ok = f.sig.asyncness.is_some();
    let call = if asyncness_ok {
        quote!(#inner(#(#call_args),*).await)
    } else {
        quote!(#inner(#(#call_args),*))
    };
    // A return type that is not a response is reported at the return type.
    let ret_span = match &f.sig.output {
        syn::ReturnType::Type(_, ty) => ty.span(),
        syn::ReturnType::Default => f.sig.ident.span(),
    };
    let into_response = quote_spanned!(ret_span=> ::secure_core::__private::axum::response::IntoResponse::into_response);
    let seal = seal(name);
    quote! {
        #(#docs)*
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, Debug)]
        #vis struct #name;

        const _: () = {
            #inner_fn
            #(#validate_checks)*
            #(#public_objects)*
            #body_limit

            impl<__S> #p::SecureHandler<__S> for #name
            where
                __S: ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync + 'static,
                #(#bounds,)*
            {
                fn policy(&self) -> #p::RoutePolicy {
                    #policy_value
                }

                fn call(
                    self,
                    __parts: #p::Parts,
                    __body: #p::Body,
                    __state: __S,
                ) -> impl ::core::future::Future<Output = ::secure_core::__private::axum::response::Response>
                       + ::core::marker::Send {
                    async move {
                        #[allow(unused_mut)]
                        let mut __parts = __parts;
                        #(#extract)*
                        #body_unused
                        #into_response(#call)
                    }
                }
            }

            #seal
        };
    }
}

/// `T` of a last parameter `Valid<Json<T>>` or `Valid<Form<T>>`: the validated body.
fn validated_body<'p>(params: &[Param<'p>]) -> Option<&'p Type> {
    params
        .last()
        .filter(|l| l.kind == ParamKind::Extractor && !l.declared_raw && reads_body(l.ty))
        .and_then(|l| validated_inner(l.ty))
}

/// `const __BODY_LIMIT: Option<u64>`: the declared `body_limit`, or, for a `Valid<Json<T>>` or
/// `Valid<Form<T>>` body, the largest body `T`'s rules accept. A declared limit below that is
/// a compile error, reported at the limit (or at `T` when `T` alone is too large).
fn body_limit(policy: &Policy, params: &[Param<'_>]) -> TokenStream {
    let body = validated_body(params);
    // Every token of the check carries one span, so the compiler reports it there.
    let span = match (&policy.body_limit, body) {
        (Some(limit), _) => limit.span,
        (None, Some(ty)) => ty.span(),
        (None, None) => proc_macro2::Span::call_site(),
    };
    let declared = match &policy.body_limit {
        Some(b) => {
            let bytes = b.bytes;
            quote_spanned!(span=> ::core::option::Option::Some(#bytes))
        }
        None => quote_spanned!(span=> ::core::option::Option::None),
    };
    let Some(ty) = body else {
        return quote!(const __BODY_LIMIT: ::core::option::Option<u64> = #declared;);
    };
    let name = syn::LitStr::new(&quote!(#ty).to_string().replace(' ', ""), span);
    quote! {
        type __Body = #ty;
    }
    .into_iter()
    .chain(quote_spanned! {span=>
        const __BODY_LIMIT: ::core::option::Option<u64> = ::secure_core::__private::body::limit(
            #name,
            #declared,
            <__Body as ::secure_core::__private::Validate>::MAX_BODY,
        );
    })
    .collect()
}

/// axum's `Handler` for the type, under a bound nothing meets: `axum::routing::get(handler)`
/// is then a compile error that names `SecureRouter`, instead of a handler served without the
/// stack.
pub(crate) fn seal(name: &syn::Ident) -> TokenStream {
    let p = private();
    quote! {
        impl<__S> ::secure_core::__private::axum::handler::Handler<#p::SecureHandlerMarker, __S> for #name
        where
            __S: #p::RoutedBySecureRouter<#name>
                + ::core::clone::Clone
                + ::core::marker::Send
                + ::core::marker::Sync
                + 'static,
        {
            type Future = ::core::future::Ready<::secure_core::__private::axum::response::Response>;
            fn call(self, _: ::secure_core::__private::axum::extract::Request, _: __S) -> Self::Future {
                ::core::future::ready(#p::not_built())
            }
        }
    }
}

fn policy_tokens(
    policy: &Policy,
    name: &str,
    role_ty: Option<&TokenStream>,
    objects: &[TokenStream],
    statements: &[TokenStream],
) -> TokenStream {
    let p = private();
    let access = match (&policy.access, role_ty) {
        (Access::Public, _) => quote!(#p::Access::Public),
        (
            Access::Auth {
                roles,
                scopes,
                mfa,
                fresh,
            },
            r,
        ) => {
            let names = roles.iter().map(|role| match (role.segments.len(), r) {
                (1, Some(r)) => quote!(#p::Role::as_str(<#r>::#role)),
                _ => quote!(#p::Role::as_str(#role)),
            });
            // `Scope::as_str` of each path: only a variant of a `#[derive(Scope)]` enum compiles.
            let scopes = scopes.iter().map(|scope| quote!(#p::Scope::as_str(#scope)));
            let fresh = match fresh {
                Some(secs) => quote!(::core::option::Option::Some(#secs)),
                None => quote!(::core::option::Option::None),
            };
            quote!(#p::Access::Auth {
                roles: ::std::vec![#(#names),*],
                scopes: ::std::vec![#(#scopes),*],
                mfa: #mfa,
                fresh: #fresh,
            })
        }
    };
    let rate = match &policy.rate_limit {
        Some(r) => {
            let (count, period) = (r.count, r.period_secs);
            let key = match r.key {
                RateKey::Ip => quote!(#p::RateKey::Ip),
                RateKey::User => quote!(#p::RateKey::User),
                RateKey::Global => quote!(#p::RateKey::Global),
            };
            quote!(::core::option::Option::Some(#p::RateLimit { rate: #p::Rate { count: #count, period_secs: #period }, key: #key }))
        }
        None => quote!(::core::option::Option::None),
    };
    // The const the handler's block defines: the declared limit, or the body type's bound.
    let body = quote!(__BODY_LIMIT);
    let audit = match &policy.audit {
        Some(a) => quote!(::core::option::Option::Some(#a)),
        None => quote!(::core::option::Option::None),
    };
    let unvalidated = policy.unvalidated.iter().map(|u| {
        let param = u.param.to_string();
        let reason = &u.reason;
        quote!(#p::Unvalidated { param: #param, reason: #reason })
    });
    let reads: Vec<TokenStream> = policy
        .reads
        .iter()
        .flat_map(|r| r.tables.iter().map(move |t| (t.to_string(), &r.reason)))
        .map(|(table, reason)| quote!(#p::DeclaredRead { table: #table, reason: #reason }))
        .collect();
    quote! {
        #p::RoutePolicy {
            handler: #name,
            access: #access,
            rate_limit: #rate,
            body_limit: #body,
            audit: #audit,
            unvalidated: ::std::vec![#(#unvalidated),*],
            reads: ::std::vec![#(#reads),*],
            objects: {
                let __objects: ::std::vec::Vec<::core::option::Option<#p::ObjectAccess>> =
                    ::std::vec![#(#objects),*];
                __objects.into_iter().flatten().collect()
            },
            sql: ::std::vec![#(#statements),*],
        }
    }
}
