//! A provider token's claims: read once from the payload object, each member at most once
//! (a duplicate is refused, as in the service's own tokens), the configured role claim kept
//! as JSON for its path to be walked.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::auth::jwt::claims::Audience;
use crate::auth::jwt::object::Text;

/// The members the rules read. `roles` is the value of the configured claim's first segment.
#[derive(Default)]
pub(super) struct ProviderClaims<'a> {
    pub(super) iss: Option<Text<'a>>,
    pub(super) sub: Option<String>,
    pub(super) aud: Option<Audience<'a>>,
    pub(super) exp: Option<i64>,
    pub(super) nbf: Option<i64>,
    pub(super) iat: Option<i64>,
    pub(super) auth_time: Option<i64>,
    pub(super) amr: Option<Vec<Text<'a>>>,
    pub(super) acr: Option<Text<'a>>,
    pub(super) scope: Option<Text<'a>>,
    pub(super) scp: Option<Scopes<'a>>,
    pub(super) roles: Option<serde_json::Value>,
}

/// `scp`: a space-separated string (Entra ID) or an array of strings (Okta).
pub(super) enum Scopes<'a> {
    Spaced(Text<'a>),
    List(Vec<Text<'a>>),
}

impl<'a> ProviderClaims<'a> {
    /// Parses the decoded payload: one JSON object, nothing after it. `role_claim` is the name
    /// of the top-level member the roles are under, if roles are configured.
    pub(super) fn from_json(
        json: &'a [u8],
        role_claim: Option<&str>,
    ) -> Result<Self, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_slice(json);
        let claims = de.deserialize_map(ClaimsVisitor { role_claim })?;
        de.end()?;
        Ok(claims)
    }

    /// The scopes of `scope` and `scp`, `None` when the token has neither.
    pub(super) fn scopes(&self) -> Option<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        let mut any = false;
        let mut add = |s: &str| {
            for one in s.split(' ').filter(|s| !s.is_empty()) {
                if !out.iter().any(|o| o == one) {
                    out.push(one.to_owned());
                }
            }
        };
        if let Some(Text(scope)) = &self.scope {
            any = true;
            add(scope);
        }
        match &self.scp {
            Some(Scopes::Spaced(Text(s))) => {
                any = true;
                add(s);
            }
            Some(Scopes::List(list)) => {
                any = true;
                for Text(s) in list {
                    add(s);
                }
            }
            None => {}
        }
        any.then_some(out)
    }
}

struct ClaimsVisitor<'r> {
    role_claim: Option<&'r str>,
}

impl<'de, 'r> Visitor<'de> for ClaimsVisitor<'r> {
    type Value = ProviderClaims<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of claims")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut c = ProviderClaims::default();
        while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
            fn once<'de, A: MapAccess<'de>, T: de::Deserialize<'de>>(
                slot: &mut Option<T>,
                map: &mut A,
                key: &str,
            ) -> Result<(), A::Error> {
                if slot.is_some() {
                    return Err(de::Error::custom(format_args!("duplicate claim {key}")));
                }
                *slot = Some(map.next_value()?);
                Ok(())
            }
            match &*key {
                k if Some(k) == self.role_claim => once(&mut c.roles, &mut map, k)?,
                "iss" => once(&mut c.iss, &mut map, "iss")?,
                "sub" => once(&mut c.sub, &mut map, "sub")?,
                "aud" => once(&mut c.aud, &mut map, "aud")?,
                "exp" => once(&mut c.exp, &mut map, "exp")?,
                "nbf" => once(&mut c.nbf, &mut map, "nbf")?,
                "iat" => once(&mut c.iat, &mut map, "iat")?,
                "auth_time" => once(&mut c.auth_time, &mut map, "auth_time")?,
                "amr" => once(&mut c.amr, &mut map, "amr")?,
                "acr" => once(&mut c.acr, &mut map, "acr")?,
                "scope" => once(&mut c.scope, &mut map, "scope")?,
                "scp" => once(&mut c.scp, &mut map, "scp")?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(c)
    }
}

impl<'de: 'a, 'a> de::Deserialize<'de> for Scopes<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScopesVisitor;
        impl<'de> Visitor<'de> for ScopesVisitor {
            type Value = Scopes<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Scopes::Spaced(Text(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Scopes::Spaced(Text(Cow::Owned(v.to_owned()))))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<Text<'de>>()? {
                    out.push(s);
                }
                Ok(Scopes::List(out))
            }
        }
        deserializer.deserialize_any(ScopesVisitor)
    }
}

/// The claims the rules read themselves: a role claim may not be one of them.
pub(super) const STANDARD: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "auth_time",
    "amr",
    "acr",
    "scope",
    "scp",
];

/// The strings at `path` (after its first segment) inside `value`: an array of strings, or
/// one space-separated string. Anything else is no roles.
pub(super) fn strings_at<'v>(value: &'v serde_json::Value, rest: &[String]) -> Vec<&'v str> {
    let mut at = value;
    for segment in rest {
        match at.get(segment) {
            Some(next) => at = next,
            None => return Vec::new(),
        }
    }
    match at {
        serde_json::Value::String(s) => s.split(' ').filter(|s| !s.is_empty()).collect(),
        serde_json::Value::Array(items) => items.iter().filter_map(|v| v.as_str()).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_claim_once() {
        let json = br#"{"iss":"https://id.example","sub":"u1","aud":["a","b"],"exp":10,
            "realm_access":{"roles":["admin","offline_access"]},"scp":["notes:read"],"x":[1]}"#;
        let c = ProviderClaims::from_json(json, Some("realm_access")).unwrap();
        assert_eq!(c.sub.as_deref(), Some("u1"));
        assert!(c.aud.unwrap().contains("b"));
        let rest = ["roles".to_owned()];
        assert_eq!(
            strings_at(c.roles.as_ref().unwrap(), &rest),
            ["admin", "offline_access"]
        );
        let dup = br#"{"sub":"u1","sub":"admin"}"#;
        assert!(ProviderClaims::from_json(dup, None).is_err());
        let dup_roles = br#"{"roles":["a"],"roles":["admin"]}"#;
        assert!(ProviderClaims::from_json(dup_roles, Some("roles")).is_err());
        assert!(ProviderClaims::from_json(br#"["sub"]"#, None).is_err());
        assert!(ProviderClaims::from_json(br#"{"exp":"10"}"#, None).is_err());
    }

    #[test]
    fn scopes_from_scope_and_scp() {
        let c = ProviderClaims::from_json(br#"{"scope":"openid notes:read"}"#, None).unwrap();
        assert_eq!(c.scopes().unwrap(), ["openid", "notes:read"]);
        let c = ProviderClaims::from_json(br#"{"scp":"a  b"}"#, None).unwrap();
        assert_eq!(c.scopes().unwrap(), ["a", "b"]);
        let c = ProviderClaims::from_json(br#"{"sub":"x"}"#, None).unwrap();
        assert!(c.scopes().is_none());
    }
}
