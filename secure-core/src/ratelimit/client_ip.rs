//! The client address a request counts under.
//!
//! The socket peer (`ConnectInfo<SocketAddr>`) is the only address a client cannot forge.
//! Behind a reverse proxy every request comes from the proxy, so the proxy's
//! `X-Forwarded-For` (or RFC 7239 `Forwarded`) header is read, but only when the peer is a
//! configured trusted proxy, and from the right: each trusted proxy appends the address it
//! saw, so the right-most hop that is not a trusted proxy is the client. The left-most entry
//! is whatever the client sent and is never used on its own. A hop that does not parse
//! (obfuscated, `unknown`, garbage) makes the whole header untrustworthy: the peer is used.
//!
//! IPv6 clients are grouped by prefix (/56 by default, the usual end-site assignment): one
//! host owns at least a /64 and could otherwise rotate through 2^64 addresses, each with a
//! fresh budget.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

use axum::http::HeaderMap;
use axum::http::header::FORWARDED;

/// An address range: `10.0.0.0/8`, `2001:db8::/32`, or one address (`192.0.2.7`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

/// A string that is not an address or an address range.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an IP address or CIDR range: {0:?}")]
pub struct InvalidCidr(pub String);

crate::error::debug_as_display!(InvalidCidr);

impl FromStr for Cidr {
    type Err = InvalidCidr;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidCidr(s.to_owned());
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s.trim(), None),
        };
        let addr = canonical(addr.parse::<IpAddr>().map_err(|_| invalid())?);
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(invalid)?,
            None => max,
        };
        Ok(Cidr {
            addr: mask(addr, prefix),
            prefix,
        })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl Cidr {
    /// Whether `ip` is in the range.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        ip.is_ipv4() == self.addr.is_ipv4() && mask(ip, self.prefix) == self.addr
    }
}

