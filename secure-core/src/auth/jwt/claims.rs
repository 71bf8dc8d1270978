//! The claims of an access token, as issued and as verified.

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::auth::identity::{Amr, Identity};

/// The verified claims of an access token, as [`AccessTokens::verify`] returns them.
///
/// `iss`, `aud`, `exp`, `nbf`, `iat` and `auth_time` have already been checked against the
/// configuration and the clock when you hold one of these; `aud` is not kept (it contains the
/// configured audience).
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
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccessClaims {
    /// Issuer (checked equal to the configured one).
    pub iss: String,
    /// Subject: the user id.
    pub sub: String,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// Not before, Unix seconds (optional in a token; ours always have it).
    pub nbf: Option<i64>,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Token id.
    pub jti: String,
    /// Role wire names.
    pub roles: Vec<String>,
    /// Authentication methods.
    pub amr: Vec<Amr>,
    /// Time of the user's authentication, Unix seconds.
    pub auth_time: i64,
    /// Session id, when the token was issued from a session.
    pub sid: Option<String>,
}

/// A claims set as it is on the wire: [`AccessClaims`] plus `aud` (a string or an array of
/// strings, RFC 7519 §4.1.3). Read from a JSON object only.
#[derive(Deserialize)]
pub(super) struct WireClaims {
    pub(super) iss: String,
    pub(super) sub: String,
    #[serde(deserialize_with = "audience")]
    pub(super) aud: Vec<String>,
    pub(super) exp: i64,
    #[serde(default)]
    pub(super) nbf: Option<i64>,
    pub(super) iat: i64,
    pub(super) jti: String,
    #[serde(default)]
    pub(super) roles: Vec<String>,
    #[serde(default)]
    pub(super) amr: Vec<Amr>,
    pub(super) auth_time: i64,
    #[serde(default)]
    pub(super) sid: Option<String>,
}

impl WireClaims {
    /// Parses the decoded payload: one JSON object, nothing after it.
    pub(super) fn from_json(json: &[u8]) -> Result<Self, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_slice(json);
        let claims = super::object::deserialize_object(&mut de)?;
        de.end()?;
        Ok(claims)
    }

    pub(super) fn into_claims(self) -> AccessClaims {
        AccessClaims {
            iss: self.iss,
            sub: self.sub,
            exp: self.exp,
            nbf: self.nbf,
            iat: self.iat,
            jti: self.jti,
            roles: self.roles,
            amr: self.amr,
            auth_time: self.auth_time,
            sid: self.sid,
        }
    }
}

/// `"aud"` or `["aud", ...]`, nothing else.
fn audience<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    struct AudienceVisitor;
    impl<'de> Visitor<'de> for AudienceVisitor {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or an array of strings")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(vec![v.to_owned()])
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(aud) = seq.next_element::<String>()? {
                out.push(aud);
            }
            Ok(out)
        }
    }
    deserializer.deserialize_any(AudienceVisitor)
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
