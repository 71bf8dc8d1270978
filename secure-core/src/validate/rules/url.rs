//! Absolute URLs with an allowlisted scheme, optionally limited to public hosts (SSRF).
//!
//! The `url` crate (the WHATWG URL parser) is the authority. A hand-written scanner answers
//! the common canonical shapes without allocating (`fast`); whatever it is not sure about
//! goes to `Url::parse`. `public` classifies the host the parser produced (`public`).

mod fast;
mod public;

use ::url::Url;

/// Which URLs [`url()`](fn@url) accepts.
///
/// ```
/// use secure_core::validate::rules::{UrlPolicy, url};
///
/// const WEBHOOK: UrlPolicy = UrlPolicy { schemes: &["https"], public: true };
/// assert!(url("https://hooks.example.com/in", &WEBHOOK));
/// assert!(!url("http://hooks.example.com/in", &WEBHOOK));
/// assert!(!url("https://169.254.169.254/latest/meta-data/", &WEBHOOK));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct UrlPolicy {
    /// Allowed schemes, lowercase, without the `:` (`"https"`). Compared case-insensitively.
    pub schemes: &'static [&'static str],
    /// Reject hosts inside the network (loopback, private, link-local, ...): the `url(public)`
    /// rule. See [`url()`](fn@url) for what this covers and what it cannot.
    pub public: bool,
}

impl UrlPolicy {
    /// http and https, any host.
    pub const DEFAULT: UrlPolicy = UrlPolicy {
        schemes: &["http", "https"],
        public: false,
    };

    fn allows(&self, scheme: &str) -> bool {
        self.schemes.iter().any(|s| s.eq_ignore_ascii_case(scheme))
    }

    /// The allocation-free scanner's answer, `None` where it defers to the parser.
    /// Public only so that `secure-tests` can check it never disagrees with
    /// [`UrlPolicy::parsed_answer`]; not part of the API.
    #[doc(hidden)]
    pub fn fast_answer(&self, s: &str) -> Option<bool> {
        if !is_clean(s) {
            return Some(false);
        }
        fast::check(s, self)
    }

    /// The answer from `Url::parse` alone, without the fast path. Not part of the API.
    #[doc(hidden)]
    pub fn parsed_answer(&self, s: &str) -> bool {
        is_clean(s) && check_parsed(s, self)
    }
}

