//! `#[derive(Resource)]`: the row type's names and id format as `secure_core::resource::Resource`.
//!
//! ```text
//! #[derive(sqlx::FromRow, Resource)]
//! #[resource(table = "notes", owner = "owner_id", order = "created_at, id", id_pattern = "[A-Za-z0-9_-]{22}")]
//! struct Note { id: String, title: String, created_at: i64 }
//! ```
//!
//! Every name becomes SQL text, so each must be a plain identifier (checked here); the columns
//! are the struct's fields; the order must end with the id column, so pages are stable.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::{Data, DeriveInput, Fields, LitInt, LitStr};

use crate::diag::Ctxt;

struct Declared {
    table: Option<LitStr>,
    owner: Option<LitStr>,
    id: Option<LitStr>,
    order: Option<LitStr>,
    id_pattern: Option<LitStr>,
    path_param: Option<LitStr>,
    page: Option<LitInt>,
    /// `rules`: the app's `Rules` impl decides the scope, not ownership alone.
    rules: bool,
}

const KEYS: &[&str] = &[
    "table",
    "owner",
    "id",
    "order",
    "id_pattern",
    "path_param",
    "page",
    "rules",
];

pub(crate) fn expand(input: &DeriveInput) -> TokenStream {
    let mut cx = Ctxt::new();
    let declared = parse(&mut cx, input);
    let columns = columns(&mut cx, input);
    let out = match (declared, columns) {
        (Some(d), Some(columns)) => check_and_emit(&mut cx, input, &d, &columns),
        _ => None,
    };
    match out {
        Some(tokens) if !cx.has_errors() => tokens,
        _ => cx.into_compile_errors(),
    }
}

fn parse(cx: &mut Ctxt, input: &DeriveInput) -> Option<Declared> {
    let mut d = Declared {
        table: None,
        owner: None,
        id: None,
        order: None,
        id_pattern: None,
        path_param: None,
        page: None,
        rules: false,
    };
    let mut seen = false;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("resource")) {
        seen = true;
        let result = attr.parse_nested_meta(|meta| {
            let key = meta
                .path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            let slot = match key.as_str() {
                "table" => &mut d.table,
                "owner" => &mut d.owner,
                "id" => &mut d.id,
                "order" => &mut d.order,
                "id_pattern" => &mut d.id_pattern,
                "path_param" => &mut d.path_param,
                "rules" => {
                    if d.rules {
                        return Err(meta.error("`rules` is given twice"));
                    }
                    d.rules = true;
                    return Ok(());
                }
                "page" => {
                    if d.page.is_some() {
                        return Err(meta.error("`page` is given twice"));
                    }
                    d.page = Some(meta.value()?.parse()?);
                    return Ok(());
                }
                _ => {
                    return Err(meta.error(crate::diag::unknown_name_message(
                        "resource option",
                        &key,
                        KEYS,
                    )));
                }
            };
            if slot.is_some() {
                return Err(meta.error(format!("`{key}` is given twice")));
            }
            *slot = Some(meta.value()?.parse()?);
            Ok(())
        });
        if let Err(e) = result {
            // Parsing stops at the first mistake: what follows is unread, so say nothing of it.
            cx.syn_error(e);
            return None;
        }
    }
    if !seen {
        cx.error_at(
            input.ident.span(),
            "`#[derive(Resource)]` needs `#[resource(table = \"..\", owner = \"..\", id_pattern = \"..\")]`: the table, the owner column, and the id's format",
        );
        return None;
    }
    Some(d)
}

fn columns(cx: &mut Ctxt, input: &DeriveInput) -> Option<Vec<(String, Span)>> {
    let Data::Struct(data) = &input.data else {
        cx.error_at(
            input.ident.span(),
            "`#[derive(Resource)]` goes on the struct a row is read into",
        );
        return None;
    };
    let Fields::Named(fields) = &data.fields else {
        cx.error_at(
            input.ident.span(),
            "`#[derive(Resource)]` needs named fields: they are the columns read",
        );
        return None;
    };
    Some(
        fields
            .named
            .iter()
            .filter(|f| !skipped(f))
            .filter_map(|f| f.ident.as_ref())
            .map(|i| (i.to_string().trim_start_matches("r#").to_owned(), i.span()))
            .collect(),
    )
}

