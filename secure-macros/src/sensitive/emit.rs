//! The IR -> the item without its field markers, plus `Debug`, `Drop` (wiping the secret
//! fields), and in the whole-type form `ZeroizeOnDrop` (and `Display` for a newtype). Paths
//! are absolute; trait calls carry the field type's span, so a field that cannot be wiped or
//! masked is reported at the field with the trait's `on_unimplemented` note.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, LitStr, Token};

use super::ast::*;
use super::parse::is_marker;

fn private() -> TokenStream {
    quote!(::secure_core::__private)
}

pub(crate) fn container(c: &Container<'_>) -> TokenStream {
    let item = cleaned_item(c.input, Some(c));
    let debug = debug_impl(c);
    let drop = drop_impl(c);
    let display = display_impl(c);
    let not_serialize = not_serialize(c);
    quote! {
        #item

        #[allow(unused_qualifications)]
        const _: () = {
            #debug
            #drop
            #display
            #not_serialize
        };
    }
}

/// The item alone (markers stripped, `Debug` and `Copy` dropped from its derives) and a
/// `Debug` that shows nothing, emitted next to `compile_error!` so one mistake gives one
/// error, not a cascade of "`#[sensitive]` is not an attribute" and "Debug is missing".
pub(crate) fn fallback(input: &DeriveInput) -> TokenStream {
    let p = private();
    let mut item = cleaned_item(input, None);
    strip_derives(&mut item.attrs);
    let ident = &item.ident;
    let name = LitStr::new(&ident.to_string(), ident.span());
    let (impl_g, ty_g, where_g) = item.generics.split_for_impl();
    quote! {
        #item

        const _: () = {
            impl #impl_g #p::Debug for #ident #ty_g #where_g {
                fn fmt(&self, f: &mut #p::Formatter<'_>) -> #p::FmtResult {
                    f.debug_struct(#name).finish_non_exhaustive()
                }
            }
        };
    }
}

