//! What the derive can tell about a field's type from its syntax alone. Used to give precise
//! errors ("`age` is `u8`: did you mean `range`?"); anything it cannot tell is left to the
//! trait bounds in the generated code, whose `on_unimplemented` notes say the fix.

use syn::{GenericArgument, PathArguments, Type};

/// A coarse class of a type written in the source.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum TyClass {
    Str,
    Int { signed: bool },
    Float,
    Bool,
    Char,
    Collection,
    Other,
}

impl TyClass {
    pub(crate) fn is_scalar(self) -> bool {
        matches!(
            self,
            TyClass::Int { .. } | TyClass::Float | TyClass::Bool | TyClass::Char
        )
    }
}

/// Strips references, parentheses and invisible groups.
pub(crate) fn peel(mut ty: &Type) -> &Type {
    loop {
        ty = match ty {
            Type::Reference(r) => &r.elem,
            Type::Paren(p) => &p.elem,
            Type::Group(g) => &g.elem,
            _ => return ty,
        };
    }
}

fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match peel(ty) {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        _ => None,
    }
}

fn generic_types(seg: &syn::PathSegment) -> Vec<&Type> {
    match &seg.arguments {
        PathArguments::AngleBracketed(args) => args
            .args
            .iter()
            .filter_map(|a| match a {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `T` when `ty` is written `Option<T>`.
pub(crate) fn option_inner(ty: &Type) -> Option<&Type> {
    let seg = last_segment(ty)?;
    if seg.ident != "Option" {
        return None;
    }
    let args = generic_types(seg);
    (args.len() == 1).then(|| args[0])
}

/// `ty` without any `Option<...>` layers.
pub(crate) fn strip_options(mut ty: &Type) -> &Type {
    while let Some(inner) = option_inner(ty) {
        ty = inner;
    }
    ty
}

/// The element type `each(...)` sees, when the collection is written out.
pub(crate) fn element_type(ty: &Type) -> Option<&Type> {
    match peel(ty) {
        Type::Array(a) => return Some(&a.elem),
        Type::Slice(s) => return Some(&s.elem),
        _ => {}
    }
    let seg = last_segment(ty)?;
    let args = generic_types(seg);
    let name = seg.ident.to_string();
    match name.as_str() {
        "Vec" | "VecDeque" | "HashSet" | "BTreeSet" | "IndexSet" if !args.is_empty() => {
            Some(args[0])
        }
        "HashMap" | "BTreeMap" | "IndexMap" if args.len() >= 2 => Some(args[1]),
        _ => None,
    }
}

/// The class of `ty` (after peeling references; `Option` is not stripped here).
pub(crate) fn classify(ty: &Type) -> TyClass {
    match peel(ty) {
        Type::Array(_) | Type::Slice(_) => return TyClass::Collection,
        _ => {}
    }
    let Some(seg) = last_segment(ty) else {
        return TyClass::Other;
    };
    let name = seg.ident.to_string();
    match name.as_str() {
        "String" | "str" => TyClass::Str,
        "Cow" | "Box" | "Arc" | "Rc" => match generic_types(seg).last() {
            Some(inner) if classify(inner) == TyClass::Str => TyClass::Str,
            _ => TyClass::Other,
        },
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => TyClass::Int { signed: false },
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => TyClass::Int { signed: true },
        "f32" | "f64" => TyClass::Float,
        "bool" => TyClass::Bool,
        "char" => TyClass::Char,
        "Vec" | "VecDeque" | "HashSet" | "BTreeSet" | "HashMap" | "BTreeMap" | "IndexMap"
        | "IndexSet" => TyClass::Collection,
        _ => TyClass::Other,
    }
}

/// The primitive's name (`"u8"`, `"f64"`) when `ty` is a primitive number.
pub(crate) fn primitive_name(ty: &Type) -> Option<String> {
    let seg = last_segment(ty)?;
    if !seg.arguments.is_empty() {
        return None;
    }
    classify(ty).is_scalar().then(|| seg.ident.to_string())
}

/// The range of values a primitive integer type holds, as f64 (exact enough for bound checks).
pub(crate) fn int_bounds(name: &str) -> Option<(f64, f64)> {
    Some(match name {
        "u8" => (0.0, u8::MAX as f64),
        "u16" => (0.0, u16::MAX as f64),
        "u32" => (0.0, u32::MAX as f64),
        "u64" => (0.0, u64::MAX as f64),
        "u128" => (0.0, u128::MAX as f64),
        "usize" => (0.0, u64::MAX as f64),
        "i8" => (i8::MIN as f64, i8::MAX as f64),
        "i16" => (i16::MIN as f64, i16::MAX as f64),
        "i32" => (i32::MIN as f64, i32::MAX as f64),
        "i64" => (i64::MIN as f64, i64::MAX as f64),
        "i128" => (i128::MIN as f64, i128::MAX as f64),
        "isize" => (i64::MIN as f64, i64::MAX as f64),
        _ => return None,
    })
}

/// The type as the user wrote it, for messages.
pub(crate) fn display(ty: &Type) -> String {
    let s = quote::ToTokens::to_token_stream(ty).to_string();
    s.replace(" < ", "<")
        .replace(" <", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace(" ,", ",")
        .replace("& ", "&")
}

/// Whether `ty` is written as a set, whose elements cannot change in place.
pub(crate) fn is_set(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|s| {
        matches!(
            s.ident.to_string().as_str(),
            "HashSet" | "BTreeSet" | "IndexSet"
        )
    })
}
