//! [`Authenticator`]: how a request's credential is verified (a bearer access token, or a
//! session cookie through a [`SessionAuthenticator`]), used by the stack on every `auth`
//! route. Every refusal is one audit event, without the credential.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::http::{HeaderValue, header, request::Parts};

use super::identity::{Carrier, Identity};
use super::jwt::{AccessTokens, TokenError};
use super::rejection::AuthError;
use crate::audit::{self, Outcome};

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

/// A source of API keys beside the access tokens: what `secure_core::accounts` gives
/// when the app enables keys. A bearer credential of a key's form is authenticated here and
/// never as an access token.
pub trait KeyAuthenticator: Send + Sync + 'static {
    /// Whether `token` has the form of this source's keys (its prefix).
    fn recognises(&self, token: &str) -> bool;

    /// The key's scoped identity ([`Identity::scopes`] set). An `Err` must already have been
    /// audited by the implementation, with its specific reason.
    #[allow(clippy::type_complexity)]
    fn authenticate<'a>(
        &'a self,
        token: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Identity, AuthError>> + Send + 'a>>;
}

/// Access tokens of an outside issuer, beside or instead of the service's own: an OpenID
/// Connect provider (`auth::oidc::OidcProvider`, feature `oidc`). A bearer token whose `iss`
/// names this issuer is verified here, and only here.
pub trait ProviderTokens: Send + Sync + 'static {
    /// The issuer whose tokens this source verifies, exactly as their `iss`.
    fn issuer(&self) -> &str;

    /// The token's identity. An `Err` must already have been audited by the implementation,
    /// with its specific reason.
    #[allow(clippy::type_complexity)]
    fn authenticate<'a>(
        &'a self,
        token: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Identity, AuthError>> + Send + 'a>>;
}

/// How requests are authenticated: access tokens, cookie sessions, or both. Give it to the
/// configuration (`SecurityConfig::authenticator`): the stack authenticates every `auth`
/// route with it, before any extractor reads the request.
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
/// ```
#[derive(Clone)]
pub struct Authenticator {
    tokens: Option<AccessTokens>,
    sessions: Option<Arc<dyn SessionAuthenticator>>,
    keys: Option<Arc<dyn KeyAuthenticator>>,
    providers: Vec<Arc<dyn ProviderTokens>>,
}

impl Authenticator {
    /// Bearer access tokens only.
    pub fn new(tokens: AccessTokens) -> Self {
        Authenticator {
            tokens: Some(tokens),
            sessions: None,
            keys: None,
            providers: Vec::new(),
        }
    }

    /// Session cookies only: an `Authorization` header is then always refused.
    pub fn sessions_only(sessions: Arc<dyn SessionAuthenticator>) -> Self {
        Authenticator {
            tokens: None,
            sessions: Some(sessions),
            keys: None,
            providers: Vec::new(),
        }
    }

    /// An outside provider's access tokens only (no tokens of the service's own).
    pub fn from_provider(provider: Arc<dyn ProviderTokens>) -> Self {
        Authenticator {
            tokens: None,
            sessions: None,
            keys: None,
            providers: vec![provider],
        }
    }

    /// Also accepts the access tokens of an outside provider: a bearer token naming its
    /// issuer is verified by it (its keys, its rules), any other by the service's own tokens.
    pub fn with_provider(mut self, provider: Arc<dyn ProviderTokens>) -> Self {
        self.providers.push(provider);
        self
    }

    /// Also accepts session cookies, when a request has no `Authorization` header.
    pub fn with_sessions(mut self, sessions: Arc<dyn SessionAuthenticator>) -> Self {
        self.sessions = Some(sessions);
        self
    }

    /// Also accepts API keys (`Authorization: Bearer <key>`), each as the scoped identity the
    /// source gives.
    pub fn with_api_keys(mut self, keys: Arc<dyn KeyAuthenticator>) -> Self {
        self.keys = Some(keys);
        self
    }

    /// The access tokens, to issue them at login.
    pub fn tokens(&self) -> Option<&AccessTokens> {
        self.tokens.as_ref()
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
            (Some(value), None) => self.bearer(value).await.map(|i| (i, Carrier::BearerToken)),
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

    async fn bearer(&self, value: &HeaderValue) -> Result<Identity, AuthError> {
        let Some(token) = bearer_token(value) else {
            return Err(token_failure("authorization_scheme"));
        };
        if let Some(keys) = &self.keys
            && keys.recognises(token)
        {
            return keys.authenticate(token).await;
        }
        if !self.providers.is_empty()
            && let Some(iss) = super::jwt::unverified_issuer(token)
            && self.tokens.as_ref().is_none_or(|own| own.issuer() != iss)
            && let Some(provider) = self.providers.iter().find(|p| p.issuer() == iss)
        {
            return provider.authenticate(token).await;
        }
        let Some(tokens) = &self.tokens else {
            return Err(token_failure("bearer_not_accepted"));
        };
        match tokens.verify_identity(token) {
            Ok(identity) => Ok(identity),
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
            .field(
                "api_keys",
                &self.keys.as_ref().map(|_| "dyn KeyAuthenticator"),
            )
            .field(
                "providers",
                &self
                    .providers
                    .iter()
                    .map(|p| p.issuer())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}