/// A field `#[sqlx(skip)]` leaves out of the row: not a column read (a column an update sets,
/// such as `updated_at`, that reads need not carry).
fn skipped(field: &syn::Field) -> bool {
    field
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("sqlx"))
        .any(|a| {
            let mut skip = false;
            let _ = a.parse_nested_meta(|meta| {
                if meta.path.is_ident("skip") {
                    skip = true;
                } else if meta.input.peek(syn::Token![=]) {
                    let _: syn::Expr = meta.value()?.parse()?;
                }
                Ok(())
            });
            skip
        })
}

/// The field types a change set takes: what `secure_core::sql::Value` binds. A field of
/// another type gets no method (it can still be read).
fn settable(ty: &syn::Type) -> bool {
    let syn::Type::Path(path) = ty else {
        return false;
    };
    let Some(last) = path.path.segments.last() else {
        return false;
    };
    match last.ident.to_string().as_str() {
        "String" | "i64" | "i32" | "i16" | "u32" | "u16" | "bool" | "f64" => {
            last.arguments.is_empty()
        }
        "Vec" | "Option" => match &last.arguments {
            syn::PathArguments::AngleBracketed(args) => match args.args.first() {
                Some(syn::GenericArgument::Type(inner)) if last.ident == "Vec" => {
                    quote::ToTokens::to_token_stream(inner).to_string() == "u8"
                }
                Some(syn::GenericArgument::Type(inner)) => settable(inner),
                _ => false,
            },
            _ => false,
        },
        _ => false,
    }
}

/// `NoteChanges`: one method per column an update may set (every field but the id and the
/// owner, of a type `Value` binds, `#[sqlx(skip)]` fields included: written, never read),
/// each taking its field's type. A misspelled column is a method that does not exist.
fn change_set(input: &DeriveInput, id_column: &str, owner: &str) -> TokenStream {
    let name = &input.ident;
    let vis = &input.vis;
    let changes = format_ident!("{}Changes", name);
    let Data::Struct(data) = &input.data else {
        return quote!();
    };
    let methods = data.fields.iter().filter_map(|f| {
        let ident = f.ident.as_ref()?;
        let column = ident.to_string().trim_start_matches("r#").to_owned();
        if column == id_column || column == owner || !settable(&f.ty) {
            return None;
        }
        let ty = &f.ty;
        let doc = format!("Sets `{column}`.");
        Some(quote! {
            #[doc = #doc]
            #vis fn #ident(mut self, value: impl ::core::convert::Into<#ty>) -> Self {
                let value: #ty = value.into();
                self.0.set(#column, ::secure_core::sql::Value::from(value));
                self
            }
        })
    });
    let doc = format!(
        "What an update of a `{name}` may set (`Authorized<{name}, Write>::update`): one method per column but the id and the owner."
    );
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, Default, PartialEq)]
        #vis struct #changes(::secure_core::resource::Changes);

        impl #changes {
            /// Nothing set yet.
            #vis fn new() -> Self {
                Self::default()
            }

            #(#methods)*
        }

        impl ::core::convert::From<#changes> for ::secure_core::resource::Changes {
            fn from(changes: #changes) -> Self {
                changes.0
            }
        }
    }
}

