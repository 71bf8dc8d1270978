//! The plain intermediate form of a `#[sensitive]` item: parse fills it, check reads it,
//! emit turns it into code. It borrows from syn and keeps the tokens the user wrote, so
//! errors point at them.

use proc_macro2::Span;
use syn::{DeriveInput, Ident, Member, Path, Type};

pub(crate) struct Container<'a> {
    pub(crate) input: &'a DeriveInput,
    /// Whole: no field is marked, so every field is secret. Marked: only marked fields are.
    pub(crate) mode: Mode,
    pub(crate) derives: Derives,
    pub(crate) body: Body<'a>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Whole,
    Marked,
}

/// What the `#[derive(...)]` lists below `#[sensitive]` ask for, by the token written.
#[derive(Default)]
pub(crate) struct Derives {
    pub(crate) debug: Option<Path>,
    pub(crate) copy: Option<Path>,
    pub(crate) serialize: Option<Path>,
    pub(crate) deserialize: bool,
}

pub(crate) enum Body<'a> {
    Struct(Shape<'a>),
    Enum(Vec<Variant<'a>>),
}

pub(crate) struct Variant<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) shape: Shape<'a>,
    /// `#[serde(skip)]` / `#[serde(skip_serializing)]` on the variant.
    pub(crate) serde_skip: bool,
}

pub(crate) struct Shape<'a> {
    pub(crate) style: Style,
    pub(crate) fields: Vec<Field<'a>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Named,
    Tuple,
    Unit,
}

pub(crate) struct Field<'a> {
    pub(crate) member: Member,
    /// The local the generated code binds this field to.
    pub(crate) binding: Ident,
    pub(crate) ty: &'a Type,
    /// The field's name in `Debug` and messages (`password`, `0`).
    pub(crate) name: String,
    /// `Some` when the field is secret.
    pub(crate) secret: Option<Secret>,
    /// `#[serde(skip)]` / `#[serde(skip_serializing)]` on the field (or its variant).
    pub(crate) serde_skip: bool,
    /// A `#[serde(serialize_with | with = ..)]` the user wrote, by its name token.
    pub(crate) serde_custom: Option<Ident>,
}

/// How a secret field is shown and written.
#[derive(Clone, Default)]
pub(crate) struct Secret {
    pub(crate) mask: Option<MaskSpec>,
    /// The `serialize` token of `serialize = masked`.
    pub(crate) serialize_masked: Option<Ident>,
}

#[derive(Clone)]
pub(crate) struct MaskSpec {
    pub(crate) kind: MaskKind,
    /// The mask's name as written (`last`): errors point here.
    pub(crate) ident: Ident,
}

#[derive(Clone, Copy)]
pub(crate) enum MaskKind {
    Last(usize),
    First(usize),
    Email,
}

/// Options of one `#[sensitive(...)]`, on the type, a variant or a field.
#[derive(Clone, Default)]
pub(crate) struct Options {
    pub(crate) mask: Option<MaskSpec>,
    pub(crate) serialize_masked: Option<Ident>,
    /// Where the attribute was written, for errors about it as a whole.
    pub(crate) span: Option<Span>,
}

impl Options {
    /// `self` with what it leaves open taken from `outer`.
    pub(crate) fn or(&self, outer: &Options) -> Secret {
        Secret {
            mask: self.mask.clone().or_else(|| outer.mask.clone()),
            serialize_masked: self
                .serialize_masked
                .clone()
                .or_else(|| outer.serialize_masked.clone()),
        }
    }
}

impl Container<'_> {
    pub(crate) fn shapes(&self) -> Vec<&Shape<'_>> {
        match &self.body {
            Body::Struct(s) => vec![s],
            Body::Enum(vs) => vs.iter().map(|v| &v.shape).collect(),
        }
    }

    pub(crate) fn secret_fields(&self) -> Vec<&Field<'_>> {
        self.shapes()
            .into_iter()
            .flat_map(|s| s.fields.iter())
            .filter(|f| f.secret.is_some())
            .collect()
    }
}