fn strip_derives(attrs: &mut [Attribute]) {
    for attr in attrs.iter_mut().filter(|a| a.path().is_ident("derive")) {
        let Ok(paths) = attr.parse_args_with(Punctuated::<syn::Path, Token![,]>::parse_terminated)
        else {
            continue;
        };
        let kept: Punctuated<syn::Path, Token![,]> = paths
            .into_iter()
            .filter(|p| {
                p.segments
                    .last()
                    .is_none_or(|s| s.ident != "Debug" && s.ident != "Copy")
            })
            .collect();
        *attr = syn::parse_quote!(#[derive(#kept)]);
    }
}

/// The user's item without field and variant markers; with `c`, secret fields written by a
/// `derive(Serialize)` get the `serialize_with` that writes their mask.
fn cleaned_item(input: &DeriveInput, c: Option<&Container<'_>>) -> DeriveInput {
    let mut item = input.clone();
    let serialize = c.is_some_and(|c| c.derives.serialize.is_some());
    let shapes: Vec<Option<&Shape<'_>>> = match c.map(|c| &c.body) {
        Some(Body::Struct(s)) => vec![Some(s)],
        Some(Body::Enum(vs)) => vs.iter().map(|v| Some(&v.shape)).collect(),
        None => Vec::new(),
    };
    let mut fields: Vec<&mut syn::Fields> = match &mut item.data {
        Data::Struct(d) => vec![&mut d.fields],
        Data::Enum(d) => d
            .variants
            .iter_mut()
            .map(|v| {
                v.attrs.retain(|a| !is_marker(a));
                &mut v.fields
            })
            .collect(),
        Data::Union(_) => Vec::new(),
    };
    for (i, fs) in fields.iter_mut().enumerate() {
        let shape = shapes.get(i).copied().flatten();
        for (j, f) in fs.iter_mut().enumerate() {
            f.attrs.retain(|a| !is_marker(a));
            let secret = shape
                .and_then(|s| s.fields.get(j))
                .and_then(|f| f.secret.as_ref());
            if let Some(Secret {
                mask: Some(mask),
                serialize_masked: Some(_),
            }) = secret
                && serialize
            {
                let path = LitStr::new(&serialize_path(mask), mask.ident.span());
                f.attrs
                    .push(syn::parse_quote!(#[serde(serialize_with = #path)]));
            }
        }
    }
    item
}

fn serialize_path(mask: &MaskSpec) -> String {
    let base = "::secure_core::__private::serialize_masked";
    match mask.kind {
        MaskKind::Last(n) => format!("{base}::last::<{n}, _, _>"),
        MaskKind::First(n) => format!("{base}::first::<{n}, _, _>"),
        MaskKind::Email => format!("{base}::email::<_, _>"),
    }
}

fn mask_expr(mask: &MaskSpec) -> TokenStream {
    let p = private();
    match mask.kind {
        MaskKind::Last(n) => quote!(#p::Mask::Last(#n)),
        MaskKind::First(n) => quote!(#p::Mask::First(#n)),
        MaskKind::Email => quote!(#p::Mask::Email),
    }
}

/// The pattern `Path { a: __f_a, .. }` binding the fields `used` selects.
fn pattern(path: TokenStream, shape: &Shape<'_>, used: impl Fn(&Field<'_>) -> bool) -> TokenStream {
    let binds = shape.fields.iter().filter(|f| used(f)).map(|f| {
        let m = &f.member;
        let b = &f.binding;
        quote!(#m: #b)
    });
    quote!(#path { #(#binds,)* .. })
}

/// What `Debug` shows for a field: itself, its mask, or `[REDACTED]`.
fn shown(f: &Field<'_>) -> TokenStream {
    let p = private();
    let b = &f.binding;
    match &f.secret {
        None => quote!(#b),
        Some(Secret { mask: None, .. }) => quote!(&#p::Redacted),
        Some(Secret {
            mask: Some(mask), ..
        }) => {
            let m = mask_expr(mask);
            let ty = f.ty;
            quote_spanned! {ty.span()=> &#p::mask_field::<#ty>(#b, #m) }
        }
    }
}

fn shows_value(f: &Field<'_>) -> bool {
    f.secret.as_ref().is_none_or(|s| s.mask.is_some())
}

fn debug_arm(path: TokenStream, name: &str, shape: &Shape<'_>) -> TokenStream {
    let pat = pattern(path, shape, shows_value);
    let lit = LitStr::new(name, Span::call_site());
    let body = match shape.style {
        Style::Unit => quote!(f.write_str(#lit)),
        Style::Named => {
            let fields = shape.fields.iter().map(|f| {
                let n = LitStr::new(&f.name, Span::call_site());
                let v = shown(f);
                quote!(.field(#n, #v))
            });
            quote!(f.debug_struct(#lit) #(#fields)* .finish())
        }
        Style::Tuple => {
            let fields = shape.fields.iter().map(|f| {
                let v = shown(f);
                quote!(.field(#v))
            });
            quote!(f.debug_tuple(#lit) #(#fields)* .finish())
        }
    };
    quote!(#pat => #body,)
}

fn debug_impl(c: &Container<'_>) -> TokenStream {
    let p = private();
    let ident = &c.input.ident;
    let (impl_g, ty_g, where_g) = c.input.generics.split_for_impl();
    let body = match &c.body {
        Body::Struct(shape) => {
            let arm = debug_arm(quote!(Self), &ident.to_string(), shape);
            quote!(match self { #arm })
        }
        Body::Enum(vs) if vs.is_empty() => quote!(match *self {}),
        Body::Enum(vs) => {
            let arms = vs.iter().map(|v| {
                let vi = v.ident;
                debug_arm(quote!(Self::#vi), &vi.to_string(), &v.shape)
            });
            quote!(match self { #(#arms)* })
        }
    };
    quote! {
        #[automatically_derived]
        impl #impl_g #p::Debug for #ident #ty_g #where_g {
            fn fmt(&self, f: &mut #p::Formatter<'_>) -> #p::FmtResult {
                #body
            }
        }
    }
}

fn wipes(shape: &Shape<'_>) -> TokenStream {
    let p = private();
    let calls = shape.fields.iter().filter(|f| f.secret.is_some()).map(|f| {
        let ty = f.ty;
        let b = &f.binding;
        quote_spanned! {ty.span()=> <#ty as #p::WipeOnDrop>::wipe(#b); }
    });
    quote!(#(#calls)*)
}

/// Wipes every secret field. A hand-written `Drop` conflicts with this one (E0119), whose
/// span is the `#[sensitive]` attribute: that is where the compiler points.
fn drop_impl(c: &Container<'_>) -> TokenStream {
    if c.secret_fields().is_empty() {
        return TokenStream::new();
    }
    let p = private();
    let ident = &c.input.ident;
    let (impl_g, ty_g, where_g) = c.input.generics.split_for_impl();
    let secret = |f: &Field<'_>| f.secret.is_some();
    let body = match &c.body {
        Body::Struct(shape) => {
            let pat = pattern(quote!(Self), shape, secret);
            let wipes = wipes(shape);
            quote! {
                let #pat = self;
                #wipes
            }
        }
        Body::Enum(vs) => {
            let arms = vs.iter().map(|v| {
                let vi = v.ident;
                let pat = pattern(quote!(Self::#vi), &v.shape, secret);
                let wipes = wipes(&v.shape);
                quote!(#pat => { #wipes })
            });
            quote!(match self { #(#arms)* })
        }
    };
    // Every field is wiped only in the whole-type form: only then is the marker true.
    let marker = (c.mode == Mode::Whole).then(|| {
        quote! {
            impl #impl_g #p::ZeroizeOnDrop for #ident #ty_g #where_g {}
        }
    });
    quote! {
        impl #impl_g #p::Drop for #ident #ty_g #where_g {
            fn drop(&mut self) {
                #body
            }
        }
        #marker
    }
}

/// `Display` for a whole-type newtype (`ApiKey(String)`), so `%key` logs its redaction.
fn display_impl(c: &Container<'_>) -> TokenStream {
    let Body::Struct(shape) = &c.body else {
        return TokenStream::new();
    };
    let [field] = shape.fields.as_slice() else {
        return TokenStream::new();
    };
    if c.mode != Mode::Whole {
        return TokenStream::new();
    }
    let p = private();
    let ident = &c.input.ident;
    let (impl_g, ty_g, where_g) = c.input.generics.split_for_impl();
    let bind = shows_value(field).then(|| {
        let pat = pattern(quote!(Self), shape, shows_value);
        quote!(let #pat = self;)
    });
    let value = shown(field);
    quote! {
        #[automatically_derived]
        impl #impl_g #p::Display for #ident #ty_g #where_g {
            fn fmt(&self, f: &mut #p::Formatter<'_>) -> #p::FmtResult {
                #bind
                #p::Debug::fmt(#value, f)
            }
        }
    }
}

/// Without a `derive(Serialize)` below `#[sensitive]`, the type must not be `Serialize` at
/// all: a derive written above the attribute ran before it and would write the secrets.
/// (Generic types are left out: the check cannot name them without their parameters.)
fn not_serialize(c: &Container<'_>) -> TokenStream {
    if c.derives.serialize.is_some() || !c.input.generics.params.is_empty() {
        return TokenStream::new();
    }
    let p = private();
    let ident = &c.input.ident;
    quote! {
        #[allow(dead_code)]
        fn __serialized_only_below_sensitive() {
            #[allow(unused_imports)]
            use #p::{ProbeNotSerialize as _, ProbeSerialize as _};
            #p::serialized_only_below_sensitive((&#p::SerializeProbe::<#ident>::new()).probe());
        }
    }
}
