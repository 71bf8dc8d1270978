//! The plain intermediate form of a `#[derive(Validated)]` input: parse fills it, check reads
//! it, emit turns it into code. It borrows from syn and keeps the tokens of every rule, so
//! errors point at what the user wrote.

use syn::{DeriveInput, Ident, LitStr, Member, Type};

use crate::meta::LitArg;

pub(crate) struct Container<'a> {
    pub(crate) input: &'a DeriveInput,
    pub(crate) body: Body<'a>,
    /// Struct-level `#[validate(custom = f)]`, each `fn(&Self) -> Result<(), ValidationError>`.
    pub(crate) customs: Vec<Custom>,
    pub(crate) allow_unknown_fields: bool,
}

pub(crate) enum Body<'a> {
    Struct(Shape<'a>),
    Enum(Vec<Variant<'a>>),
}

pub(crate) struct Variant<'a> {
    pub(crate) ident: &'a Ident,
    /// Where the variant's content sits under the enum's path (depends on serde's tagging).
    pub(crate) seg: Seg,
    pub(crate) shape: Shape<'a>,
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
    /// The field's name in messages (`age`, `0`).
    pub(crate) name: String,
    pub(crate) seg: Seg,
    /// The longest key the field is read under (its serialised name or an alias), in bytes.
    pub(crate) key_len: usize,
    pub(crate) rules: RuleSet,
}

/// One step of an error path.
#[derive(Clone)]
pub(crate) enum Seg {
    /// The same path as the parent (newtypes, flatten, internally tagged variants).
    Same,
    Name(String),
    Index(usize),
}

#[derive(Default)]
pub(crate) struct RuleSet {
    pub(crate) sanitizers: Vec<Sanitizer>,
    pub(crate) rules: Vec<Rule>,
}

impl RuleSet {
    pub(crate) fn is_empty(&self) -> bool {
        self.sanitizers.is_empty() && self.rules.is_empty()
    }

    pub(crate) fn has_sanitizers(&self) -> bool {
        !self.sanitizers.is_empty()
            || self.rules.iter().any(|r| match &r.kind {
                RuleKind::Nested => true,
                RuleKind::Each(inner) => inner.has_sanitizers(),
                _ => false,
            })
    }

    pub(crate) fn has_rules(&self) -> bool {
        !self.rules.is_empty()
    }
}

pub(crate) struct Sanitizer {
    pub(crate) ident: Ident,
    pub(crate) kind: SanitizerKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum SanitizerKind {
    Trim,
    Lowercase,
    Uppercase,
    Nfc,
    Nfkc,
    StripControl,
}

pub(crate) struct Rule {
    /// The rule's name as written: errors point here.
    pub(crate) ident: Ident,
    pub(crate) kind: RuleKind,
    pub(crate) code: Option<LitStr>,
    pub(crate) message: Option<LitStr>,
}

pub(crate) enum RuleKind {
    Length {
        min: Option<Num>,
        max: Option<Num>,
        equal: Option<Num>,
    },
    Bytes {
        min: Option<Num>,
        max: Option<Num>,
    },
    Range {
        min: Option<Num>,
        max: Option<Num>,
        exclusive_min: Option<Num>,
        exclusive_max: Option<Num>,
    },
    /// `email`, `ip`, `uuid`, ...: a `rules::name(&str) -> bool` function.
    StrCheck(StrCheck),
    Url {
        schemes: Vec<LitStr>,
        public: bool,
    },
    Pattern(LitStr),
    OneOf(Vec<LitArg>),
    NoneOf(Vec<LitArg>),
    Contains(LitStr),
    DoesNotContain(LitStr),
    MustMatch(Ident),
    Custom(syn::Path),
    Nested,
    Each(RuleSet),
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum StrCheck {
    Email,
    Ip,
    Ipv4,
    Ipv6,
    Uuid,
    CreditCard,
    Ascii,
    Alphanumeric,
    NoControl,
    SafePath,
}

impl StrCheck {
    pub(crate) fn name(self) -> &'static str {
        match self {
            StrCheck::Email => "email",
            StrCheck::Ip => "ip",
            StrCheck::Ipv4 => "ipv4",
            StrCheck::Ipv6 => "ipv6",
            StrCheck::Uuid => "uuid",
            StrCheck::CreditCard => "credit_card",
            StrCheck::Ascii => "ascii",
            StrCheck::Alphanumeric => "alphanumeric",
            StrCheck::NoControl => "no_control",
            StrCheck::SafePath => "safe_path",
        }
    }
}

/// A numeric literal bound, with its value for compile-time checks.
pub(crate) struct Num {
    pub(crate) lit: LitArg,
    pub(crate) value: f64,
    pub(crate) is_float: bool,
}

pub(crate) struct Custom {
    pub(crate) path: syn::Path,
    pub(crate) code: Option<LitStr>,
    pub(crate) message: Option<LitStr>,
}

impl RuleKind {
    /// Rules whose subject is the whole field (not unwrapped from `Option`).
    pub(crate) fn on_whole_field(&self) -> bool {
        matches!(self, RuleKind::Nested | RuleKind::MustMatch(_))
    }

    pub(crate) fn needs_str(&self) -> bool {
        matches!(
            self,
            RuleKind::StrCheck(_)
                | RuleKind::Url { .. }
                | RuleKind::Pattern(_)
                | RuleKind::Contains(_)
                | RuleKind::DoesNotContain(_)
        ) || matches!(self, RuleKind::OneOf(v) | RuleKind::NoneOf(v) if v.first().is_some_and(|l| matches!(l.lit, syn::Lit::Str(_))))
    }
}