/// Which header the trusted proxies write.
///
/// Only one is read: a proxy that writes `X-Forwarded-For` passes a client's own `Forwarded`
/// header through untouched, so reading both would let the client choose its address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProxyHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (the de-facto standard).
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=192.0.2.60;proto=https, for="[2001:db8::1]:4711"`.
    Forwarded,
}

/// The proxies whose forwarding header is believed, and which header they write.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    ranges: Vec<Cidr>,
    header: ProxyHeader,
}

impl TrustedProxies {
    /// Trusts the given ranges, reading `header`.
    pub fn new(ranges: Vec<Cidr>, header: ProxyHeader) -> Self {
        TrustedProxies { ranges, header }
    }

    /// The trusted ranges.
    pub fn ranges(&self) -> &[Cidr] {
        &self.ranges
    }

    /// The header read.
    pub fn header(&self) -> ProxyHeader {
        self.header
    }

    /// Whether `ip` is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.ranges.iter().any(|r| r.contains(ip))
    }

    /// The client address of a request from `peer` carrying `headers`.
    pub fn client_ip(&self, headers: &HeaderMap, peer: IpAddr) -> IpAddr {
        let peer = canonical(peer);
        if self.ranges.is_empty() || !self.contains(peer) {
            return peer;
        }
        let (name, parse): (_, fn(&str) -> Option<IpAddr>) = match self.header {
            ProxyHeader::XForwardedFor => ("x-forwarded-for", xff_hop),
            ProxyHeader::Forwarded => (FORWARDED.as_str(), forwarded_hop),
        };
        let mut left_most = None;
        for value in headers.get_all(name).iter().rev() {
            let Ok(value) = value.to_str() else {
                return peer;
            };
            for hop in value.rsplit(',') {
                let Some(ip) = parse(hop.trim()).map(canonical) else {
                    return peer;
                };
                if !self.contains(ip) {
                    return ip;
                }
                left_most = Some(ip);
            }
        }
        // Every hop is a trusted proxy: the first of them is the closest thing to a client.
        left_most.unwrap_or(peer)
    }
}

/// One `X-Forwarded-For` hop: an address, or an address with a port.
fn xff_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// The `for=` node of one `Forwarded` element (RFC 7239 section 6).
fn forwarded_hop(element: &str) -> Option<IpAddr> {
    let node = element.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("for")
            .then_some(value.trim())
    })?;
    let node = node
        .strip_prefix('"')
        .and_then(|n| n.strip_suffix('"'))
        .unwrap_or(node);
    if let Some(rest) = node.strip_prefix('[') {
        let (v6, _port) = rest.split_once(']')?;
        return v6.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    match node.split_once(':') {
        Some((v4, _port)) => v4.parse::<Ipv4Addr>().ok().map(IpAddr::V4),
        None => node.parse::<Ipv4Addr>().ok().map(IpAddr::V4),
    }
}

/// IPv4-mapped IPv6 (`::ffff:192.0.2.1`, as a dual-stack socket reports IPv4 peers) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let kept = u32::MAX
                .checked_shl(32 - u32::from(prefix.min(32)))
                .unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(bits & kept))
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let kept = u128::MAX
                .checked_shl(128 - u32::from(prefix.min(128)))
                .unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(bits & kept))
        }
    }
}

/// The address a client counts under: IPv4 as is, IPv6 cut to its first `ipv6_prefix` bits.
pub fn group(ip: IpAddr, ipv6_prefix: u8) -> IpAddr {
    match canonical(ip) {
        v4 @ IpAddr::V4(_) => v4,
        v6 => mask(v6, ipv6_prefix),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn proxies(header: ProxyHeader) -> TrustedProxies {
        TrustedProxies::new(
            vec![
                "10.0.0.0/8".parse().unwrap(),
                "2001:db8:ffff::/48".parse().unwrap(),
            ],
            header,
        )
    }

    fn headers(name: &'static str, values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(name, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn cidr_parses_and_matches() {
        let c: Cidr = "10.1.2.3/8".parse().unwrap();
        assert_eq!(c.to_string(), "10.0.0.0/8");
        assert!(c.contains(ip("10.255.0.1")));
        assert!(c.contains(ip("::ffff:10.0.0.1")));
        assert!(!c.contains(ip("11.0.0.1")));
        let one: Cidr = "2001:db8::1".parse().unwrap();
        assert!(one.contains(ip("2001:db8::1")) && !one.contains(ip("2001:db8::2")));
        for bad in ["", "10.0.0.0/33", "::/129", "host", "10.0.0.0/x"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn xff_is_read_from_the_right_and_only_from_trusted_peers() {
        let t = proxies(ProxyHeader::XForwardedFor);
        let h = headers("x-forwarded-for", &["6.6.6.6, 1.2.3.4, 10.0.0.2"]);
        assert_eq!(t.client_ip(&h, ip("10.0.0.1")), ip("1.2.3.4"));
        assert_eq!(t.client_ip(&h, ip("8.8.8.8")), ip("8.8.8.8"));
        // Several header lines read as one list.
        let h = headers("x-forwarded-for", &["6.6.6.6", "1.2.3.4:5678, 10.0.0.2"]);
        assert_eq!(t.client_ip(&h, ip("10.0.0.1")), ip("1.2.3.4"));
        // Malformed hop before the client: the peer.
        let h = headers("x-forwarded-for", &["1.2.3.4, garbage"]);
        assert_eq!(t.client_ip(&h, ip("10.0.0.1")), ip("10.0.0.1"));
        // Every hop trusted: the left-most.
        let h = headers("x-forwarded-for", &["10.9.9.9, 10.0.0.2"]);
        assert_eq!(t.client_ip(&h, ip("10.0.0.1")), ip("10.9.9.9"));
        // The other header is ignored.
        let h = headers("forwarded", &["for=1.2.3.4"]);
        assert_eq!(t.client_ip(&h, ip("10.0.0.1")), ip("10.0.0.1"));
    }

    #[test]
    fn forwarded_nodes_parse() {
        let t = proxies(ProxyHeader::Forwarded);
        let h = headers(
            "forwarded",
            &[r#"for=6.6.6.6, For="[2001:db8:1::7]:4711";proto=https, for=10.0.0.3:80"#],
        );
        assert_eq!(t.client_ip(&h, ip("10.0.0.1")), ip("2001:db8:1::7"));
        let h = headers("forwarded", &["for=unknown"]);
        assert_eq!(t.client_ip(&h, ip("10.0.0.1")), ip("10.0.0.1"));
        let h = headers("forwarded", &["for=_hidden, for=10.0.0.4"]);
        assert_eq!(t.client_ip(&h, ip("10.0.0.1")), ip("10.0.0.1"));
    }

    #[test]
    fn ipv6_is_grouped_by_prefix() {
        assert_eq!(group(ip("2001:db8:1:2ff:1::1"), 56), ip("2001:db8:1:200::"));
        assert_eq!(group(ip("2001:db8:1:2ff::1"), 128), ip("2001:db8:1:2ff::1"));
        assert_eq!(group(ip("::ffff:192.0.2.1"), 56), ip("192.0.2.1"));
        assert_eq!(group(ip("192.0.2.1"), 0), ip("192.0.2.1"));
    }
}
