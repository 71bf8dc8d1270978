//! CSRF protection for cookie-authenticated requests that change state (ASVS 4.2.2,
//! 3.5.3-era "anti-CSRF for cookie sessions"; OWASP CSRF Prevention Cheat Sheet).
//!
//! A browser attaches cookies to requests another site makes it send; a bearer token it does
//! not. So every request authenticated by the session cookie whose method is not safe
//! (anything but `GET`, `HEAD`, `OPTIONS`, `TRACE`) passes two checks:
//!
//! 1. **Fetch metadata.** `Sec-Fetch-Site` must be `same-origin` or `none` (a user-typed
//!    navigation), or absent (older browsers, non-browser clients: check 2 still applies).
//!    `cross-site` is refused, and so is `same-site`: a sibling subdomain is another origin
//!    and may be less trusted (the strict choice). Any other value is refused.
//! 2. **Signed double-submit token.** The `X-CSRF-Token` header must hold
//!    `base64url(HMAC-SHA256(key, "secure-csrf-v1" || 0x00 || session id))`, compared in
//!    constant time. Another site can neither read the session id (`HttpOnly`) nor the token
//!    (same-origin policy), nor compute one without the server key; the token of another
//!    session does not match, so a token leaked from one session is useless for another; a
//!    renewed session id gives a new token.
//!
//! The token is handed to the client in the login (and renew) response, and again by
//! [`SessionManager::csrf_token`](crate::session::SessionManager::csrf_token) for a page
//! that was reloaded. It is not stored anywhere: it is recomputed from the cookie.

use std::fmt;

use axum::http::{HeaderMap, Method};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::error::ConfigError;

/// The request header that carries the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Minimum length of the CSRF key, in bytes (the HMAC-SHA256 output size).
pub const MIN_KEY_BYTES: usize = 32;

const LABEL: &[u8] = b"secure-csrf-v1\0";

/// The server key CSRF tokens are signed with: at least 32 bytes, kept in a [`SecretSlice`]
/// (wiped on drop, never printed). Every instance of a service must share it.
///
/// ```
/// use secure_core::error::ConfigError;
/// use secure_core::session::CsrfKey;
///
/// assert!(CsrfKey::new(vec![7u8; 32]).is_ok());
/// assert_eq!(
///     CsrfKey::new(vec![7u8; 16]).unwrap_err(),
///     ConfigError::KeyTooShort { key: "CSRF", min: 32, got: 16 }
/// );
/// assert_eq!(format!("{:?}", CsrfKey::generate()), "CsrfKey([REDACTED])");
/// ```
pub struct CsrfKey {
    current: SecretSlice<u8>,
    /// The key before a rotation: its tokens (of sessions that began before) still pass.
    previous: Option<SecretSlice<u8>>,
}

impl CsrfKey {
    /// Uses `key` (32 bytes or more, from a secret store or the environment).
    pub fn new(key: impl Into<SecretSlice<u8>>) -> Result<Self, ConfigError> {
        let key = key.into();
        let got = key.expose_secret().len();
        if got < MIN_KEY_BYTES {
            return Err(ConfigError::KeyTooShort {
                key: "CSRF",
                min: MIN_KEY_BYTES,
                got,
            });
        }
        Ok(CsrfKey {
            current: key,
            previous: None,
        })
    }

    /// During a rotation: tokens made with `previous` (those of sessions that began before)
    /// are still accepted; new tokens are made with the current key.
    ///
    /// ```
    /// use secure_core::session::CsrfKey;
    ///
    /// assert!(CsrfKey::new(vec![7u8; 32]).unwrap().with_previous(vec![8u8; 32]).is_ok());
    /// assert!(CsrfKey::new(vec![7u8; 32]).unwrap().with_previous(vec![8u8; 8]).is_err());
    /// ```
    pub fn with_previous(self, previous: impl Into<SecretSlice<u8>>) -> Result<Self, ConfigError> {
        let previous = CsrfKey::new(previous)?;
        Ok(CsrfKey {
            current: self.current,
            previous: Some(previous.current),
        })
    }

    /// A random 32-byte key: for a single instance, where tokens need not survive a restart.
    pub fn generate() -> Self {
        use rand::Rng as _;
        let mut key = vec![0u8; MIN_KEY_BYTES];
        rand::rng().fill_bytes(&mut key);
        CsrfKey {
            current: SecretSlice::from(key),
            previous: None,
        }
    }

