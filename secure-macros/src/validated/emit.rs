//! The IR -> `impl ::secure_core::Validate`. Paths are absolute; trait calls carry the field
//! type's span so a type that does not fit a rule is reported at the field, with the trait's
//! `on_unimplemented` note saying what to do.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Lit, LitInt, LitStr, Type};

use super::ast::*;
use super::types;

/// The pattern as compiled: it must match the whole value.
pub(crate) fn anchored(pattern: &str) -> String {
    format!("\\A(?:{pattern})\\z")
}

fn private() -> TokenStream {
    quote!(::secure_core::__private)
}

pub(crate) fn container(c: &Container<'_>) -> TokenStream {
    let p = private();
    let ident = &c.input.ident;
    let (impl_g, ty_g, where_g) = c.input.generics.split_for_impl();
    let validate = validate_body(c);
    let sanitize = sanitize_body(c);
    let max_body = super::body::max_body(c);
    let allow = c.allow_unknown_fields.then(|| {
        quote! {
            fn allows_unknown_fields() -> bool {
                true
            }
        }
    });
    quote! {
        #[allow(unused_qualifications, clippy::needless_borrow, clippy::manual_range_contains)]
        const _: () = {
            #[automatically_derived]
            impl #impl_g #p::Validate for #ident #ty_g #where_g {
                fn sanitize(&mut self) {
                    #sanitize
                }

                fn validate_into(
                    &self,
                    __path: &#p::FieldPath<'_>,
                    __errors: &mut #p::ValidationErrors,
                ) {
                    let __root: #p::FieldPath<'_> = *__path;
                    #validate
                }

                #allow
                #max_body
            }
        };
    }
}

/// An impl that validates nothing, emitted next to `compile_error!` so one mistake gives one
/// error instead of a cascade of "Validate is not implemented".
pub(crate) fn fallback(input: &syn::DeriveInput) -> TokenStream {
    let p = private();
    let ident = &input.ident;
    let (impl_g, ty_g, where_g) = input.generics.split_for_impl();
    quote! {
        const _: () = {
            impl #impl_g #p::Validate for #ident #ty_g #where_g {
                fn validate_into(&self, _: &#p::FieldPath<'_>, _: &mut #p::ValidationErrors) {}
            }
        };
    }
}

