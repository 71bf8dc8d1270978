//! `#[derive(Filter)]`: a list filter's fields as equalities on the resource's columns.
//!
//! ```text
//! #[derive(Deserialize, Validated, Filter)]
//! #[filter(resource = Note)]
//! struct NoteFilter { title: Option<String>, #[filter(column = "created_at")] day: Option<i64> }
//! ```
//!
//! Each field is an `Option` (absent: not compared); each column is a plain identifier, and
//! a const assertion checks it against the resource's columns, so a misspelled column does
//! not compile.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::{Data, DeriveInput, Fields, LitStr, Type};

use crate::diag::Ctxt;

/// The list's own query parameters: a filter field by either name would never be read.
const RESERVED: &[&str] = &["page", "after"];

pub(crate) fn expand(input: &DeriveInput) -> TokenStream {
    let mut cx = Ctxt::new();
    let out = emit(&mut cx, input);
    match out {
        Some(tokens) if !cx.has_errors() => tokens,
        _ => cx.into_compile_errors(),
    }
}

fn resource(cx: &mut Ctxt, input: &DeriveInput) -> Option<syn::Path> {
    let mut resource = None;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("filter")) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("resource") {
                if resource.is_some() {
                    return Err(meta.error("`resource` is given twice"));
                }
                resource = Some(meta.value()?.parse::<syn::Path>()?);
                Ok(())
            } else {
                let key = meta
                    .path
                    .get_ident()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                Err(meta.error(crate::diag::unknown_name_message(
                    "filter option",
                    &key,
                    &["resource"],
                )))
            }
        });
        if let Err(e) = result {
            cx.syn_error(e);
            return None;
        }
    }
    if resource.is_none() {
        cx.error_at(
            input.ident.span(),
            "`#[derive(Filter)]` needs `#[filter(resource = Type)]`: the resource whose columns it compares",
        );
    }
    resource
}

fn is_option(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Option"),
        _ => false,
    }
}

fn emit(cx: &mut Ctxt, input: &DeriveInput) -> Option<TokenStream> {
    let resource = resource(cx, input)?;
    let Data::Struct(data) = &input.data else {
        cx.error_at(input.ident.span(), "`#[derive(Filter)]` goes on a struct");
        return None;
    };
    let Fields::Named(fields) = &data.fields else {
        cx.error_at(
            input.ident.span(),
            "`#[derive(Filter)]` needs named fields: each is a query parameter",
        );
        return None;
    };
    if fields.named.len() > 64 {
        cx.error_at(input.ident.span(), "a filter has at most 64 fields");
        return None;
    }
    let resource_name = resource
        .segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default();
    let mut columns = Vec::new();
    let mut values = Vec::new();
    let mut checks = Vec::new();
    for field in &fields.named {
        let Some(ident) = &field.ident else { continue };
        let name = ident.to_string();
        let name = name.strip_prefix("r#").unwrap_or(&name).to_owned();
        if RESERVED.contains(&name.as_str()) {
            cx.error_spanned_by(
                ident,
                format!("`{name}` is a parameter of every list (`?page=`, `?after=`): name this field otherwise (`#[filter(column = \"..\")]` names the column it compares)"),
            );
            continue;
        }
        let mut column: Option<LitStr> = None;
        for attr in field.attrs.iter().filter(|a| a.path().is_ident("filter")) {
            let result = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("column") {
                    column = Some(meta.value()?.parse()?);
                    Ok(())
                } else {
                    Err(meta
                        .error("a filter field takes `column = \"..\"` (the column it compares)"))
                }
            });
            if let Err(e) = result {
                cx.syn_error(e);
            }
        }
        let column_name = column.as_ref().map_or_else(|| name.clone(), LitStr::value);
        let plain = column_name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && column_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !plain {
            match &column {
                Some(lit) => cx.error_spanned_by(
                    lit,
                    "not a plain SQL identifier: letters, digits and `_`, not starting with a digit",
                ),
                None => cx.error_spanned_by(ident, "not a plain SQL identifier"),
            }
            continue;
        }
        if !is_option(&field.ty) {
            cx.error_spanned_by(
                &field.ty,
                format!("a filter field is an `Option`: `{name}: Option<..>`, absent when the client does not filter by it"),
            );
            continue;
        }
        let message = format!(
            "`{column_name}` is not a column of `{resource_name}`: a filter compares one of the columns its rows are read from"
        );
        checks.push(quote_spanned! {ident.span()=>
            const _: () = ::std::assert!(
                ::secure_core::resource::has_column(
                    <#resource as ::secure_core::resource::Resource>::COLUMNS,
                    #column_name,
                ),
                #message,
            );
        });
        columns.push(column_name);
        values.push(quote! {
            ::std::option::Option::map(
                ::std::clone::Clone::clone(&self.#ident),
                ::secure_core::sql::Value::from,
            )
        });
    }
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    Some(quote! {
        impl #impl_generics ::secure_core::resource::Filter<#resource> for #name #ty_generics #where_clause {
            const COLUMNS: &'static [&'static str] = &[#(#columns),*];

            fn values(&self) -> ::std::vec::Vec<::std::option::Option<::secure_core::sql::Value>> {
                ::std::vec![#(#values),*]
            }
        }
        #(#checks)*
    })
}