    fn mac(key: &SecretSlice<u8>, session_id: &str) -> [u8; 32] {
        // HMAC accepts keys of any length: the error branch cannot happen. Should it ever,
        // an all-zero tag is returned, and `verify` refuses it below.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.expose_secret()) else {
            return [0; 32];
        };
        mac.update(LABEL);
        mac.update(session_id.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The token for the session whose raw id is `session_id`.
    pub(crate) fn token(&self, session_id: &str) -> CsrfToken {
        CsrfToken(SecretString::from(
            URL_SAFE_NO_PAD.encode(Self::mac(&self.current, session_id)),
        ))
    }

    /// Whether `presented` is the token of `session_id`, in constant time.
    pub(crate) fn verify(&self, session_id: &str, presented: &[u8]) -> bool {
        let mut decoded = [0u8; 33];
        let Ok(32) = URL_SAFE_NO_PAD.decode_slice(presented, &mut decoded) else {
            return false;
        };
        let matches = |key: &SecretSlice<u8>| {
            let expected = Self::mac(key, session_id);
            let ok: bool = expected.ct_eq(&decoded[..32]).into();
            ok && expected != [0; 32]
        };
        matches(&self.current) || self.previous.as_ref().is_some_and(matches)
    }
}

impl fmt::Debug for CsrfKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CsrfKey([REDACTED])")
    }
}

/// The CSRF token of one session, for the client to send back in `X-CSRF-Token`. `Debug` is
/// redacted; read it (to put it in the login response) through [`ExposeSecret`].
#[derive(Clone)]
pub struct CsrfToken(SecretString);

impl ExposeSecret<str> for CsrfToken {
    fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for CsrfToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CsrfToken([REDACTED])")
    }
}

/// Whether `method` needs the CSRF check: every method but GET, HEAD, OPTIONS and TRACE
/// (RFC 9110 safe methods), including extension methods.
///
/// ```
/// use axum::http::Method;
/// use secure_core::session::needs_csrf_check;
///
/// assert!(!needs_csrf_check(&Method::GET));
/// assert!(needs_csrf_check(&Method::POST));
/// assert!(needs_csrf_check(&Method::from_bytes(b"PURGE").unwrap()));
/// ```
pub fn needs_csrf_check(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// Why a request failed the CSRF check (the audit reason code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CsrfFailure {
    CrossSite,
    MissingToken,
    BadToken,
}

impl CsrfFailure {
    pub(crate) fn reason(self) -> &'static str {
        match self {
            CsrfFailure::CrossSite => "cross_site_request",
            CsrfFailure::MissingToken => "csrf_token_missing",
            CsrfFailure::BadToken => "csrf_token_mismatch",
        }
    }
}

/// Both checks, for an unsafe request authenticated by the session `session_id`.
pub(crate) fn check(
    key: &CsrfKey,
    session_id: &str,
    headers: &HeaderMap,
) -> Result<(), CsrfFailure> {
    for site in headers.get_all("sec-fetch-site") {
        if !matches!(site.as_bytes(), b"same-origin" | b"none") {
            return Err(CsrfFailure::CrossSite);
        }
    }
    let mut tokens = headers.get_all(CSRF_HEADER).iter();
    let (Some(token), None) = (tokens.next(), tokens.next()) else {
        return Err(CsrfFailure::MissingToken);
    };
    if key.verify(session_id, token.as_bytes()) {
        Ok(())
    } else {
        Err(CsrfFailure::BadToken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn token_roundtrip_and_binding() {
        let key = CsrfKey::new(vec![1u8; 32]).unwrap();
        let t = key.token("session-a");
        assert_eq!(t.expose_secret().len(), 43);
        assert!(key.verify("session-a", t.expose_secret().as_bytes()));
        assert!(!key.verify("session-b", t.expose_secret().as_bytes()));
        let other = CsrfKey::new(vec![2u8; 32]).unwrap();
        assert!(!other.verify("session-a", t.expose_secret().as_bytes()));
        for junk in [&b""[..], b"x", &[0xff; 43], &[b'A'; 44], &[b'A'; 400]] {
            assert!(!key.verify("session-a", junk));
        }
    }

    #[test]
    fn fetch_metadata_policy() {
        let key = CsrfKey::new(vec![1u8; 32]).unwrap();
        let token = key.token("s");
        let mut h = HeaderMap::new();
        h.insert(
            CSRF_HEADER,
            HeaderValue::from_str(token.expose_secret()).unwrap(),
        );
        assert_eq!(check(&key, "s", &h), Ok(()));
        for (site, ok) in [
            ("same-origin", true),
            ("none", true),
            ("same-site", false),
            ("cross-site", false),
            ("Same-Origin", false),
            ("", false),
        ] {
            h.insert("sec-fetch-site", HeaderValue::from_str(site).unwrap());
            assert_eq!(check(&key, "s", &h).is_ok(), ok, "{site}");
        }
        h.remove("sec-fetch-site");
        h.append(CSRF_HEADER, HeaderValue::from_static("x"));
        assert_eq!(check(&key, "s", &h), Err(CsrfFailure::MissingToken));
    }
}