/// Whether `s` is an absolute URL whose scheme `policy` allows (and, with `policy.public`,
/// whose host is outside the network).
///
/// # What it accepts
/// An absolute URL as the [WHATWG URL standard][whatwg] parses it (the `url` crate), whose
/// scheme is in `policy.schemes` (default `http`, `https`; compared case-insensitively, so
/// `HTTPS://` is fine and `JaVaScRiPt:` is still rejected). `javascript:`, `data:`,
/// `vbscript:`, `file:` and every other scheme are rejected unless listed. The special schemes
/// (`http`, `https`, `ws`, `wss`, `ftp`) must have a non-empty host. Relative references
/// (`/path`, `//host/path`, `example.com`) are rejected.
///
/// Stricter than WHATWG: user info (`https://user:pass@host/`) is rejected. Credentials in a
/// URL end up in logs, histories and `Referer` headers (ASVS 8.3.1), and
/// `https://bank.example@evil.example/` is a classic way to make a link look like another host.
/// (An empty user info, `http://@host/`, is dropped by the parser and so accepted.)
///
/// Stricter than WHATWG: any ASCII whitespace (space, tab, LF, CR, FF) or control character
/// (C0, DEL, C1) anywhere in the input rejects it. The WHATWG parser silently removes tabs and
/// newlines and trims leading and trailing C0 controls and spaces, so `java\tscript:` or
/// `\u{0}javascript:` would otherwise parse as a `javascript:` URL, and a stored value would
/// differ from what was checked.
///
/// # `public`: server-side request forgery (OWASP API7, ASVS 12.6.1)
/// With `policy.public`, the host must also be outside the network. The check classifies the
/// host the WHATWG parser produced, not the text, so every spelling of an address is caught:
/// `127.1`, `2130706433`, `0x7f.0.0.1`, `017700000001`, `127.0.0.1.`, `[::ffff:7f00:1]`. Rejected:
/// - IPv4: 0.0.0.0/8, loopback 127/8, private 10/8, 172.16/12, 192.168/16, shared (CGNAT)
///   100.64/10, link-local 169.254/16 (cloud metadata), 192.0.0/24, documentation
///   192.0.2/24, 198.51.100/24, 203.0.113/24, 6to4 relay 192.88.99/24, benchmarking 198.18/15,
///   multicast 224/4, reserved 240/4 and broadcast;
/// - IPv6: everything outside global unicast 2000::/3 (so `::`, `::1`, IPv4-compatible `::/96`,
///   unique local fc00::/7, link-local fe80::/10, site-local fec0::/10, multicast ff00::/8,
///   discard 100::/64, local NAT64 64:ff9b:1::/48), plus 2001::/23 (Teredo, benchmarking,
///   ORCHID), documentation 2001:db8::/32 and 3fff::/20; the IPv4 inside IPv4-mapped
///   `::ffff:0:0/96`, NAT64 `64:ff9b::/96` and 6to4 `2002::/16` addresses is classified as above;
/// - names: `localhost` and `*.localhost` in any case, with or without trailing dots;
///   single-label names (`http://intranet/`, `http://metadata/`), which resolve through
///   search domains to internal hosts; names under `home.arpa` or the private-use and
///   special-use top-level names `local`, `localdomain`, `internal`, `lan`, `home`, `corp`,
///   `intranet`, `private`, `test`, `invalid`, `example`, `alt`, `onion`;
/// - URLs without a host (`mailto:`, `file:///`) and every `file:` URL, which is local access.
///
/// **DNS names are not resolved.** A public-looking name can still point inside the network:
/// a record that resolves to a private address (`127.0.0.1.nip.io`, an attacker's own zone),
/// or DNS rebinding, where the name resolves to a public address when checked and to a
/// private one when fetched. This rule cannot close that; the fix is to resolve and check the
/// address at connect time, in the HTTP client's resolver or connector (and to disable
/// redirects, or check each hop the same way).
///
/// # Allocation
/// `http(s)://` URLs with a plain ASCII host name (letters, digits, hyphens; no `xn--` label;
/// the last label starting with a letter), an optional port, and any path, query and fragment
/// are checked by a scanner that does not allocate. Everything else (IP literals, user info,
/// IDN, percent-escapes in the host, other schemes) goes through `Url::parse`, which allocates.
///
/// ```
/// use secure_core::validate::rules::{UrlPolicy, url};
///
/// assert!(url("https://example.com/path?q=1", &UrlPolicy::DEFAULT));
/// assert!(!url("javascript:alert(1)", &UrlPolicy::DEFAULT));
/// assert!(!url("java\tscript:alert(1)", &UrlPolicy::DEFAULT));
/// assert!(!url("/relative/path", &UrlPolicy::DEFAULT));
///
/// let public = UrlPolicy { public: true, ..UrlPolicy::DEFAULT };
/// assert!(url("https://example.com/", &public));
/// assert!(!url("http://127.1/", &public));
/// assert!(!url("http://[::ffff:7f00:1]/", &public));
/// assert!(!url("http://LOCALHOST./", &public));
/// ```
///
/// [whatwg]: https://url.spec.whatwg.org/
pub fn url(s: &str, policy: &UrlPolicy) -> bool {
    match policy.fast_answer(s) {
        Some(answer) => answer,
        None => check_parsed(s, policy),
    }
}

/// Non-empty, and no ASCII whitespace or control character the WHATWG parser would strip.
fn is_clean(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(|c| c == ' ' || c.is_control())
}

