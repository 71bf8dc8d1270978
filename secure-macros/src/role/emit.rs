//! The generated `impl ::secure_core::__private::Role` (or `Scope`).

use proc_macro2::TokenStream;
use quote::quote;

use super::Kind;
use super::ast::RoleEnum;

pub(crate) fn container(roles: &RoleEnum<'_>, kind: &Kind) -> TokenStream {
    let ident = roles.ident;
    let trait_ = syn::Ident::new(kind.name, proc_macro2::Span::call_site());
    let variants: Vec<_> = roles.variants.iter().map(|v| v.ident).collect();
    let wires: Vec<_> = roles.variants.iter().map(|v| v.wire.as_str()).collect();
    quote! {
        const _: () = {
            #[automatically_derived]
            impl ::secure_core::__private::#trait_ for #ident {
                const ALL: &'static [Self] = &[#(Self::#variants),*];

                #[inline]
                fn as_str(self) -> &'static str {
                    match self {
                        #(Self::#variants => #wires,)*
                    }
                }

                #[inline]
                fn parse(s: &str) -> ::secure_core::__private::Option<Self> {
                    match s {
                        #(#wires => ::secure_core::__private::Some(Self::#variants),)*
                        _ => ::secure_core::__private::None,
                    }
                }
            }
        };
    }
}

/// Next to the errors: an impl that knows no roles, so uses of the trait do not add errors.
pub(crate) fn fallback(roles: &RoleEnum<'_>, kind: &Kind) -> TokenStream {
    if !roles.generics.params.is_empty() {
        return TokenStream::new();
    }
    let ident = roles.ident;
    let trait_ = syn::Ident::new(kind.name, proc_macro2::Span::call_site());
    quote! {
        const _: () = {
            impl ::secure_core::__private::#trait_ for #ident {
                const ALL: &'static [Self] = &[];
                fn as_str(self) -> &'static str {
                    ""
                }
                fn parse(_: &str) -> ::secure_core::__private::Option<Self> {
                    ::secure_core::__private::None
                }
            }
        };
    }
}
