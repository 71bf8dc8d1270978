//! The allocation-free scanner for `http(s)://host.name[:port][/path][?query][#fragment]`.
//!
//! It answers only where the WHATWG parser is known to agree: a host of plain LDH labels is
//! left as is by IDNA (apart from lowercasing) and, since its last label starts with a letter,
//! is never read as an IPv4 address. Anything else returns `None` and goes to `Url::parse`.
//! The caller has already rejected whitespace and controls, and the parser never fails on the
//! path, query or fragment of a special URL once those are gone.

use super::{UrlPolicy, public};

/// RFC 1035 limits; longer names are left to the parser rather than judged here.
const MAX_LABEL: usize = 63;
const MAX_HOST: usize = 253;

/// `Some(answer)` where the scanner is sure, `None` to defer to the parser.
pub(super) fn check(s: &str, policy: &UrlPolicy) -> Option<bool> {
    let (scheme, rest) = split_scheme(s.as_bytes())?;
    if !policy.allows(scheme) {
        // Whatever the parser makes of the rest, the scheme is http(s) and not allowed.
        return Some(false);
    }
    let host_len = rest
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'.'))
        .unwrap_or(rest.len());
    let (host, after_host) = rest.split_at(host_len);
    if !is_plain_host(host) {
        return None;
    }
    let after_port = skip_port(after_host)?;
    if !matches!(after_port.first(), None | Some(b'/' | b'?' | b'#')) {
        // `@` (user info), `\`, `%` and the like: the parser decides.
        return None;
    }
    if policy.public {
        // All bytes of `host` are ASCII, so this cannot fail.
        let host = std::str::from_utf8(host).ok()?;
        return Some(public::is_public_domain(host));
    }
    Some(true)
}

/// `http://` or `https://` in any case, and the bytes after it.
fn split_scheme(bytes: &[u8]) -> Option<(&'static str, &[u8])> {
    const HTTP: &[u8] = b"http://";
    const HTTPS: &[u8] = b"https://";
    if bytes.len() >= HTTPS.len() && bytes[..HTTPS.len()].eq_ignore_ascii_case(HTTPS) {
        Some(("https", &bytes[HTTPS.len()..]))
    } else if bytes.len() >= HTTP.len() && bytes[..HTTP.len()].eq_ignore_ascii_case(HTTP) {
        Some(("http", &bytes[HTTP.len()..]))
    } else {
        None
    }
}

/// Dot-separated LDH labels, no empty label (so no trailing dot), no `xn--` label, and a last
/// label that starts with a letter so WHATWG's "ends in a number" IPv4 rule cannot apply.
fn is_plain_host(host: &[u8]) -> bool {
    if host.is_empty() || host.len() > MAX_HOST {
        return false;
    }
    let last_starts_with_letter = host
        .rsplit(|&b| b == b'.')
        .next()
        .and_then(|label| label.first())
        .is_some_and(u8::is_ascii_alphabetic);
    last_starts_with_letter && host.split(|&b| b == b'.').all(is_plain_label)
}

fn is_plain_label(label: &[u8]) -> bool {
    match (label.first(), label.last()) {
        (Some(first), Some(last)) => {
            label.len() <= MAX_LABEL
                && first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && !(label.len() >= 4 && label[..4].eq_ignore_ascii_case(b"xn--"))
        }
        _ => false,
    }
}

/// Skips `:digits` (1 to 5 digits, at most 65535). `None` for anything else after a `:`
/// (an empty port, leading zeros past five digits): the parser decides those.
fn skip_port(bytes: &[u8]) -> Option<&[u8]> {
    let Some((b':', rest)) = bytes.split_first() else {
        return Some(bytes);
    };
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 5 {
        return None;
    }
    let port = rest[..digits]
        .iter()
        .fold(0u32, |n, &d| n * 10 + u32::from(d - b'0'));
    (port <= u32::from(u16::MAX)).then_some(&rest[digits..])
}
