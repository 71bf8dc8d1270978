//! The session cookie: `__Host-session=<id>; HttpOnly; SameSite=Strict; Secure; Path=/`.
//!
//! - `__Host-` prefix: the browser accepts the cookie only with `Secure`, `Path=/` and no
//!   `Domain`, so a sibling subdomain cannot set or overwrite it (cookie tossing, session
//!   fixation; ASVS 3.4.4).
//! - `Secure` (ASVS 3.4.1), `HttpOnly`: no script can read the id (ASVS 3.4.2),
//!   `SameSite=Strict`: the browser does not send it on cross-site requests (ASVS 3.4.3).
//! - No `Max-Age`/`Expires`: a browser-session cookie; the server enforces the idle and
//!   absolute timeouts whatever the browser keeps.

use std::fmt;

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponseParts, ResponseParts};
use cookie::{Cookie, SameSite};

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "__Host-session";

/// A `Set-Cookie` header for the session cookie: the new id after a login or renewal, or
/// the removal at logout. Its `Debug` hides the value (it holds the session id).
///
/// Return it from a handler as a response part: `(cookie, Json(body))`.
#[derive(Clone)]
pub struct SessionCookie(HeaderValue);

impl SessionCookie {
    /// The cookie carrying `id` (43 base64url characters, always a valid header value; were
    /// it not, the answer would clear the cookie instead, failing closed).
    pub(crate) fn set(id: &str) -> Self {
        let cookie = base(id).build();
        HeaderValue::try_from(cookie.to_string())
            .map(SessionCookie)
            .unwrap_or_else(|_| SessionCookie::clear())
    }

    /// The removal: empty value, `Max-Age=0`, an `Expires` in the past, same attributes.
    pub(crate) fn clear() -> Self {
        let mut cookie = base("").build();
        cookie.make_removal();
        // Always ASCII: fixed name and attributes, a formatted date.
        SessionCookie(
            HeaderValue::try_from(cookie.to_string())
                .unwrap_or_else(|_| HeaderValue::from_static(CLEAR_FALLBACK)),
        )
    }

    /// The `Set-Cookie` header value. It holds the session id: do not log it.
    pub fn header_value(&self) -> &HeaderValue {
        &self.0
    }
}

const CLEAR_FALLBACK: &str =
    "__Host-session=; HttpOnly; SameSite=Strict; Secure; Path=/; Max-Age=0";

fn base(value: &str) -> cookie::CookieBuilder<'_> {
    Cookie::build((SESSION_COOKIE, value))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(true)
        .path("/")
}

impl fmt::Debug for SessionCookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionCookie([REDACTED])")
    }
}

impl IntoResponseParts for SessionCookie {
    type Error = std::convert::Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        res.headers_mut().append(header::SET_COOKIE, self.0);
        Ok(res)
    }
}

/// What the request's `Cookie` headers say about the session cookie.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Presented<'a> {
    /// No session cookie (or an empty one, as left by a logout).
    Absent,
    /// Exactly one non-empty session cookie.
    One(&'a str),
    /// Several session cookies, or a `Cookie` header that is not text: refused, since only
    /// an attacker-influenced browser state produces them for a `__Host-` cookie.
    Ambiguous,
}

/// Finds the session cookie in every `Cookie` header. Never panics, whatever the input.
pub(crate) fn presented(headers: &HeaderMap) -> Presented<'_> {
    let mut found = None;
    for value in headers.get_all(header::COOKIE) {
        let Ok(text) = value.to_str() else {
            return Presented::Ambiguous;
        };
        for pair in text.split(';') {
            // Cookie::parse trims and splits at the first '='; a pair without '=' is an error.
            let Ok(c) = Cookie::parse(pair) else { continue };
            if c.name() != SESSION_COOKIE || c.value().is_empty() {
                continue;
            }
            if found.is_some() {
                return Presented::Ambiguous;
            }
            // Borrowed from the header text (always `Some` for a cookie parsed from a `&str`).
            found = c.value_raw();
            if found.is_none() {
                return Presented::Ambiguous;
            }
        }
    }
    match found {
        Some(v) => Presented::One(v),
        None => Presented::Absent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&[u8]]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::COOKIE, HeaderValue::from_bytes(v).unwrap());
        }
        h
    }

    #[test]
    fn set_and_clear_attributes() {
        let set = SessionCookie::set("abc");
        assert_eq!(
            set.header_value(),
            "__Host-session=abc; HttpOnly; SameSite=Strict; Secure; Path=/"
        );
        let clear = SessionCookie::clear();
        let text = clear.header_value().to_str().unwrap();
        assert!(
            text.starts_with(
                "__Host-session=; HttpOnly; SameSite=Strict; Secure; Path=/; Max-Age=0; Expires="
            ),
            "{text}"
        );
        assert_eq!(format!("{set:?}"), "SessionCookie([REDACTED])");
    }

    #[test]
    fn finds_the_cookie() {
        assert_eq!(presented(&HeaderMap::new()), Presented::Absent);
        assert_eq!(presented(&headers(&[b"a=1; b=2"])), Presented::Absent);
        assert_eq!(
            presented(&headers(&[b"a=1; __Host-session=xyz; b=2"])),
            Presented::One("xyz")
        );
        assert_eq!(
            presented(&headers(&[b"a=1", b"__Host-session=xyz"])),
            Presented::One("xyz")
        );
        assert_eq!(
            presented(&headers(&[b"__Host-session="])),
            Presented::Absent
        );
        assert_eq!(
            presented(&headers(&[b"__Host-session=a; __Host-session=b"])),
            Presented::Ambiguous
        );
        assert_eq!(
            presented(&headers(&[b"__Host-session=a", b"__Host-session=a"])),
            Presented::Ambiguous
        );
        assert_eq!(presented(&headers(&[b"\xff\xfe=1"])), Presented::Ambiguous);
        // junk never panics
        for junk in [
            &b";;;"[..],
            b"=",
            b"==",
            b"__Host-session",
            b" ; = ; ",
            b"\"\"",
        ] {
            let _ = presented(&headers(&[junk]));
        }
    }
}
