//! [`Principal<R>`]: the authenticated caller, as a handler argument.
//!
//! What this protects against: handlers that trust unauthenticated input about who is calling
//! (ASVS 3.5.x: token-based session management; 4.1.1: access control enforced server-side).
//! A `Principal` can only be made by the extractor, from a verified access token
//! (`Authorization: Bearer <jwt>`) or, when no `Authorization` header is sent, from a session
//! cookie through a [`SessionAuthenticator`]. Rules:
//! * an `Authorization` header that is present but bad (another scheme, a bad token, two
//!   headers) is refused: it never falls back to the cookie;
//! * a role string that `R::parse` does not know is refused (401), never dropped;
//! * no [`Authenticator`] installed is a server bug: a generic 500, an error log line, and no
//!   handler runs (fail closed);
//! * every refusal emits one audit event (`auth.token` or `auth.session`, outcome `failure`,
//!   a fixed reason code) and never logs or returns the token.
//!
//! ```
//! use axum::{Router, routing::get};
//! use secure_core::SecretBox;
//! use secure_core::auth::jwt::{AccessTokenKey, AccessTokens};
//! use secure_core::auth::{Authenticator, Principal, Role};
//!
//! #[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
//! enum AppRole {
//!     Admin,
//!     Member,
//! }
//!
//! async fn me(user: Principal<AppRole>) -> String {
//!     format!("{} admin={}", user.subject(), user.has_role(AppRole::Admin))
//! }
//!
//! let key = AccessTokenKey::hs256(SecretBox::from(vec![42u8; 32])).unwrap();
//! let tokens = AccessTokens::builder(key, "https://auth.example", "notes-api").build().unwrap();
//! let app: Router = Router::new()
//!     .route("/me", get(me))
//!     .layer(Authenticator::new(tokens).layer());
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::Extension;
use axum::extract::FromRequestParts;
use axum::http::{HeaderValue, header, request::Parts};
use serde::{Deserialize, Serialize};

use super::jwt::{AccessClaims, AccessTokens, TokenError};
use super::{AuthError, Role};
use crate::audit::{self, Outcome};

/// An authentication method reference (RFC 8176), as in a token's `amr` claim.
///
/// ```
/// use secure_core::auth::Amr;
///
/// assert_eq!(serde_json::to_string(&[Amr::Pwd, Amr::Otp]).unwrap(), r#"["pwd","otp"]"#);
/// assert!(serde_json::from_str::<Amr>(r#""sms""#).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Amr {
    /// A password (`pwd`).
    Pwd,
    /// A one-time password such as TOTP (`otp`).
    Otp,
}

impl Amr {
    /// The RFC 8176 value: `pwd` or `otp`.
    ///
    /// ```
    /// assert_eq!(secure_core::auth::Amr::Otp.as_str(), "otp");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Amr::Pwd => "pwd",
            Amr::Otp => "otp",
        }
    }
}

/// What a credential proves, whatever carried it.
///
/// Login code builds one to issue an access token ([`AccessTokens::issue`]) or to open a
/// session; the [`Principal`] extractor turns a verified one into a `Principal<R>`.
/// `session_id` is an identifier of the session, never the secret value of its cookie.
///
/// ```
/// use secure_core::auth::{Amr, Identity};
///
/// let identity = Identity::new("user-1", 1_700_000_000)
///     .with_roles(["admin", "member"])
///     .with_amr([Amr::Pwd])
///     .with_session("s-19");
/// assert_eq!(identity.roles, ["admin", "member"]);
/// assert_eq!(identity.session_id.as_deref(), Some("s-19"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The user id (`sub`).
    pub subject: String,
    /// Role wire names.
    pub roles: Vec<String>,
    /// How the user authenticated.
    pub amr: Vec<Amr>,
    /// When the user authenticated, Unix seconds.
    pub auth_time: i64,
    /// The id of the session, if the identity comes from (or opens) one.
    pub session_id: Option<String>,
}

