//! The claims of an access token, as issued and as verified.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::object::Text;
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
/// strings, RFC 7519 §4.1.3). Read from a JSON object only. The claims only compared (`iss`,
/// `aud`, `jti`) borrow from the decoded payload: verifying a token on every request need not
/// copy them.
#[derive(Deserialize)]
pub(super) struct WireClaims<'a> {
    #[serde(borrow)]
    pub(super) iss: Text<'a>,
    pub(super) sub: String,
    #[serde(borrow)]
    pub(super) aud: Audience<'a>,
    pub(super) exp: i64,
    #[serde(default)]
    pub(super) nbf: Option<i64>,
    pub(super) iat: i64,
    #[serde(borrow)]
    pub(super) jti: Text<'a>,
    #[serde(default)]
    pub(super) roles: Vec<String>,
    #[serde(default)]
    pub(super) amr: Vec<Amr>,
    pub(super) auth_time: i64,
    #[serde(default)]
    pub(super) sid: Option<String>,
}

impl<'a> WireClaims<'a> {
    /// Parses the decoded payload: one JSON object, nothing after it.
    pub(super) fn from_json(json: &'a [u8]) -> Result<Self, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_slice(json);
        let claims = super::object::deserialize_object(&mut de)?;
        de.end()?;
        Ok(claims)
    }

    pub(super) fn into_claims(self) -> AccessClaims {
        AccessClaims {
            iss: self.iss.0.into_owned(),
            sub: self.sub,
            exp: self.exp,
            nbf: self.nbf,
            iat: self.iat,
            jti: self.jti.0.into_owned(),
            roles: self.roles,
            amr: self.amr,
            auth_time: self.auth_time,
            sid: self.sid,
        }
    }

    /// The identity the claims carry, without the claims only compared.
    pub(super) fn into_identity(self) -> Identity {
        Identity {
            subject: self.sub,
            roles: self.roles,
            amr: self.amr,
            auth_time: self.auth_time,
            session_id: self.sid,
            // The service's own tokens are users': not scoped.
            scopes: None,
        }
    }
}

/// `aud`: `"aud"` or `["aud", ...]`, nothing else.
pub(crate) enum Audience<'a> {
    One(Text<'a>),
    Many(Vec<Text<'a>>),
}

impl Audience<'_> {
    pub(crate) fn contains(&self, audience: &str) -> bool {
        match self {
            Audience::One(one) => one.0 == audience,
            Audience::Many(many) => many.iter().any(|a| a.0 == audience),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Audience<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AudienceVisitor;
        impl<'de> Visitor<'de> for AudienceVisitor {
            type Value = Audience<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Audience::One(Text(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Audience::One(Text(Cow::Owned(v.to_owned()))))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(aud) = seq.next_element::<Text<'de>>()? {
                    out.push(aud);
                }
                Ok(Audience::Many(out))
            }
        }
        deserializer.deserialize_any(AudienceVisitor)
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

impl From<AccessClaims> for Identity {
    fn from(claims: AccessClaims) -> Self {
        Identity {
            subject: claims.sub,
            roles: claims.roles,
            amr: claims.amr,
            auth_time: claims.auth_time,
            session_id: claims.sid,
            // The service's own tokens are users': not scoped.
            scopes: None,
        }
    }
}
