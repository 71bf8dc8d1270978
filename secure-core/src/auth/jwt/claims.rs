//! The claims of an access token, as issued and as verified.

use serde::{Deserialize, Deserializer, Serialize};

use crate::auth::Amr;

/// The verified claims of an access token, as [`AccessTokens::verify`] returns them.
///
/// `iss`, `aud`, `exp` and `nbf` have already been checked against the configuration and the
/// clock when you hold one of these; `aud` is not kept (it is the configured audience).
///
/// | claim | meaning |
/// | --- | --- |
/// | `sub` | the user id |
/// | `roles` | role wire names (see [`Role`](crate::auth::Role)); not checked here, the [`Principal`](crate::auth::Principal) extractor rejects unknown ones |
/// | `amr` | how the user authenticated: `pwd`, `otp` (RFC 8176) |
/// | `auth_time` | when the user last authenticated (Unix seconds), for step-up checks |
/// | `sid` | the id of the session the token was issued from, if any: an identifier, never a cookie's secret value |
/// | `jti` | a random 128-bit token id, for revocation lists and audit |
///
/// [`AccessTokens::verify`]: super::AccessTokens::verify
///
/// ```
/// use secure_core::SecretBox;
/// use secure_core::auth::Identity;
/// use secure_core::auth::jwt::{AccessTokenKey, AccessTokens};
///
/// let key = AccessTokenKey::hs256(SecretBox::from(vec![42u8; 32])).unwrap();
/// let tokens = AccessTokens::builder(key, "https://auth.example", "notes-api").build().unwrap();
/// let token = tokens.issue(&Identity::new("user-1", 1_700_000_000)).unwrap();
/// let claims = tokens.verify(&token).unwrap();
/// assert_eq!(claims.sub, "user-1");
/// assert_eq!(claims.exp - claims.iat, 15 * 60);
/// assert_eq!(claims.jti.len(), 22); // 128 bits, base64url
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct AccessClaims {
    /// Issuer (checked equal to the configured one).
    pub iss: String,
    /// Subject: the user id.
    pub sub: String,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// Not before, Unix seconds (optional in a token; ours always have it).
    #[serde(default)]
    pub nbf: Option<i64>,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Token id.
    pub jti: String,
    /// Role wire names.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Authentication methods.
    #[serde(default)]
    pub amr: Vec<Amr>,
    /// Time of the user's authentication, Unix seconds.
    pub auth_time: i64,
    /// Session id, when the token was issued from a session.
    #[serde(default)]
    pub sid: Option<String>,
}

/// Only a JSON object is a claims set: serde's derive alone would also read an array.
impl<'de> Deserialize<'de> for AccessClaims {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        super::object::deserialize_object::<_, Wire>(deserializer).map(|w| w.0)
    }
}

/// The derived (remote) deserialiser, behind a newtype so it can be called on a map.
struct Wire(AccessClaims);

impl<'de> Deserialize<'de> for Wire {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        AccessClaims::deserialize(deserializer).map(Wire)
    }
}

/// What [`AccessTokens::issue`](super::AccessTokens::issue) signs.
#[derive(Serialize)]
pub(super) struct IssuedClaims<'a> {
    pub(super) iss: &'a str,
    pub(super) sub: &'a str,
    pub(super) aud: &'a str,
    pub(super) exp: i64,
    pub(super) nbf: i64,
    pub(super) iat: i64,
    pub(super) jti: &'a str,
    pub(super) roles: &'a [String],
    pub(super) amr: &'a [Amr],
    pub(super) auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) sid: Option<&'a str>,
}
