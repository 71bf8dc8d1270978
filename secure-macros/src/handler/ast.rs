//! The checked form of `#[secure_handler(...)]` and of the function it is on.

use proc_macro2::Span;
use syn::{Ident, LitStr};

/// Everything the attribute declares.
pub(crate) struct Policy {
    pub(crate) access: Access,
    pub(crate) rate_limit: Option<RateLimit>,
    pub(crate) body_limit: Option<BodyLimit>,
    pub(crate) audit: Option<LitStr>,
    pub(crate) unvalidated: Vec<Unvalidated>,
    pub(crate) reads: Vec<Reads>,
}

/// `reads(notes, reason = "...")`: SQL on a resource's table that is not one caller's rows
/// (an administrator's count, a report), declared so the policy table says why.
pub(crate) struct Reads {
    pub(crate) tables: Vec<Ident>,
    pub(crate) reason: LitStr,
}

/// Who may call the route.
pub(crate) enum Access {
    Public,
    Auth {
        /// Role variants (`Admin`) or paths (`AppRole::Admin`), in the order written.
        roles: Vec<syn::Path>,
        /// Scope paths (`AppScope::NotesRead`): what a scoped credential (an API key) needs
        /// to hold one of; a scoped credential reaches no route without them.
        scopes: Vec<syn::Path>,
        mfa: bool,
        /// `fresh = "5m"`: the caller's authentication must be at most this many seconds old.
        fresh: Option<u64>,
    },
}

/// `rate_limit("5/min", key = ip)`.
pub(crate) struct RateLimit {
    pub(crate) count: u32,
    pub(crate) period_secs: u64,
    pub(crate) key: RateKey,
    pub(crate) span: Span,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum RateKey {
    Ip,
    User,
    Global,
}

/// `body_limit = "16KiB"`.
pub(crate) struct BodyLimit {
    pub(crate) bytes: u64,
    /// The size string: a limit below the body type's bound is reported here.
    pub(crate) span: proc_macro2::Span,
}

/// `unvalidated(param, reason = "...")`.
pub(crate) struct Unvalidated {
    pub(crate) param: Ident,
    pub(crate) reason: LitStr,
}