/// The slow path: the WHATWG parser decides, then scheme, host and `public` are checked.
fn check_parsed(s: &str, policy: &UrlPolicy) -> bool {
    let Ok(parsed) = Url::parse(s) else {
        return false;
    };
    let scheme = parsed.scheme();
    if !policy.allows(scheme) {
        return false;
    }
    let needs_host = matches!(scheme, "http" | "https" | "ws" | "wss" | "ftp");
    if needs_host && parsed.host_str().is_none_or(str::is_empty) {
        return false;
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return false;
    }
    !policy.public || public::is_public_url(&parsed)
}

#[cfg(test)]
mod tests {
    use super::{UrlPolicy, url};

    const PUBLIC: UrlPolicy = UrlPolicy {
        schemes: &["http", "https"],
        public: true,
    };

    fn both_paths(s: &str, policy: &UrlPolicy) -> bool {
        let parsed = policy.parsed_answer(s);
        if let Some(fast) = policy.fast_answer(s) {
            assert_eq!(fast, parsed, "fast path disagrees on {s:?}");
        }
        assert_eq!(url(s, policy), parsed);
        parsed
    }

    #[test]
    fn accepts_http_and_https() {
        for s in [
            "https://example.com/path?q=1",
            "http://example.com",
            "HTTPS://EXAMPLE.COM/",
            "https://example.com:8443/a/b?c=d&e#frag",
            "https://a.b.c.example.co.uk/%20x?y=%ZZ#%",
            "http://127.0.0.1:8080/",
            "http://[::1]/",
            "https://xn--mnchen-3ya.de/",
            "https://münchen.de/",
            "http://localhost:3000/",
            "http://intranet/",
            "https://example.com:/",
        ] {
            assert!(both_paths(s, &UrlPolicy::DEFAULT), "{s:?}");
        }
    }

    #[test]
    fn common_shapes_take_the_fast_path() {
        for s in [
            "https://example.com/path?q=1",
            "http://example.com",
            "https://api.example.com:8443/v1/items/42?expand=true#top",
            "https://EXAMPLE.com/ünïcode/päth?q=%20",
            "https://my-host.example.org?x",
            "https://example.com#x",
        ] {
            assert_eq!(UrlPolicy::DEFAULT.fast_answer(s), Some(true), "{s:?}");
            assert_eq!(PUBLIC.fast_answer(s), Some(true), "{s:?}");
        }
    }

    #[test]
    fn rejects_other_schemes_and_relative_references() {
        for s in [
            "",
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox(1)",
            "file:///etc/passwd",
            "ftp://example.com/",
            "mailto:a@example.com",
            "//example.com/",
            "/path",
            "example.com",
            "http:",
            "http://",
            "http:///",
            "https://exa mple.com/",
            "https://example.com:99999/",
            "http://300.0.0.1/",
            "http://[::1/",
        ] {
            assert!(!both_paths(s, &UrlPolicy::DEFAULT), "{s:?}");
        }
    }

    #[test]
    fn rejects_whitespace_and_controls_the_parser_would_strip() {
        for s in [
            "java\tscript:alert(1)",
            "java\nscript:alert(1)",
            "\0javascript:alert(1)",
            " https://example.com/",
            "https://example.com/ ",
            "https://exa\tmple.com/",
            "https://example.com/\r\n",
            "https://example.com/\u{85}",
            "https://example.com/\x7f",
            "https://example.com/\x0c",
        ] {
            assert!(!both_paths(s, &UrlPolicy::DEFAULT), "{s:?}");
        }
    }

    #[test]
    fn policy_schemes_are_case_insensitive_allowlists() {
        let ftp = UrlPolicy {
            schemes: &["ftp"],
            public: false,
        };
        assert!(both_paths("FTP://example.com/", &ftp));
        assert!(!both_paths("https://example.com/", &ftp));
        let upper = UrlPolicy {
            schemes: &["HTTPS"],
            public: false,
        };
        assert!(both_paths("https://example.com/", &upper));
    }

