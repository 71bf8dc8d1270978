//! A small attribute grammar shared by the macros: `name`, `name = value`, `name(args)`,
//! where args may also be bare literals (`one_of("a", "b")`, `range(min = -5)`).

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, Lit, Token};

/// One item of an attribute list.
pub(crate) enum Meta {
    /// `email`
    Flag(Ident),
    /// `pattern = "..."`, `custom = path::to::f`
    NameValue(Ident, Expr),
    /// `length(min = 1)`, `one_of("a")`
    List(Ident, Punctuated<Arg, Token![,]>),
}

/// An argument inside `name(...)`.
pub(crate) enum Arg {
    Meta(Meta),
    Lit(LitArg),
}

/// A literal, possibly negated (`-5`).
#[derive(Clone)]
pub(crate) struct LitArg {
    pub(crate) neg: Option<Token![-]>,
    pub(crate) lit: Lit,
}

impl Meta {
    pub(crate) fn name(&self) -> &Ident {
        match self {
            Meta::Flag(i) | Meta::NameValue(i, _) | Meta::List(i, _) => i,
        }
    }
}

impl Parse for Meta {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let name: Ident = input.call(syn::ext::IdentExt::parse_any)?;
        if input.peek(Token![=]) {
            let _: Token![=] = input.parse()?;
            let value: Expr = input.parse()?;
            Ok(Meta::NameValue(name, value))
        } else if input.peek(syn::token::Paren) {
            let content;
            syn::parenthesized!(content in input);
            let args = Punctuated::parse_terminated(&content)?;
            Ok(Meta::List(name, args))
        } else {
            Ok(Meta::Flag(name))
        }
    }
}

impl Parse for Arg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(Lit) || input.peek(Token![-]) {
            Ok(Arg::Lit(input.parse()?))
        } else {
            Ok(Arg::Meta(input.parse()?))
        }
    }
}

impl Parse for LitArg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let neg = if input.peek(Token![-]) {
            Some(input.parse()?)
        } else {
            None
        };
        Ok(LitArg {
            neg,
            lit: input.parse()?,
        })
    }
}

impl ToTokens for LitArg {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.neg.to_tokens(tokens);
        self.lit.to_tokens(tokens);
    }
}

impl LitArg {
    pub(crate) fn span(&self) -> Span {
        self.lit.span()
    }
}

impl ToTokens for Meta {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            Meta::Flag(i) => i.to_tokens(tokens),
            Meta::NameValue(i, v) => tokens.extend(quote!(#i = #v)),
            Meta::List(i, args) => tokens.extend(quote!(#i(#args))),
        }
    }
}

impl ToTokens for Arg {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            Arg::Meta(m) => m.to_tokens(tokens),
            Arg::Lit(l) => l.to_tokens(tokens),
        }
    }
}

/// Parses the list inside `#[name(...)]`.
pub(crate) fn parse_list(attr: &syn::Attribute) -> syn::Result<Punctuated<Meta, Token![,]>> {
    attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
}

/// Turns an `Expr` that is a (possibly negated) literal into a `LitArg`.
pub(crate) fn expr_lit(expr: &Expr) -> Option<LitArg> {
    match expr {
        Expr::Lit(l) => Some(LitArg {
            neg: None,
            lit: l.lit.clone(),
        }),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => match &*u.expr {
            Expr::Lit(l) => Some(LitArg {
                neg: Some(Token![-](u.op.span_of())),
                lit: l.lit.clone(),
            }),
            _ => None,
        },
        Expr::Group(g) => expr_lit(&g.expr),
        _ => None,
    }
}

trait SpanOf {
    fn span_of(&self) -> Span;
}

impl SpanOf for syn::UnOp {
    fn span_of(&self) -> Span {
        match self {
            syn::UnOp::Neg(t) => t.span,
            _ => Span::call_site(),
        }
    }
}
