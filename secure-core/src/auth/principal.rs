//! [`Principal<R>`]: the authenticated caller, as a handler argument, with the app's roles.
//!
//! What this protects against: handlers that trust unauthenticated input about who is calling
//! (ASVS 3.5.x: token-based session management; 4.1.1: access control enforced server-side).
//! A `Principal` is made only from the [`Caller`] the stack put in the request once it
//! authenticated it (a verified access token or session cookie); rules:
//! * a role string that `R::parse` does not know is refused (401), never dropped;
//! * without a caller (a route the stack did not authenticate) it is refused (401): it never
//!   authenticates on its own, so there is one way a caller reaches a handler;
//! * every refusal emits one audit event and never logs or returns a credential.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::identity::{Amr, Caller, Carrier};
use super::{AuthError, Role};
use crate::audit::{self, Outcome};

/// The authenticated caller, with roles of the application's role enum `R`.
///
/// Take it as an argument of an `auth` handler: the stack has authenticated and authorised
/// the request before the handler runs (401, 403, or 403 for CSRF otherwise).
///
/// ```
/// use secure_core::prelude::*;
/// use secure_core::auth::Carrier;
///
/// #[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
/// enum AppRole {
///     Admin,
///     Member,
/// }
///
/// #[secure_handler(auth, roles(Admin), mfa)]
/// async fn delete_note(user: Principal<AppRole>) -> String {
///     if user.carrier() == Carrier::SessionCookie {
///         // cookie requests were CSRF-checked by the stack
///     }
///     format!("deleted by {}", user.subject())
/// }
/// # let _: SecureRouter = SecureRouter::new().route("/n", delete(delete_note));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal<R: Role> {
    subject: String,
    roles: Vec<R>,
    amr: Vec<Amr>,
    auth_time: i64,
    session_id: Option<String>,
    carrier: Carrier,
}

impl<R: Role> Principal<R> {
    /// The caller with typed roles; a role name `R` does not know is refused (401) and
    /// audited as `unknown_role`, never dropped.
    pub fn from_caller(caller: &Caller) -> Result<Self, AuthError> {
        let identity = &caller.identity;
        let roles: Option<Vec<R>> = identity.roles.iter().map(|name| R::parse(name)).collect();
        let Some(roles) = roles else {
            let event = match caller.carrier {
                Carrier::BearerToken => "auth.token",
                Carrier::SessionCookie => "auth.session",
            };
            audit::emit(
                event,
                Outcome::Failure,
                Some(&identity.subject),
                "unknown_role",
            );
            return Err(AuthError::Invalid);
        };
        Ok(Principal {
            subject: identity.subject.clone(),
            roles,
            amr: identity.amr.clone(),
            auth_time: identity.auth_time,
            session_id: identity.session_id.clone(),
            carrier: caller.carrier,
        })
    }

    /// The user id.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The caller's roles.
    pub fn roles(&self) -> &[R] {
        &self.roles
    }

    /// Whether the caller has `role`.
    pub fn has_role(&self, role: R) -> bool {
        self.roles.contains(&role)
    }

    /// How the caller authenticated.
    pub fn amr(&self) -> &[Amr] {
        &self.amr
    }

    /// Whether the caller passed a second factor (`amr` contains `otp` or `mfa`).
    pub fn mfa(&self) -> bool {
        self.amr.iter().any(|a| a.is_second_factor())
    }

    /// When the caller authenticated, Unix seconds (for "re-authenticate within N minutes").
    pub fn auth_time(&self) -> i64 {
        self.auth_time
    }

    /// The session id, if the credential came from (or names) a session.
    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
    }

    /// What carried the credential: a bearer token or a session cookie.
    pub fn carrier(&self) -> Carrier {
        self.carrier
    }
}

/// Reads the [`Caller`] the stack put in the request. Without one (a route the stack did not
/// authenticate: an unprotected route, a handler outside `SecureRouter`) the request is
/// refused, 401: a `Principal` never comes from anywhere else.
impl<S: Send + Sync, R: Role> FromRequestParts<S> for Principal<R> {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(caller) = parts.extensions.get::<Caller>() else {
            audit::emit("auth.token", Outcome::Failure, None, "no_caller");
            return Err(AuthError::Missing);
        };
        Principal::from_caller(caller)
    }
}