impl Identity {
    /// An identity with no roles, no authentication methods and no session.
    pub fn new(subject: impl Into<String>, auth_time: i64) -> Self {
        Identity {
            subject: subject.into(),
            roles: Vec::new(),
            amr: Vec::new(),
            auth_time,
            session_id: None,
        }
    }

    /// Adds role wire names (use [`Role::as_str`] for typed roles).
    ///
    /// ```
    /// use secure_core::auth::{Identity, Role};
    ///
    /// #[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
    /// enum AppRole { Admin }
    ///
    /// let identity = Identity::new("u", 0).with_roles([AppRole::Admin.as_str()]);
    /// assert_eq!(identity.roles, ["admin"]);
    /// ```
    pub fn with_roles<S: Into<String>>(mut self, roles: impl IntoIterator<Item = S>) -> Self {
        self.roles.extend(roles.into_iter().map(Into::into));
        self
    }

    /// Adds authentication methods.
    pub fn with_amr(mut self, amr: impl IntoIterator<Item = Amr>) -> Self {
        self.amr.extend(amr);
        self
    }

    /// Sets the session id.
    pub fn with_session(mut self, session_id: impl Into<String>) -> Self {
        self.session_id = Some(session_id.into());
        self
    }
}

impl From<AccessClaims> for Identity {
    fn from(claims: AccessClaims) -> Self {
        Identity {
            subject: claims.sub,
            roles: claims.roles,
            amr: claims.amr,
            auth_time: claims.auth_time,
            session_id: claims.sid,
        }
    }
}

/// Cookie-session authentication, implemented by `session::SessionManager` (CSRF is its job too).
///
/// `Ok(None)`: no session cookie in the request. `Err`: a cookie is present but invalid,
/// expired, or the request failed the CSRF check ([`AuthError::Invalid`],
/// [`AuthError::Expired`], [`AuthError::CsrfFailed`]).
///
/// ```
/// use std::future::Future;
/// use std::pin::Pin;
/// use axum::http::request::Parts;
/// use secure_core::auth::{AuthError, Identity, SessionAuthenticator};
///
/// /// Accepts the cookie `session=demo` (a test double: real sessions live in a store).
/// struct DemoSessions;
///
/// impl SessionAuthenticator for DemoSessions {
///     fn authenticate<'a>(
///         &'a self,
///         parts: &'a Parts,
///     ) -> Pin<Box<dyn Future<Output = Result<Option<Identity>, AuthError>> + Send + 'a>> {
///         Box::pin(async move {
///             match parts.headers.get("cookie").map(|v| v.as_bytes()) {
///                 None => Ok(None),
///                 Some(b"session=demo") => Ok(Some(Identity::new("demo-user", 0))),
///                 Some(_) => Err(AuthError::Invalid),
///             }
///         })
///     }
/// }
/// ```
pub trait SessionAuthenticator: Send + Sync + 'static {
    /// Authenticates the request from its session cookie, if it has one.
    ///
    /// An `Err` must already have been audited by the implementation, with its specific
    /// reason (as [`SessionManager`](crate::session::SessionManager) does): the
    /// [`Authenticator`] does not add an event of its own, so one refusal is one event.
    #[allow(clippy::type_complexity)]
    fn authenticate<'a>(
        &'a self,
        parts: &'a Parts,
    ) -> Pin<Box<dyn Future<Output = Result<Option<Identity>, AuthError>> + Send + 'a>>;
}

/// What carried the credential a [`Principal`] was made from.
///
/// ```
/// use secure_core::auth::Carrier;
/// assert_eq!(Carrier::BearerToken.as_str(), "bearer");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Carrier {
    /// `Authorization: Bearer <access token>`.
    BearerToken,
    /// A session cookie, through the [`SessionAuthenticator`].
    SessionCookie,
}

impl Carrier {
    /// `bearer` or `session`.
    pub fn as_str(self) -> &'static str {
        match self {
            Carrier::BearerToken => "bearer",
            Carrier::SessionCookie => "session",
        }
    }
}

