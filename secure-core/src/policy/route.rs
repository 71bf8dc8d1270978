//! What one route declares: who may call it and under which limits.

use serde::Serialize;

use crate::ratelimit::RateLimit;

/// Who may call a route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Access {
    /// Anyone, authenticated or not.
    Public,
    /// An authenticated caller holding at least one of `roles` (any role when empty), with a
    /// second factor when `mfa` is set, signed in at most `fresh` seconds ago when set.
    Auth {
        /// Wire names of the accepted roles.
        roles: Vec<&'static str>,
        /// Wire names of the scopes a scoped credential (an API key) must hold one of; a
        /// scoped credential reaches no route without them.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        scopes: Vec<&'static str>,
        /// Whether the caller must have used a second factor (`amr` contains `otp`).
        mfa: bool,
        /// `fresh = "5m"`: how recent (`auth_time`) the caller's sign-in must be, in seconds.
        #[serde(skip_serializing_if = "Option::is_none")]
        fresh: Option<u64>,
    },
    /// A raw axum route added on purpose with [`SecureRouter::unprotected`]: no
    /// authentication, roles, route limit or validation by the framework; the reason says why
    /// that is safe. It still gets the stack's outer layers (security headers, request id,
    /// problem+json, timeout, default per-IP limit).
    ///
    /// [`SecureRouter::unprotected`]: super::SecureRouter::unprotected
    Unprotected {
        /// Why it is safe, as written.
        reason: &'static str,
    },
}

/// Raw input a handler takes on purpose, with the reason written next to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unvalidated {
    /// The parameter's name.
    pub param: &'static str,
    /// Why it is safe, as written in the attribute.
    pub reason: &'static str,
}

/// SQL on a resource's table that a handler declares with `reads(table, reason = "..")`:
/// not one caller's rows (an administrator's count, a report). Assembly accepts its own SQL
/// on that table, and the policy table shows why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeclaredRead {
    /// The table, as the SQL names it.
    pub table: &'static str,
    /// Why, as written in the attribute.
    pub reason: &'static str,
}

/// A resource a handler reaches through a check (`Authorized<Note, Read>`): the policy
/// table's OBJECT column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ObjectAccess {
    /// The resource's name: `Note`.
    pub resource: &'static str,
    /// `read`, `write` or `list`.
    pub action: &'static str,
    /// Its table: `notes`.
    pub table: &'static str,
}

/// Everything `#[secure_handler(...)]` declared for one handler.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoutePolicy {
    /// The handler function's name.
    pub handler: &'static str,
    /// Who may call it.
    pub access: Access,
    /// Its own rate limit, if any.
    pub rate_limit: Option<RateLimit>,
    /// Its own body limit in bytes, if any (else the router's default).
    pub body_limit: Option<u64>,
    /// The audit event emitted on success, if any (denials are always audited).
    pub audit: Option<&'static str>,
    /// Parameters that take raw input on purpose.
    pub unvalidated: Vec<Unvalidated>,
    /// Tables its own SQL reads beyond one caller's rows, on purpose.
    pub reads: Vec<DeclaredRead>,
    /// The resources its parameters load through a check; the stack hands those extractors
    /// the authenticated caller.
    pub objects: Vec<ObjectAccess>,
    /// The SQL its body hands to sqlx as literals or constants: assembly refuses reads and
    /// changes of a loaded resource's table written by hand.
    #[serde(skip)]
    pub sql: Vec<&'static str>,
}

impl RoutePolicy {
    /// The policy of a handler whose attribute did not compile: nobody may call it.
    #[doc(hidden)]
    pub fn denied(handler: &'static str) -> Self {
        RoutePolicy {
            handler,
            access: Access::Auth {
                roles: Vec::new(),
                scopes: Vec::new(),
                mfa: true,
                fresh: None,
            },
            rate_limit: None,
            body_limit: None,
            audit: None,
            unvalidated: Vec::new(),
            reads: Vec::new(),
            objects: Vec::new(),
            sql: Vec::new(),
        }
    }

    /// A one-line summary for the policy table: `auth roles(admin) mfa fresh(5m)`.
    pub fn access_summary(&self) -> String {
        match &self.access {
            Access::Public => "public".to_owned(),
            Access::Unprotected { reason } => format!("UNPROTECTED: {reason}"),
            Access::Auth {
                roles,
                scopes,
                mfa,
                fresh,
            } => {
                let mut s = "auth".to_owned();
                if !roles.is_empty() {
                    s.push_str(&format!(" roles({})", roles.join(", ")));
                }
                if !scopes.is_empty() {
                    s.push_str(&format!(" scopes({})", scopes.join(", ")));
                }
                if *mfa {
                    s.push_str(" mfa");
                }
                if let Some(secs) = fresh {
                    s.push_str(&format!(" fresh({})", duration_text(*secs)));
                }
                s
            }
        }
    }
}

/// `300` -> `5m`, `3600` -> `1h`, `90` -> `90s`.
fn duration_text(secs: u64) -> String {
    if secs.is_multiple_of(3600) {
        format!("{}h", secs / 3600)
    } else if secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}