/// `let Self { a: __f_a, .. } = self;` for the fields `used` selects.
fn destructure(
    path: TokenStream,
    shape: &Shape<'_>,
    used: impl Fn(&Field<'_>) -> bool,
) -> (TokenStream, bool) {
    let binds: Vec<TokenStream> = shape
        .fields
        .iter()
        .filter(|f| used(f))
        .map(|f| {
            let m = &f.member;
            let b = &f.binding;
            quote!(#m: #b)
        })
        .collect();
    let any = !binds.is_empty();
    (quote!(#path { #(#binds,)* .. }), any)
}

fn must_match_targets(shape: &Shape<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for f in &shape.fields {
        for r in &f.rules.rules {
            if let RuleKind::MustMatch(other) = &r.kind {
                out.push(other.to_string());
            }
        }
    }
    out
}

fn validate_body(c: &Container<'_>) -> TokenStream {
    let p = private();
    let fields = match &c.body {
        Body::Struct(shape) => {
            let targets = must_match_targets(shape);
            let (pat, any) = destructure(quote!(Self), shape, |f| {
                f.rules.has_rules() || targets.contains(&f.name)
            });
            let root = format_ident!("__root");
            let checks = shape_checks(shape, &root);
            if any {
                quote! {
                    let #pat = self;
                    #checks
                }
            } else {
                quote!()
            }
        }
        Body::Enum(variants) => {
            let arms = variants.iter().map(|v| {
                let vident = v.ident;
                let targets = must_match_targets(&v.shape);
                let (pat, any) = destructure(quote!(Self::#vident), &v.shape, |f| {
                    f.rules.has_rules() || targets.contains(&f.name)
                });
                if !any {
                    return quote!(#pat => {});
                }
                let pv = format_ident!("__pv");
                let seg = apply_seg(&v.seg, &format_ident!("__root"), &pv);
                let checks = shape_checks(&v.shape, &pv);
                quote! {
                    #pat => {
                        #seg
                        #checks
                    }
                }
            });
            quote! {
                match self {
                    #(#arms)*
                }
            }
        }
    };
    let customs = c.customs.iter().map(|custom| {
        let path = &custom.path;
        let code = opt_str(custom.code.as_ref());
        let message = opt_str(custom.message.as_ref());
        // Only the call carries the user's span (so a wrong signature is reported at the
        // path); the generated locals keep call-site hygiene and resolve inside macro_rules.
        let call = quote_spanned! {path.span()=> #path };
        quote! {
            if let #p::Err(__e) = #call(self) {
                __errors.add_custom(&__root, __e, #code, #message);
            }
        }
    });
    quote! {
        #fields
        #(#customs)*
    }
}

fn apply_seg(seg: &Seg, parent: &Ident, new: &Ident) -> TokenStream {
    let p = private();
    match seg {
        Seg::Same => quote!(let #new: #p::FieldPath<'_> = #parent;),
        Seg::Name(name) => quote!(let #new = #parent.field(#name);),
        Seg::Index(i) => quote!(let #new = #parent.index(#i);),
    }
}

fn shape_checks(shape: &Shape<'_>, parent: &Ident) -> TokenStream {
    let wire_names: Vec<(String, String)> = shape
        .fields
        .iter()
        .map(|f| {
            let wire = match &f.seg {
                Seg::Name(n) => n.clone(),
                _ => f.name.clone(),
            };
            (f.name.clone(), wire)
        })
        .collect();
    let bindings: Vec<(String, Ident)> = shape
        .fields
        .iter()
        .map(|f| (f.name.clone(), f.binding.clone()))
        .collect();
    let ctx = Ctx {
        wire_names: &wire_names,
        bindings: &bindings,
    };
    shape
        .fields
        .iter()
        .filter(|f| f.rules.has_rules())
        .map(|f| {
            let path = format_ident!("__p");
            let seg = apply_seg(&f.seg, parent, &path);
            let checks = rules(&ctx, &f.rules, &f.binding, f.ty, &path);
            quote! {
                {
                    #seg
                    #checks
                }
            }
        })
        .collect()
}

struct Ctx<'a> {
    wire_names: &'a [(String, String)],
    bindings: &'a [(String, Ident)],
}

/// Checks `set` against `v` (a `&ty`), recording failures under `path`.
fn rules(ctx: &Ctx<'_>, set: &RuleSet, v: &Ident, ty: &Type, path: &Ident) -> TokenStream {
    let p = private();
    let whole = set
        .rules
        .iter()
        .filter(|r| r.kind.on_whole_field())
        .map(|r| match &r.kind {
            RuleKind::Nested => {
                let validate_into =
                    quote_spanned! {ty.span()=> <#ty as #p::Validate>::validate_into };
                quote!(#validate_into(#v, &#path, __errors);)
            }
            RuleKind::MustMatch(other) => {
                let other_name = other.to_string();
                let other_bind = ctx
                    .bindings
                    .iter()
                    .find(|(n, _)| *n == other_name)
                    .map(|(_, b)| b.clone())
                    .unwrap_or_else(|| other.clone());
                let wire = ctx
                    .wire_names
                    .iter()
                    .find(|(n, _)| *n == other_name)
                    .map(|(_, w)| w.clone())
                    .unwrap_or(other_name);
                let add = add_error(
                    r,
                    path,
                    "must_match",
                    quote!(&[("other", #p::Param::Str(#wire))]),
                );
                quote! {
                    if #v != #other_bind {
                        #add
                    }
                }
            }
            _ => quote!(),
        });
    let whole: TokenStream = whole.collect();
    let value_rules: Vec<&Rule> = set
        .rules
        .iter()
        .filter(|r| !r.kind.on_whole_field())
        .collect();
    let values = if value_rules.is_empty() {
        quote!()
    } else {
        value_checks(ctx, &value_rules, v, ty, path)
    };
    quote! {
        #whole
        #values
    }
}

/// Rules that see the value inside any `Option`s.
fn value_checks(
    ctx: &Ctx<'_>,
    rules_: &[&Rule],
    v: &Ident,
    ty: &Type,
    path: &Ident,
) -> TokenStream {
    if let Some(inner) = types::option_inner(ty) {
        let iv = format_ident!("__v");
        let body = value_checks(ctx, rules_, &iv, inner, path);
        return quote! {
            if let ::core::option::Option::Some(#iv) = #v {
                #body
            }
        };
    }
    let p = private();
    let needs_str = rules_.iter().any(|r| r.kind.needs_str());
    let s = format_ident!("__s");
    let str_binding = needs_str.then(|| {
        quote_spanned! {ty.span()=>
            let #s: &str = <#ty as #p::StrValue>::str_value(#v);
        }
    });
    let checks = rules_.iter().map(|r| one_rule(ctx, r, v, ty, path, &s));
    quote! {
        #str_binding
        #(#checks)*
    }
}

fn one_rule(ctx: &Ctx<'_>, r: &Rule, v: &Ident, ty: &Type, path: &Ident, s: &Ident) -> TokenStream {
    let p = private();
    let rule_fns = quote!(#p::rules);
    match &r.kind {
        RuleKind::Length { min, max, equal } => {
            let n = format_ident!("__n");
            let measure =
                quote_spanned! {ty.span()=> let #n: usize = <#ty as #p::HasLength>::length(#v); };
            count_rule(
                r,
                path,
                &n,
                measure,
                &[
                    ("min", min, ">="),
                    ("max", max, "<="),
                    ("equal", equal, "=="),
                ],
                "length",
            )
        }
        RuleKind::Bytes { min, max } => {
            let n = format_ident!("__n");
            let measure =
                quote_spanned! {ty.span()=> let #n: usize = <#ty as #p::HasBytes>::byte_len(#v); };
            count_rule(
                r,
                path,
                &n,
                measure,
                &[("min", min, ">="), ("max", max, "<=")],
                "bytes",
            )
        }
        RuleKind::Range {
            min,
            max,
            exclusive_min,
            exclusive_max,
        } => {
            let prim = types::primitive_name(ty);
            let mut conds = Vec::new();
            let mut params = Vec::new();
            for (name, bound, op) in [
                ("min", min, quote!(>=)),
                ("max", max, quote!(<=)),
                ("exclusive_min", exclusive_min, quote!(>)),
                ("exclusive_max", exclusive_max, quote!(<)),
            ] {
                if let Some(n) = bound {
                    let lit = typed_literal(n, prim.as_deref());
                    conds.push(quote!((*#v #op #lit)));
                    params.push(param(name, n));
                }
            }
            let add = add_error(r, path, "range", quote!(&[#(#params),*]));
            quote! {
                let __ok: bool = #(#conds)&&*;
                if !__ok {
                    #add
                }
            }
        }
        RuleKind::StrCheck(check) => {
            let name = check.name();
            let f = Ident::new(name, r.ident.span());
            let add = add_error(r, path, name, quote!(&[]));
            quote! {
                if !#rule_fns::#f(#s) {
                    #add
                }
            }
        }
        RuleKind::Url { schemes, public } => {
            let scheme_list = if schemes.is_empty() {
                quote!(#p::UrlPolicy::DEFAULT.schemes)
            } else {
                quote!(&[#(#schemes),*])
            };
            let scheme_params: Vec<TokenStream> = if schemes.is_empty() {
                vec![
                    quote!(#p::Param::Str("http")),
                    quote!(#p::Param::Str("https")),
                ]
            } else {
                schemes.iter().map(|s| quote!(#p::Param::Str(#s))).collect()
            };
            let mut params = vec![quote!(("schemes", #p::Param::List(&[#(#scheme_params),*])))];
            if *public {
                params.push(quote!(("public", #p::Param::Bool(true))));
            }
            let add = add_error(r, path, "url", quote!(&[#(#params),*]));
            quote! {
                static __POLICY: #p::UrlPolicy = #p::UrlPolicy { schemes: #scheme_list, public: #public };
                if !#rule_fns::url(#s, &__POLICY) {
                    #add
                }
            }
        }
        RuleKind::Pattern(lit) => {
            let anchored = LitStr::new(&anchored(&lit.value()), lit.span());
            let add = add_error(r, path, "pattern", quote!(&[]));
            quote! {
                {
                    static __PATTERN: #p::LazyLock<#p::Regex> =
                        #p::LazyLock::new(|| #p::compile_pattern(#anchored));
                    if !__PATTERN.is_match(#s) {
                        #add
                    }
                }
            }
        }
        RuleKind::OneOf(values) | RuleKind::NoneOf(values) => {
            let one_of = matches!(r.kind, RuleKind::OneOf(_));
            let code = if one_of { "one_of" } else { "none_of" };
            let is_str = r.kind.needs_str();
            let subject = if is_str { quote!(#s) } else { quote!(*#v) };
            let pats = values.iter();
            let params = values.iter().map(|l| match &l.lit {
                Lit::Str(s) => quote!(#p::Param::Str(#s)),
                _ => {
                    let neg = &l.neg;
                    let lit = &l.lit;
                    quote!(#p::Param::Int(#neg #lit))
                }
            });
            let key = if one_of { "allowed" } else { "forbidden" };
            let add = add_error(
                r,
                path,
                code,
                quote!(&[(#key, #p::Param::List(&[#(#params),*]))]),
            );
            let test = if one_of {
                quote!(!::core::matches!(#subject, #(#pats)|*))
            } else {
                quote!(::core::matches!(#subject, #(#pats)|*))
            };
            quote! {
                if #test {
                    #add
                }
            }
        }
        RuleKind::Contains(lit) | RuleKind::DoesNotContain(lit) => {
            let contains = matches!(r.kind, RuleKind::Contains(_));
            let code = if contains {
                "contains"
            } else {
                "does_not_contain"
            };
            let add = add_error(r, path, code, quote!(&[("value", #p::Param::Str(#lit))]));
            let test = if contains {
                quote!(!#s.contains(#lit))
            } else {
                quote!(#s.contains(#lit))
            };
            quote! {
                if #test {
                    #add
                }
            }
        }
        RuleKind::Custom(fpath) => {
            let code = opt_str(r.code.as_ref());
            let message = opt_str(r.message.as_ref());
            let call = quote_spanned! {fpath.span()=> #fpath };
            quote! {
                if let #p::Err(__e) = #call(#v) {
                    __errors.add_custom(&#path, __e, #code, #message);
                }
            }
        }
        RuleKind::Each(inner) => {
            let elem: Type = match types::element_type(ty) {
                Some(t) => t.clone(),
                None => syn::parse_quote_spanned!(ty.span()=> <#ty as #p::Elements>::Item),
            };
            let e = format_ident!("__e");
            let pi = format_ident!("__pi");
            let body = rules(ctx, inner, &e, &elem, &pi);
            let elements = quote_spanned! {ty.span()=> <#ty as #p::Elements>::elements };
            quote! {
                for (__i, #e) in #elements(#v).enumerate() {
                    let #pi = #path.index(__i);
                    #body
                }
            }
        }
        RuleKind::Nested | RuleKind::MustMatch(_) => quote!(),
    }
}

fn count_rule(
    r: &Rule,
    path: &Ident,
    n: &Ident,
    measure: TokenStream,
    bounds: &[(&str, &Option<Num>, &str)],
    code: &str,
) -> TokenStream {
    let mut conds = Vec::new();
    let mut params = Vec::new();
    for (name, bound, op) in bounds {
        if let Some(b) = bound {
            let value = b.value as u64;
            let lit = LitInt::new(&format!("{value}usize"), b.lit.span());
            let op: TokenStream = op.parse().unwrap_or_default();
            conds.push(quote!((#n #op #lit)));
            let p = private();
            params.push(quote!((#name, #p::Param::UInt(#value))));
        }
    }
    let add = add_error(r, path, code, quote!(&[#(#params),*]));
    quote! {
        {
            #measure
            let __ok: bool = #(#conds)&&*;
            if !__ok {
                #add
            }
        }
    }
}

fn typed_literal(n: &Num, prim: Option<&str>) -> TokenStream {
    let neg = &n.lit.neg;
    match (&n.lit.lit, prim) {
        (Lit::Int(i), Some(prim)) => {
            let lit = LitInt::new(&format!("{}{prim}", i.base10_digits()), i.span());
            quote!(#neg #lit)
        }
        (Lit::Float(f), Some(prim @ ("f32" | "f64"))) => {
            let lit = syn::LitFloat::new(&format!("{}{prim}", f.base10_digits()), f.span());
            quote!(#neg #lit)
        }
        _ => {
            let lit = &n.lit;
            quote!(#lit)
        }
    }
}

fn param(name: &str, n: &Num) -> TokenStream {
    let p = private();
    let neg = &n.lit.neg;
    match &n.lit.lit {
        Lit::Float(f) => {
            let lit = syn::LitFloat::new(&format!("{}f64", f.base10_digits()), f.span());
            quote!((#name, #p::Param::Float(#neg #lit)))
        }
        Lit::Int(i) if n.lit.neg.is_some() => {
            let lit = LitInt::new(&format!("{}i64", i.base10_digits()), i.span());
            quote!((#name, #p::Param::Int(#neg #lit)))
        }
        Lit::Int(i) => {
            let lit = LitInt::new(&format!("{}u64", i.base10_digits()), i.span());
            quote!((#name, #p::Param::UInt(#lit)))
        }
        _ => quote!(),
    }
}

fn opt_str(s: Option<&LitStr>) -> TokenStream {
    match s {
        Some(s) => quote!(::core::option::Option::Some(#s)),
        None => quote!(::core::option::Option::None),
    }
}

fn add_error(r: &Rule, path: &Ident, default_code: &str, params: TokenStream) -> TokenStream {
    let code = r
        .code
        .clone()
        .unwrap_or_else(|| LitStr::new(default_code, Span::call_site()));
    let message = opt_str(r.message.as_ref());
    quote! {
        __errors.add(&#path, #code, #message, #params);
    }
}

fn sanitize_body(c: &Container<'_>) -> TokenStream {
    let shape_code = |shape: &Shape<'_>, path: TokenStream| -> Option<TokenStream> {
        let (pat, any) = destructure(path, shape, |f| f.rules.has_sanitizers());
        if !any {
            return None;
        }
        let steps = shape
            .fields
            .iter()
            .filter(|f| f.rules.has_sanitizers())
            .map(|f| sanitize_set(&f.rules, &f.binding, f.ty));
        Some(quote! {
            #pat => {
                #(#steps)*
            }
        })
    };
    match &c.body {
        Body::Struct(shape) => match shape_code(shape, quote!(Self)) {
            Some(arm) => quote! {
                match self {
                    #arm
                }
            },
            None => quote!(),
        },
        Body::Enum(variants) => {
            if !variants
                .iter()
                .any(|v| v.shape.fields.iter().any(|f| f.rules.has_sanitizers()))
            {
                return quote!();
            }
            let arms = variants.iter().map(|v| {
                let vident = v.ident;
                shape_code(&v.shape, quote!(Self::#vident))
                    .unwrap_or_else(|| quote!(Self::#vident { .. } => {}))
            });
            quote! {
                match self {
                    #(#arms)*
                }
            }
        }
    }
}

/// Sanitisation of `v` (a `&mut ty`).
fn sanitize_set(set: &RuleSet, v: &Ident, ty: &Type) -> TokenStream {
    let p = private();
    let own = (!set.sanitizers.is_empty()).then(|| {
        let has = |k| set.sanitizers.iter().any(|s| s.kind == k);
        let (trim, lower, upper, strip) = (
            has(SanitizerKind::Trim),
            has(SanitizerKind::Lowercase),
            has(SanitizerKind::Uppercase),
            has(SanitizerKind::StripControl),
        );
        let norm = if has(SanitizerKind::Nfkc) {
            quote!(::core::option::Option::Some(#p::Normalization::Nfkc))
        } else if has(SanitizerKind::Nfc) {
            quote!(::core::option::Option::Some(#p::Normalization::Nfc))
        } else {
            quote!(::core::option::Option::None)
        };
        quote_spanned! {ty.span()=>
            <#ty as #p::Sanitize>::sanitize_with(#v, #p::Sanitizers {
                trim: #trim,
                lowercase: #lower,
                uppercase: #upper,
                normalization: #norm,
                strip_control: #strip,
            });
        }
    });
    let nested = set.rules.iter().map(|r| match &r.kind {
        RuleKind::Nested => quote_spanned! {ty.span()=> <#ty as #p::Validate>::sanitize(#v); },
        RuleKind::Each(inner) if inner.has_sanitizers() => sanitize_each(inner, v, ty),
        _ => quote!(),
    });
    quote! {
        #own
        #(#nested)*
    }
}

fn sanitize_each(inner: &RuleSet, v: &Ident, ty: &Type) -> TokenStream {
    if let Some(opt) = types::option_inner(ty) {
        let iv = format_ident!("__v");
        let body = sanitize_each(inner, &iv, opt);
        return quote! {
            if let ::core::option::Option::Some(#iv) = #v {
                #body
            }
        };
    }
    let p = private();
    let elem: Type = match types::element_type(ty) {
        Some(t) => t.clone(),
        None => syn::parse_quote_spanned!(ty.span()=> <#ty as #p::Elements>::Item),
    };
    let e = format_ident!("__e");
    let body = sanitize_set(inner, &e, &elem);
    let elements = quote_spanned! {ty.span()=> <#ty as #p::ElementsMut>::elements_mut(#v) };
    quote! {
        for #e in #elements {
            #body
        }
    }
}
