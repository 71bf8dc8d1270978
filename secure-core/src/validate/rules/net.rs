//! IP address rules, on the standard library's strict parsers.
//!
//! `std::net` accepts only the canonical text forms, which is what an allowlist wants:
//! - IPv4 is exactly four decimal octets 0-255 with **no leading zeros** (`010.0.0.1` is
//!   rejected, since `inet_aton` would read it as octal 8.0.0.1 while other parsers read 10),
//!   and none of the `inet_aton` shorthands (`127.1`, `0x7f.0.0.1`, `2130706433`).
//! - IPv6 is RFC 4291 text (with `::` and an optional dotted IPv4 tail), without brackets,
//!   prefix lengths or zone identifiers (`fe80::1%eth0`: a zone names an interface of the
//!   host that reads it, so it means nothing to a server).
//!
//! No whitespace, no non-ASCII digits. None of these rules allocates.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether `s` is an IPv4 address (dotted decimal, no leading zeros) or an IPv6 address.
///
/// Any address is accepted, including loopback and private ones: this checks the form. To
/// keep callers away from internal hosts use `url(public)` on URLs, or check the parsed
/// address yourself.
///
/// Protects against: ambiguous spellings that different parsers read as different hosts.
///
/// ```
/// use secure_core::validate::rules::ip;
///
/// assert!(ip("192.0.2.1"));
/// assert!(ip("2001:db8::1"));
/// assert!(!ip("127.1"));
/// assert!(!ip("010.0.0.1"));
/// ```
pub fn ip(s: &str) -> bool {
    s.parse::<IpAddr>().is_ok()
}

/// Whether `s` is an IPv4 address in dotted-decimal form: four octets 0-255, no leading zeros.
///
/// Protects against: octal, hex and shorthand spellings (`0177.0.0.1`, `0x7f.1`, `127.1`)
/// that some parsers resolve to another host than the one a reader sees.
///
/// ```
/// use secure_core::validate::rules::ipv4;
///
/// assert!(ipv4("203.0.113.7"));
/// assert!(!ipv4("0x7f.0.0.1"));
/// assert!(!ipv4("::1"));
/// ```
pub fn ipv4(s: &str) -> bool {
    s.parse::<Ipv4Addr>().is_ok()
}

/// Whether `s` is an IPv6 address in RFC 4291 text form, without brackets or zone identifier.
///
/// Protects against: addresses smuggled with an interface zone, prefix or brackets.
///
/// ```
/// use secure_core::validate::rules::ipv6;
///
/// assert!(ipv6("2001:db8::1"));
/// assert!(ipv6("::ffff:192.0.2.1"));
/// assert!(!ipv6("[::1]"));
/// assert!(!ipv6("fe80::1%eth0"));
/// ```
pub fn ipv6(s: &str) -> bool {
    s.parse::<Ipv6Addr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::{ip, ipv4, ipv6};

    #[test]
    fn ipv4_is_strict_dotted_decimal() {
        for s in ["0.0.0.0", "1.2.3.4", "255.255.255.255", "10.20.30.40"] {
            assert!(ipv4(s) && ip(s), "{s:?}");
        }
        for s in [
            "",
            "256.0.0.0",
            "1.2.3",
            "127.1",
            "1.2.3.4.",
            "01.2.3.4",
            "1.2.3.04",
            "0x7f.0.0.1",
            "2130706433",
            " 1.2.3.4",
            "1.2.3.4\n",
            "1.2.3.4:80",
            "1.2.3.4/24",
            "١.2.3.4",
            "::1",
        ] {
            assert!(!ipv4(s), "{s:?}");
        }
    }

    #[test]
    fn ipv6_is_rfc_4291_text() {
        for s in [
            "::",
            "::1",
            "2001:db8::1",
            "::ffff:192.0.2.1",
            "1:2:3:4:5:6:7:8",
        ] {
            assert!(ipv6(s) && ip(s), "{s:?}");
        }
        for s in [
            "",
            "[::1]",
            "fe80::1%eth0",
            "fe80::/64",
            "1::2::3",
            "12345::",
            "::ffff:192.0.2.01",
            "::1 ",
            "1.2.3.4",
        ] {
            assert!(!ipv6(s), "{s:?}");
        }
    }
}