/// How requests are authenticated: access tokens, cookie sessions, or both. The [`Principal`]
/// extractor finds it in the request extensions as `Arc<Authenticator>`; install it with
/// [`Authenticator::layer`].
///
/// ```
/// use std::sync::Arc;
/// use secure_core::SecretBox;
/// use secure_core::auth::Authenticator;
/// use secure_core::auth::jwt::{AccessTokenKey, AccessTokens};
///
/// let key = AccessTokenKey::hs256(SecretBox::from(vec![42u8; 32])).unwrap();
/// let tokens = AccessTokens::builder(key, "https://auth.example", "notes-api").build().unwrap();
/// let auth = Authenticator::new(tokens);
/// assert!(auth.tokens().is_some());
/// let _router: axum::Router = axum::Router::new().layer(auth.layer());
/// ```
#[derive(Clone)]
pub struct Authenticator {
    tokens: Option<AccessTokens>,
    sessions: Option<Arc<dyn SessionAuthenticator>>,
}

impl Authenticator {
    /// Bearer access tokens only.
    pub fn new(tokens: AccessTokens) -> Self {
        Authenticator {
            tokens: Some(tokens),
            sessions: None,
        }
    }

    /// Session cookies only: an `Authorization` header is then always refused.
    pub fn sessions_only(sessions: Arc<dyn SessionAuthenticator>) -> Self {
        Authenticator {
            tokens: None,
            sessions: Some(sessions),
        }
    }

    /// Also accepts session cookies, when a request has no `Authorization` header.
    pub fn with_sessions(mut self, sessions: Arc<dyn SessionAuthenticator>) -> Self {
        self.sessions = Some(sessions);
        self
    }

    /// The access tokens, to issue them at login.
    pub fn tokens(&self) -> Option<&AccessTokens> {
        self.tokens.as_ref()
    }

    /// A layer that puts this authenticator into every request's extensions:
    /// `router.layer(auth.layer())`.
    pub fn layer(self) -> Extension<Arc<Authenticator>> {
        Extension(Arc::new(self))
    }

    /// Authenticates a request: the `Authorization` header if there is one, else the session
    /// cookie. Emits an audit event on failure.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use secure_core::SecretBox;
    /// use secure_core::auth::{AuthError, Authenticator};
    /// use secure_core::auth::jwt::{AccessTokenKey, AccessTokens};
    ///
    /// let key = AccessTokenKey::hs256(SecretBox::from(vec![42u8; 32])).unwrap();
    /// let auth = Authenticator::new(
    ///     AccessTokens::builder(key, "https://auth.example", "notes-api").build().unwrap(),
    /// );
    /// let (parts, ()) = axum::http::Request::new(()).into_parts();
    /// assert_eq!(auth.authenticate(&parts).await.unwrap_err(), AuthError::Missing);
    /// # });
    /// ```
    pub async fn authenticate(&self, parts: &Parts) -> Result<(Identity, Carrier), AuthError> {
        let mut values = parts.headers.get_all(header::AUTHORIZATION).iter();
        match (values.next(), values.next()) {
            (Some(value), None) => self.bearer(value).map(|i| (i, Carrier::BearerToken)),
            (Some(_), Some(_)) => Err(token_failure("multiple_authorization")),
            (None, _) => match &self.sessions {
                None => {
                    audit::emit(
                        "auth.token",
                        Outcome::Failure,
                        None,
                        AuthError::Missing.reason(),
                    );
                    Err(AuthError::Missing)
                }
                Some(sessions) => match sessions.authenticate(parts).await {
                    Ok(Some(identity)) => Ok((identity, Carrier::SessionCookie)),
                    Ok(None) => {
                        audit::emit(
                            "auth.session",
                            Outcome::Failure,
                            None,
                            AuthError::Missing.reason(),
                        );
                        Err(AuthError::Missing)
                    }
                    // The session authenticator audited the refusal with its specific
                    // reason (see the trait); a second, generic event would double-count it.
                    Err(error) => Err(error),
                },
            },
        }
    }