/// A plain SQL identifier: nothing else ever becomes part of a statement.
fn identifier(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn check_and_emit(
    cx: &mut Ctxt,
    input: &DeriveInput,
    d: &Declared,
    columns: &[(String, Span)],
) -> Option<TokenStream> {
    let name = &input.ident;
    let span = name.span();
    let required = |cx: &mut Ctxt, lit: &Option<LitStr>, key: &str, what: &str| {
        if lit.is_none() {
            cx.error_at(
                span,
                format!("`#[resource(..)]` needs `{key} = \"..\"`: {what}"),
            );
        }
    };
    required(cx, &d.table, "table", "the table its rows are in");
    required(
        cx,
        &d.owner,
        "owner",
        "the column holding the owner's subject",
    );
    required(
        cx,
        &d.id_pattern,
        "id_pattern",
        "the format of its ids, checked before any query (such as \"[A-Za-z0-9_-]{22}\")",
    );
    let (Some(table), Some(owner), Some(id_pattern)) = (&d.table, &d.owner, &d.id_pattern) else {
        return None;
    };
    for lit in [
        Some(table),
        Some(owner),
        d.id.as_ref(),
        d.path_param.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        if !identifier(&lit.value()) {
            cx.error_spanned_by(
                lit,
                "not a plain SQL identifier: letters, digits and `_`, not starting with a digit",
            );
        }
    }
    for (column, span) in columns {
        if !identifier(column) {
            cx.error_at(*span, "not a plain SQL identifier");
        }
    }
    let id_column = d.id.as_ref().map_or_else(|| "id".to_owned(), LitStr::value);
    if !columns.iter().any(|(c, _)| *c == id_column) {
        cx.error_at(
            span,
            format!("the id column `{id_column}` is not a field: add it, or name the id column with `id = \"..\"`"),
        );
    }
    let order = match &d.order {
        Some(lit) => {
            let terms: Vec<String> = lit
                .value()
                .split(',')
                .map(|t| t.trim().to_owned())
                .collect();
            let well_formed = terms.iter().all(|t| {
                let mut words = t.split_whitespace();
                let column_ok = words.next().is_some_and(identifier);
                let direction_ok = words.next().is_none_or(|w| {
                    w.eq_ignore_ascii_case("asc") || w.eq_ignore_ascii_case("desc")
                });
                column_ok && direction_ok && words.next().is_none()
            });
            if !well_formed {
                cx.error_spanned_by(
                    lit,
                    "an order is columns separated by commas, each with an optional ASC or DESC",
                );
            } else if terms.last().and_then(|t| t.split_whitespace().next())
                != Some(id_column.as_str())
            {
                cx.error_spanned_by(
                    lit,
                    format!("end the order with the id column (`{}, {id_column}`), so rows with equal keys keep their page", lit.value()),
                );
            }
            terms.join(", ")
        }
        None => id_column.clone(),
    };
    crate::validated::check_pattern(cx, id_pattern);
    let page = match &d.page {
        Some(lit) => match lit.base10_parse::<u32>() {
            Ok(n) if (1..=100).contains(&n) => quote!(const PAGE: u32 = #n;),
            _ => {
                cx.error_spanned_by(lit, "a page holds 1 to 100 rows");
                quote!()
            }
        },
        None => quote!(),
    };
    let path_param = d
        .path_param
        .as_ref()
        .map(|p| quote!(const PATH_PARAM: &'static str = #p;));
    let column_list = columns
        .iter()
        .map(|(c, _)| c.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let anchored = LitStr::new(
        &crate::validated::anchored(&id_pattern.value()),
        id_pattern.span(),
    );
    let rules = d.rules.then(|| {
        quote! {
            fn scope(
                caller: &::secure_core::auth::Identity,
                action: ::secure_core::resource::ActionKind,
            ) -> ::secure_core::resource::Scope {
                <Self as ::secure_core::resource::Rules>::scope(caller, action)
            }
        }
    });
    let name_str = name.to_string();
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let p = quote!(::secure_core::__private);
    let owner_column = owner.value();
    let changes = change_set(input, &id_column, &owner_column);
    let changes_name = format_ident!("{}Changes", name);
    Some(quote! {
        #changes

        impl #impl_generics ::secure_core::resource::Resource for #name #ty_generics #where_clause {
            type Changes = #changes_name;
            const NAME: &'static str = #name_str;
            const TABLE: &'static str = #table;
            const ID: &'static str = #id_column;
            const OWNER: &'static str = #owner;
            const COLUMNS: &'static str = #column_list;
            const ORDER: &'static str = #order;
            #path_param
            #page
            #rules

            fn valid_id(id: &str) -> bool {
                static __ID: #p::LazyLock<#p::Regex> =
                    #p::LazyLock::new(|| #p::compile_pattern(#anchored));
                __ID.is_match(id)
            }
        }
    })
}
