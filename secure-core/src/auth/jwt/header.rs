//! The JOSE header check that runs before any cryptography (RFC 8725 §3.1, §3.10, §3.11).
//!
//! The header is decoded here with base64 and serde_json, strictly, so the rules are
//! explicit rather than whatever the JWT library tolerates:
//! * the segment is canonical unpadded base64url and at most [`MAX_HEADER_BYTES`] decoded;
//! * it is one JSON object with no duplicate member;
//! * only `alg`, `typ` and `kid` may appear: `jwk`, `jku`, `x5u`, `x5c` (keys or key URLs
//!   supplied by the sender, never fetched or trusted), `crit` (we implement no extension),
//!   `cty` (no nested tokens), `b64`, `zip`, `enc` and every other parameter are refused;
//! * `alg` equals the configured algorithm exactly (so `none`, `NONE`, `HS256` against an
//!   EdDSA key are all refused);
//! * `typ`, when present, is `JWT` or `at+jwt` (RFC 9068), ASCII case-insensitively, with or
//!   without the `application/` prefix;
//! * `kid` selects only among the configured keys, all of the pinned algorithm (the current
//!   one and, during a rotation, the previous ones): a `kid` none of them has is refused; a
//!   token without `kid` is checked against each (the one key, outside a rotation).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use serde::Deserialize;
use serde::de::Deserializer;

use super::TokenError;
use super::object::Text;

/// Largest decoded header accepted. Ours is about 50 bytes.
pub(super) const MAX_HEADER_BYTES: usize = 512;

/// The only header members we accept. `typ` and `kid` may be absent but not `null`. The
/// certificate thumbprints name a key of the provider's own set and are read only to be
/// refused in the service's own tokens (Entra ID sends `x5t` beside `kid`); never used.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JoseHeader<'a> {
    #[serde(borrow)]
    alg: Text<'a>,
    #[serde(borrow, default, deserialize_with = "present")]
    typ: Option<Text<'a>>,
    #[serde(borrow, default, deserialize_with = "present")]
    kid: Option<Text<'a>>,
    #[serde(borrow, default, deserialize_with = "present")]
    x5t: Option<Text<'a>>,
    #[serde(borrow, default, rename = "x5t#S256", deserialize_with = "present")]
    x5t_s256: Option<Text<'a>>,
}

/// Which header a token may have: the service's own (`alg`, `typ`, `kid`) or an outside
/// provider's, which may add a certificate thumbprint (`x5t`, `x5t#S256`), ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    not(feature = "oidc"),
    allow(dead_code, reason = "providers come with `oidc`")
)]
pub(crate) enum Origin {
    Own,
    Provider,
}

/// A member that is present must be a string: `"typ": null` is refused, not read as absent.
fn present<'de: 'a, 'a, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Text<'a>>, D::Error> {
    Text::deserialize(deserializer).map(Some)
}

/// Checks the first segment of a token against the pinned algorithm; `select` decides on its
/// `kid` (present or not) among the configured keys, all of that algorithm.
pub(super) fn check<R>(
    segment: &str,
    alg: &str,
    select: impl FnOnce(Option<&str>) -> Result<R, TokenError>,
) -> Result<R, TokenError> {
    inspect(segment, Origin::Own, |token_alg, kid| {
        if token_alg != alg {
            return Err(TokenError::Algorithm);
        }
        select(kid)
    })
}