    #[test]
    fn public_rejects_every_spelling_of_internal_hosts() {
        for s in [
            "http://127.0.0.1/",
            "http://127.1/",
            "http://127.0.1/",
            "http://2130706433/",
            "http://0x7f.0.0.1/",
            "http://0x7f000001/",
            "http://017700000001/",
            "http://0177.0.0.1/",
            "http://127.0.0.1./",
            "http://127.000.000.001/",
            "http://%31%32%37.0.0.1/",
            "http://１２７.０.０.１/",
            "http://0/",
            "http://0.0.0.0/",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://172.31.255.255/",
            "http://192.168.1.1/",
            "http://100.64.0.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://192.0.2.1/",
            "http://198.18.0.1/",
            "http://198.51.100.1/",
            "http://203.0.113.1/",
            "http://224.0.0.1/",
            "http://240.0.0.1/",
            "http://255.255.255.255/",
            "http://[::1]/",
            "http://[::]/",
            "http://[0:0:0:0:0:0:0:1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[::ffff:10.0.0.1]/",
            "http://[::127.0.0.1]/",
            "http://[::8.8.8.8]/",
            "http://[64:ff9b::7f00:1]/",
            "http://[64:ff9b::10.0.0.1]/",
            "http://[64:ff9b:1::1]/",
            "http://[2002:7f00:1::]/",
            "http://[2002:c0a8:101::1]/",
            "http://[fc00::1]/",
            "http://[fd12:3456::1]/",
            "http://[fe80::1]/",
            "http://[fec0::1]/",
            "http://[ff02::1]/",
            "http://[2001:db8::1]/",
            "http://[2001::1]/",
            "http://[3fff::1]/",
            "http://[100::1]/",
            "http://localhost/",
            "http://LOCALHOST/",
            "http://localhost./",
            "http://localhost../",
            "http://foo.localhost/",
            "http://FOO.LocalHost./",
            "http://ｌｏｃａｌｈｏｓｔ/",
            "http://intranet/",
            "http://metadata/",
            "http://metadata.google.internal/",
            "http://printer.local/",
            "http://router.home.arpa/",
            "http://nas.lan/",
            "https://my.localhost.example/x",
        ] {
            assert!(both_paths(s, &UrlPolicy::DEFAULT), "valid URL {s:?}");
            assert!(!both_paths(s, &PUBLIC), "public {s:?}");
        }
    }

    #[test]
    fn rejects_user_info() {
        for s in [
            "https://user:pass@example.com/",
            "https://user@example.com/",
            "https://:pass@example.com/",
            "http://example.com@127.0.0.1/",
            "https://bank.example@evil.example/",
        ] {
            assert!(!both_paths(s, &UrlPolicy::DEFAULT), "{s:?}");
            assert!(!both_paths(s, &PUBLIC), "{s:?}");
        }
        // The parser drops an empty user info: nothing is hidden in front of the host.
        assert!(both_paths("http://@example.com/", &UrlPolicy::DEFAULT));
    }

    #[test]
    fn public_accepts_public_hosts() {
        for s in [
            "https://example.com/path?q=1",
            "https://8.8.8.8/",
            "https://1.1.1.1:443/",
            "http://100.63.255.255/",
            "http://100.128.0.1/",
            "http://172.32.0.1/",
            "http://[2606:4700:4700::1111]/",
            "http://[::ffff:8.8.8.8]/",
            "http://[64:ff9b::808:808]/",
            "http://[2002:808:808::1]/",
            "https://localhost.example.com/",
            "https://münchen.de/",
        ] {
            assert!(both_paths(s, &PUBLIC), "{s:?}");
        }
    }

    #[test]
    fn public_checks_opaque_hosts_of_other_schemes() {
        let redis = UrlPolicy {
            schemes: &["redis", "mailto", "file"],
            public: true,
        };
        assert!(both_paths("redis://cache.example.com:6379/0", &redis));
        for s in [
            "redis://127.1:6379/0",
            "redis://localhost/",
            "redis://%6c%6f%63%61%6c%68%6f%73%74/",
            "redis://[::1]/",
            "mailto:a@example.com",
            "file:///etc/passwd",
            "file://server.example.com/share",
        ] {
            assert!(!both_paths(s, &redis), "{s:?}");
        }
    }
}
