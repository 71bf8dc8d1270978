//! Whether a URL's host is outside the network (SSRF). Classifies parsed addresses, never text.

use std::net::{Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// Top-level names that are private by use or reserved, so never a public service.
const PRIVATE_TLDS: &[&str] = &[
    "localhost",
    "local",
    "localdomain",
    "internal",
    "lan",
    "home",
    "corp",
    "intranet",
    "private",
    "test",
    "invalid",
    "example",
    "alt",
    "onion",
];

/// The host of a parsed URL is public. `file:` URLs and URLs without a host are not.
pub(super) fn is_public_url(url: &Url) -> bool {
    if url.scheme() == "file" {
        return false;
    }
    match url.host() {
        None => false,
        Some(Host::Ipv4(ip)) => is_public_ipv4(ip),
        Some(Host::Ipv6(ip)) => is_public_ipv6(ip),
        Some(Host::Domain(domain)) if is_special(url.scheme()) => is_public_domain(domain),
        // An opaque host (non-special scheme) is raw text: parse it as a special host would
        // be, so `redis://127.1/` is seen as 127.0.0.1. If it does not parse, it is not public.
        Some(Host::Domain(opaque)) => match Host::parse(opaque) {
            Ok(Host::Ipv4(ip)) => is_public_ipv4(ip),
            Ok(Host::Ipv6(ip)) => is_public_ipv6(ip),
            Ok(Host::Domain(domain)) => is_public_domain(&domain),
            Err(_) => false,
        },
    }
}

fn is_special(scheme: &str) -> bool {
    matches!(scheme, "http" | "https" | "ws" | "wss" | "ftp")
}

/// A DNS name that may be public: at least two labels, not `localhost` or a private-use or
/// special-use top-level name. ASCII case-insensitive; trailing dots ignored. Not resolved.
pub(super) fn is_public_domain(domain: &str) -> bool {
    let domain = domain.trim_end_matches('.');
    let Some((rest, tld)) = domain.rsplit_once('.') else {
        // Empty, or one label: resolved through search domains to an internal host.
        return false;
    };
    let home_arpa = tld.eq_ignore_ascii_case("arpa")
        && rest
            .rsplit('.')
            .next()
            .is_some_and(|l| l.eq_ignore_ascii_case("home"));
    !home_arpa && !PRIVATE_TLDS.iter().any(|t| t.eq_ignore_ascii_case(tld))
}

/// Globally routable unicast IPv4 (IANA special-purpose registry, RFC 6890 and successors).
pub(super) fn is_public_ipv4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let internal = a == 0 // "this network"
        || a == 10 // private
        || a == 127 // loopback
        || a >= 224 // multicast 224/4, reserved 240/4, broadcast
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 169 && b == 254) // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 192 && b == 168) // private
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // documentation
        || (a == 203 && b == 0 && c == 113); // documentation
    !internal
}

/// Globally routable unicast IPv6; addresses that carry an IPv4 address are judged by it.
pub(super) fn is_public_ipv6(ip: Ipv6Addr) -> bool {
    let seg = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_ipv4(v4); // ::ffff:a.b.c.d
    }
    if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_public_ipv4(embedded_ipv4(seg[6], seg[7])); // NAT64 well-known prefix
    }
    if seg[0] == 0x2002 {
        return is_public_ipv4(embedded_ipv4(seg[1], seg[2])); // 6to4
    }
    // Everything outside global unicast 2000::/3 is loopback, unspecified, IPv4-compatible,
    // unique local, link-local, multicast or reserved.
    let global_unicast = seg[0] & 0xe000 == 0x2000;
    let internal = match seg[0] {
        // IETF protocol assignments (Teredo, benchmarking, ORCHID); documentation
        0x2001 => seg[1] < 0x0200 || seg[1] == 0x0db8,
        0x3fff => seg[1] < 0x1000, // documentation (RFC 9637)
        _ => false,
    };
    global_unicast && !internal
}

fn embedded_ipv4(high: u16, low: u16) -> Ipv4Addr {
    Ipv4Addr::from((u32::from(high) << 16) | u32::from(low))
}

#[cfg(test)]
mod tests {
    use super::{is_public_domain, is_public_ipv4, is_public_ipv6};

    #[test]
    fn ipv4_ranges() {
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
        ] {
            assert!(is_public_ipv4(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "0.1.2.3",
            "172.16.0.0",
            "192.0.0.8",
            "192.88.99.1",
            "198.19.255.255",
        ] {
            assert!(!is_public_ipv4(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn ipv6_ranges() {
        for ip in [
            "2606:4700::1",
            "2a00:1450::1",
            "2001:4860::8888",
            "2001:200::1",
        ] {
            assert!(is_public_ipv6(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "::",
            "::1",
            "::ffff:0:7f00:1",
            "5f00::1",
            "4000::1",
            "3fff:fff::1",
        ] {
            assert!(!is_public_ipv6(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn domains() {
        assert!(is_public_domain("example.com"));
        assert!(is_public_domain("home.example.arpa"));
        for d in [
            "",
            ".",
            "com",
            "localhost",
            "a.localhost..",
            "x.home.arpa",
            "a.LAN",
        ] {
            assert!(!is_public_domain(d), "{d:?}");
        }
    }
}
