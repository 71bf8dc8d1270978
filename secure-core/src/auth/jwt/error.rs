//! Errors of access tokens: configuration ([`TokenConfigError`]), issuing ([`IssueError`]) and
//! verification ([`TokenError`]). None of them carries token text or key material.

use std::fmt;

use super::MAX_LEEWAY_SECS;

/// Why [`AccessTokens::verify`](super::AccessTokens::verify) refused a token.
///
/// The variants say which stage refused it, for tests and audit reason codes; clients only
/// ever see "not valid" or "expired" (see [`AuthError`](crate::auth::AuthError)).
///
/// ```
/// use secure_core::auth::jwt::TokenError;
///
/// assert_eq!(TokenError::Expired.reason(), "expired");
/// assert!(TokenError::Expired.is_expired());
/// assert!(!TokenError::Signature.is_expired());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenError {
    /// Not a compact JWS: wrong number of segments, a character outside base64url, bad or
    /// non-canonical base64, a header that is not a JSON object, or over the size limit.
    Malformed,
    /// The header's `alg` is not the configured algorithm (`none`, another family, another
    /// hash size): the header never chooses the algorithm.
    Algorithm,
    /// The header has a parameter this verifier does not accept (`jwk`, `jku`, `x5u`, `x5c`,
    /// `crit`, `cty`, ...), a `typ` other than `JWT`/`at+jwt`, or a `kid` other than the
    /// configured one.
    Header,
    /// The signature does not verify with the configured key.
    Signature,
    /// The signature verified, but the claims are not a JSON object with the required members
    /// of the right types (`sub`, `iss`, `aud`, `exp`, `iat`, `jti`, `auth_time`; numeric
    /// dates; `roles` strings; `amr` values `pwd`/`otp`).
    Claims,
    /// `iss` is not the configured issuer.
    Issuer,
    /// `aud` does not contain the configured audience.
    Audience,
    /// `exp` is in the past (beyond the leeway).
    Expired,
    /// `nbf`, `iat` or `auth_time` is in the future (beyond the leeway).
    NotYetValid,
}

impl TokenError {
    /// A fixed code for audit events: `malformed`, `algorithm`, `header`, `signature`,
    /// `claims`, `issuer`, `audience`, `expired` or `not_yet_valid`.
    pub fn reason(self) -> &'static str {
        match self {
            TokenError::Malformed => "malformed",
            TokenError::Algorithm => "algorithm",
            TokenError::Header => "header",
            TokenError::Signature => "signature",
            TokenError::Claims => "claims",
            TokenError::Issuer => "issuer",
            TokenError::Audience => "audience",
            TokenError::Expired => "expired",
            TokenError::NotYetValid => "not_yet_valid",
        }
    }

    /// Whether the token was refused only for being too old (the client may refresh it).
    pub fn is_expired(self) -> bool {
        self == TokenError::Expired
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "access token rejected: {}", self.reason())
    }
}

impl std::error::Error for TokenError {}

/// A configuration that [`AccessTokensBuilder::build`](super::AccessTokensBuilder::build) or
/// an [`AccessTokenKey`](super::AccessTokenKey) constructor refuses.
///
/// ```
/// use secure_core::SecretBox;
/// use secure_core::auth::jwt::{AccessTokenKey, TokenConfigError};
///
/// let short = AccessTokenKey::hs256(SecretBox::from(vec![7u8; 16]));
/// assert_eq!(short.unwrap_err(), TokenConfigError::WeakKey);
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenConfigError {
    /// An HS256 secret shorter than 32 bytes (RFC 7518 §3.2; ASVS 6.2.x).
    WeakKey,
    /// Key bytes that are not a key of the algorithm (bad PKCS#8 DER, not a curve point, ...).
    InvalidKey,
    /// A leeway above 30 seconds.
    LeewayTooLarge,
    /// A token lifetime of zero or above one hour.
    LifetimeOutOfRange,
    /// An empty issuer or audience, or a `kid` that is empty or longer than 128 bytes.
    EmptyName,
    /// A previous key of another algorithm than the current one's.
    MixedAlgorithms,
    /// Two keys with one `kid`.
    DuplicateKid,
}

impl fmt::Display for TokenConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenConfigError::WeakKey => f.write_str("an HS256 key needs at least 32 bytes"),
            TokenConfigError::InvalidKey => {
                f.write_str("the key bytes are not a key of the algorithm")
            }
            TokenConfigError::LeewayTooLarge => {
                write!(
                    f,
                    "the clock leeway may be at most {MAX_LEEWAY_SECS} seconds"
                )
            }
            TokenConfigError::LifetimeOutOfRange => {
                f.write_str("an access token lifetime must be between 1 second and 1 hour")
            }
            TokenConfigError::EmptyName => {
                f.write_str("issuer, audience and kid must not be empty (kid: at most 128 bytes)")
            }
            TokenConfigError::MixedAlgorithms => {
                f.write_str("a previous key must be of the current key's algorithm")
            }
            TokenConfigError::DuplicateKid => f.write_str("two keys have the same kid"),
        }
    }
}

impl std::error::Error for TokenConfigError {}

// A start-up error: `main` prints it with `{:?}`.
crate::error::debug_as_display!(TokenConfigError);

/// Why [`AccessTokens::issue`](super::AccessTokens::issue) could not make a token.
///
/// ```
/// use secure_core::auth::jwt::IssueError;
///
/// assert_eq!(IssueError::NoSigningKey.to_string(), "this AccessTokens can only verify: it has no private key");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IssueError {
    /// The key is a public key only (verify-only configuration).
    NoSigningKey,
    /// The identity cannot be put in a token: empty subject, or a role name that is empty.
    Identity,
    /// The system clock is before 1970.
    Clock,
    /// The crypto backend failed to sign.
    Signing,
}

impl fmt::Display for IssueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IssueError::NoSigningKey => "this AccessTokens can only verify: it has no private key",
            IssueError::Identity => "the identity has an empty subject or role",
            IssueError::Clock => "the system clock is before the Unix epoch",
            IssueError::Signing => "signing the access token failed",
        })
    }
}

impl std::error::Error for IssueError {}

/// `?` in a handler: a token that could not be made is a 500 whose cause is logged.
impl From<IssueError> for crate::error::ApiError {
    fn from(error: IssueError) -> Self {
        crate::error::ApiError::internal(error)
    }
}