/// Checks the first segment of a token (all but the algorithm) and gives its `alg` and `kid`
/// to `select`, which pins the algorithm and chooses the key.
pub(crate) fn inspect<R>(
    segment: &str,
    origin: Origin,
    select: impl FnOnce(&str, Option<&str>) -> Result<R, TokenError>,
) -> Result<R, TokenError> {
    // Room for MAX_HEADER_BYTES; the base64 decoder refuses anything that would not fit.
    let mut buf = [0u8; MAX_HEADER_BYTES + 3];
    if segment.len() > (MAX_HEADER_BYTES / 3 + 1) * 4 {
        return Err(TokenError::Malformed);
    }
    let len = URL_SAFE_NO_PAD
        .decode_slice(segment, &mut buf)
        .map_err(|_| TokenError::Malformed)?;
    let json = buf.get(..len).ok_or(TokenError::Malformed)?;
    let mut de = serde_json::Deserializer::from_slice(json);
    let header: JoseHeader<'_> = super::object::deserialize_object(&mut de)
        .and_then(|h| de.end().map(|()| h))
        .map_err(|e| match e.classify() {
            // Well-formed JSON that does not fit: an unknown or duplicate member, a wrong type.
            serde_json::error::Category::Data => TokenError::Header,
            _ => TokenError::Malformed,
        })?;
    if origin == Origin::Own && (header.x5t.is_some() || header.x5t_s256.is_some()) {
        return Err(TokenError::Header);
    }
    if let Some(Text(typ)) = &header.typ {
        let typ = strip_prefix_ignore_case(typ, "application/");
        if !(typ.eq_ignore_ascii_case("JWT") || typ.eq_ignore_ascii_case("at+jwt")) {
            return Err(TokenError::Header);
        }
    }
    select(&header.alg.0, header.kid.as_ref().map(|Text(kid)| &**kid))
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> &'a str {
    match s.get(..prefix.len()) {
        Some(head) if head.eq_ignore_ascii_case(prefix) => &s[prefix.len()..],
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    /// One configured key named `k1`: a token naming another is refused.
    fn only_k1(kid: Option<&str>) -> Result<(), TokenError> {
        match kid {
            None | Some("k1") => Ok(()),
            Some(_) => Err(TokenError::Header),
        }
    }

    fn any(_: Option<&str>) -> Result<(), TokenError> {
        Ok(())
    }

    #[test]
    fn accepts_the_allowed_shapes() {
        for h in [
            r#"{"alg":"HS256"}"#,
            r#"{"alg":"HS256","typ":"JWT"}"#,
            r#"{"typ":"at+jwt","alg":"HS256","kid":"k1"}"#,
            r#"{ "alg" : "HS256", "typ" : "application/AT+JWT" }"#,
            "{\"alg\":\"HS\\u0032\\u00356\"}",
        ] {
            assert_eq!(check(&enc(h), "HS256", only_k1), Ok(()), "{h}");
        }
    }

    #[test]
    fn refuses_everything_else() {
        let cases = [
            (r#"{"alg":"none"}"#, TokenError::Algorithm),
            (r#"{"alg":"nOnE"}"#, TokenError::Algorithm),
            (r#"{"alg":"hs256"}"#, TokenError::Algorithm),
            (r#"{"alg":"HS512"}"#, TokenError::Algorithm),
            (r#"{"alg":"HS256","alg":"none"}"#, TokenError::Header),
            (
                r#"{"alg":"HS256","jwk":{"kty":"oct","k":"AA"}}"#,
                TokenError::Header,
            ),
            (
                r#"{"alg":"HS256","jku":"https://evil.example/k"}"#,
                TokenError::Header,
            ),
            (
                r#"{"alg":"HS256","x5u":"https://evil.example/c"}"#,
                TokenError::Header,
            ),
            (r#"{"alg":"HS256","x5c":["MII"]}"#, TokenError::Header),
            (r#"{"alg":"HS256","x5t":"AA"}"#, TokenError::Header),
            (r#"{"alg":"HS256","x5t#S256":"AA"}"#, TokenError::Header),
            (
                r#"{"alg":"HS256","crit":["exp"],"exp":1}"#,
                TokenError::Header,
            ),
            (r#"{"alg":"HS256","b64":false}"#, TokenError::Header),
            (r#"{"alg":"HS256","typ":"JOSE"}"#, TokenError::Header),
            (r#"{"alg":"HS256","typ":"refresh+jwt"}"#, TokenError::Header),
            (r#"{"alg":"HS256","kid":"other"}"#, TokenError::Header),
            (r#"{"alg":"HS256","kid":7}"#, TokenError::Header),
            (r#"{"alg":["HS256"]}"#, TokenError::Header),
            (r#"{"alg":"HS256","typ":null}"#, TokenError::Header),
            (r#"{"alg":"HS256","kid":null}"#, TokenError::Header),
            (r#"{"alg":null}"#, TokenError::Header),
            (r#"{}"#, TokenError::Header),
            (r#"["HS256"]"#, TokenError::Header),
            (r#"{"alg":"HS256""#, TokenError::Malformed),
            (r#"{"alg":"HS256"} x"#, TokenError::Malformed),
        ];
        for (h, want) in cases {
            assert_eq!(check(&enc(h), "HS256", only_k1), Err(want), "{h}");
        }
    }

    #[test]
    fn refuses_bad_base64_and_oversized_headers() {
        let good = enc(r#"{"alg":"HS256"}"#);
        for bad in [
            format!("{good}="),
            format!(" {good}"),
            good.replace('e', "+"),
            String::new(),
            enc(&format!(r#"{{"alg":"HS256","kid":"{}"}}"#, "k".repeat(600))),
        ] {
            assert_eq!(
                check(&bad, "HS256", any),
                Err(TokenError::Malformed),
                "{bad}"
            );
        }
        // Non-canonical trailing bits: a 16-byte header leaves 4 unused bits in its last char.
        let mut noncanonical = enc(r#"{"alg":"HS256" }"#);
        let last = noncanonical.pop().unwrap();
        noncanonical.push(if last == 'Q' { 'R' } else { 'Q' });
        assert!(check(&noncanonical, "HS256", any).is_err());
    }
}
