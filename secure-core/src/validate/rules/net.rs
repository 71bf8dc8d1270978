//! IP address rules.

/// Whether `s` is an IPv4 or IPv6 address.
pub fn ip(s: &str) -> bool {
    s.parse::<std::net::IpAddr>().is_ok()
}

/// Whether `s` is an IPv4 address in dotted-decimal form.
pub fn ipv4(s: &str) -> bool {
    s.parse::<std::net::Ipv4Addr>().is_ok()
}

/// Whether `s` is an IPv6 address.
pub fn ipv6(s: &str) -> bool {
    s.parse::<std::net::Ipv6Addr>().is_ok()
}
