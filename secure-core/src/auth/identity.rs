//! Who a request comes from, as values: the verified [`Identity`], how it authenticated
//! ([`Amr`]), what carried the credential ([`Carrier`]), and the [`Caller`] the stack hands
//! to a route once it is admitted. No behaviour here: the authenticator makes them, the
//! extractors read them.

use serde::{Deserialize, Serialize};

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
    /// Several factors (`mfa`), as an outside identity provider reports a sign-in with a
    /// second factor (Entra ID, Auth0), or an `acr` the provider is configured to trust for it.
    Mfa,
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
            Amr::Mfa => "mfa",
        }
    }

    /// Whether the method proves a second factor (`otp` or `mfa`).
    ///
    /// ```
    /// use secure_core::auth::Amr;
    /// assert!(Amr::Mfa.is_second_factor() && !Amr::Pwd.is_second_factor());
    /// ```
    pub fn is_second_factor(self) -> bool {
        matches!(self, Amr::Otp | Amr::Mfa)
    }
}

/// What a credential proves, whatever carried it.
///
/// Login code builds one to issue an access token
/// ([`AccessTokens::issue`](super::jwt::AccessTokens::issue)) or to open a session; the stack
/// turns a verified one into the route's [`Caller`], and `Principal<R>` reads it.
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
    /// Scope wire names of a scoped credential (an API key): it reaches only routes that
    /// declare one of them. `None` for a user's own token or session.
    pub scopes: Option<Vec<String>>,
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
            scopes: None,
        }
    }

    /// A scoped credential's identity, holding these scope wire names (use
    /// [`Scope::as_str`](super::Scope::as_str) for typed scopes).
    pub fn with_scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// Adds role wire names (use [`Role::as_str`](super::Role::as_str) for typed roles).
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

/// What carried the credential a [`Principal`](super::Principal) was made from.
///
/// ```
/// use secure_core::auth::Carrier;
/// assert_eq!(Carrier::BearerToken.as_str(), "bearer");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Carrier {
    /// `Authorization: Bearer <access token>`.
    BearerToken,
    /// A session cookie, through the [`SessionAuthenticator`](super::SessionAuthenticator).
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

/// Who is calling an `auth` route, as the stack authenticated and authorised them. The stack
/// puts it in the request's extensions, where `Principal<R>` and `Authorized<..>` read it:
/// the one way the caller reaches a handler.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The verified identity.
    pub identity: Identity,
    /// What carried the credential.
    pub carrier: Carrier,
}