    fn bearer(&self, value: &HeaderValue) -> Result<Identity, AuthError> {
        let Some(token) = bearer_token(value) else {
            return Err(token_failure("authorization_scheme"));
        };
        let Some(tokens) = &self.tokens else {
            return Err(token_failure("bearer_not_accepted"));
        };
        match tokens.verify(token) {
            Ok(claims) => Ok(Identity::from(claims)),
            Err(error) => {
                audit::emit("auth.token", Outcome::Failure, None, error.reason());
                Err(if error == TokenError::Expired {
                    AuthError::Expired
                } else {
                    AuthError::Invalid
                })
            }
        }
    }
}

/// Emits an `auth.token` failure and returns [`AuthError::Invalid`].
fn token_failure(reason: &'static str) -> AuthError {
    audit::emit("auth.token", Outcome::Failure, None, reason);
    AuthError::Invalid
}

/// The token of `Bearer <token>` (scheme case-insensitive, RFC 9110 §11.1), if that is the form.
fn bearer_token(value: &HeaderValue) -> Option<&str> {
    // UTF-8 is enough here: the token's characters are checked by its base64url decoders.
    let value = std::str::from_utf8(value.as_bytes()).ok()?;
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim_start_matches(' ');
    (!token.is_empty()).then_some(token)
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("tokens", &self.tokens)
            .field(
                "sessions",
                &self.sessions.as_ref().map(|_| "dyn SessionAuthenticator"),
            )
            .finish()
    }
}

/// The authenticated caller, with roles of the application's role enum `R`.
///
/// Take it as a handler argument; the request is refused (401, 403 for CSRF, 500 without an
/// [`Authenticator`]) before the handler runs if there is no acceptable credential.
///
/// ```
/// use secure_core::auth::{Carrier, Principal, Role};
///
/// #[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
/// enum AppRole {
///     Admin,
///     Member,
/// }
///
/// async fn delete_note(user: Principal<AppRole>) -> &'static str {
///     if !user.has_role(AppRole::Admin) || !user.mfa() {
///         return "forbidden";
///     }
///     if user.carrier() == Carrier::SessionCookie {
///         // cookie requests were CSRF-checked by the session layer
///     }
///     "deleted"
/// }
/// # let _ = axum::Router::<()>::new().route("/n", axum::routing::delete(delete_note));
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
    /// Parses every role name; on an unknown one, gives the identity back.
    pub(crate) fn from_identity(identity: Identity, carrier: Carrier) -> Result<Self, Identity> {
        let roles: Option<Vec<R>> = identity.roles.iter().map(|name| R::parse(name)).collect();
        let Some(roles) = roles else {
            return Err(identity);
        };
        Ok(Principal {
            subject: identity.subject,
            roles,
            amr: identity.amr,
            auth_time: identity.auth_time,
            session_id: identity.session_id,
            carrier,
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

    /// Whether the caller passed a second factor (`amr` contains `otp`).
    pub fn mfa(&self) -> bool {
        self.amr.contains(&Amr::Otp)
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

impl<S: Send + Sync, R: Role> FromRequestParts<S> for Principal<R> {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let parts: &Parts = parts;
        let Some(authenticator) = parts.extensions.get::<Arc<Authenticator>>() else {
            tracing::error!(
                target: "secure::auth",
                "Principal extractor used without an Authenticator: add `.layer(Authenticator::new(..).layer())` to the router"
            );
            audit::emit(
                "auth.token",
                Outcome::Failure,
                None,
                AuthError::NotConfigured.reason(),
            );
            return Err(AuthError::NotConfigured);
        };
        let (identity, carrier) = authenticator.authenticate(parts).await?;
        Principal::from_identity(identity, carrier).map_err(|identity| {
            let event = match carrier {
                Carrier::BearerToken => "auth.token",
                Carrier::SessionCookie => "auth.session",
            };
            audit::emit(
                event,
                Outcome::Failure,
                Some(&identity.subject),
                "unknown_role",
            );
            AuthError::Invalid
        })
    }
}
