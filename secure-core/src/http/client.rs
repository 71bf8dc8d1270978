//! Who is asking: the client address of a request, resolved once by the request context
//! ([`ClientAddresses`]) and read by the rate limits, the connection cap and the audit events
//! ([`ClientAddr`]).
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
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::ConnectInfo;
use axum::http::header::FORWARDED;
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap};
use axum::response::{IntoResponse, Response};

use crate::error::Problem;

/// The client of a request, as the request context resolved it: its address (the peer, or
/// a trusted proxy's hop; what the audit events log) and the key it counts under (IPv6 cut to
/// the configured prefix; what the limits and the connection cap count). Also an extractor,
/// for handlers that count on their own (a login's per-client limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr {
    ip: IpAddr,
    key: IpAddr,
}

impl ClientAddr {
    /// The client's address, or the unspecified address when the server gave no peer.
    pub fn ip(self) -> IpAddr {
        self.ip
    }

    /// The address the client counts under: IPv4 as it is, IPv6 cut to the prefix (one
    /// subscriber, one budget).
    pub fn key(self) -> IpAddr {
        self.key
    }

    /// Whether the server gave no peer address (every such request shares one key).
    pub fn is_unknown(self) -> bool {
        self.ip.is_unspecified()
    }

    const UNKNOWN: ClientAddr = ClientAddr {
        ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        key: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
    };

    /// The client the request context put in `extensions`; outside an assembled app, the
    /// unknown client (one shared key: stricter, never looser), logged once.
    pub(crate) fn of(extensions: &Extensions) -> ClientAddr {
        static WARNED: AtomicBool = AtomicBool::new(false);
        if let Some(client) = extensions.get::<ClientAddr>() {
            return *client;
        }
        if !WARNED.swap(true, Ordering::Relaxed) {
            tracing::error!(
                target: "secure::ratelimit",
                "a request without the request context's client address: every such client shares one rate limit"
            );
        }
        ClientAddr::UNKNOWN
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddr {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Response> {
        parts.extensions.get::<ClientAddr>().copied().ok_or_else(|| {
            // The request context sets it on every request of an assembled app.
            tracing::error!(target: "secure::ratelimit", "ClientAddr used outside an assembled SecureApp");
            Problem::internal().into_response()
        })
    }
}

/// How client addresses are found: which proxies are trusted, which header they write, and
/// how many bits of an IPv6 address name one client.
///
/// ```
/// use secure_core::http::client::ClientAddresses;
///
/// let clients = ClientAddresses::new()
///     .trust_proxies(["10.0.0.0/8", "2001:db8:ffff::/48"])?
///     .ipv6_prefix(56);
/// # drop(clients);
/// # Ok::<(), secure_core::http::client::InvalidCidr>(())
/// ```
#[derive(Debug)]
pub struct ClientAddresses {
    trusted: TrustedProxies,
    ipv6_prefix: u8,
    warned_no_peer: AtomicBool,
}

impl Default for ClientAddresses {
    fn default() -> Self {
        ClientAddresses::new()
    }
}

impl ClientAddresses {
    /// No trusted proxy; IPv6 grouped by /56.
    pub fn new() -> Self {
        ClientAddresses {
            trusted: TrustedProxies::default(),
            ipv6_prefix: 56,
            warned_no_peer: AtomicBool::new(false),
        }
    }

    /// Believes the forwarding header of peers in these ranges (`"10.0.0.0/8"`,
    /// `"192.0.2.7"`, `"2001:db8::/32"`). Only list your own reverse proxies. A range that
    /// does not parse is an error naming it (found at start-up, never a panic).
    pub fn trust_proxies<I, S>(self, ranges: I) -> Result<Self, InvalidCidr>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let ranges = ranges
            .into_iter()
            .map(|r| r.as_ref().parse::<Cidr>())
            .collect::<Result<_, _>>()?;
        Ok(self.trust_proxy_ranges(ranges))
    }

    /// Believes the forwarding header of peers in these ranges.
    pub fn trust_proxy_ranges(mut self, ranges: Vec<Cidr>) -> Self {
        self.trusted = TrustedProxies::new(ranges, self.trusted.header());
        self
    }

    /// Which header the trusted proxies write (`X-Forwarded-For` unless set).
    pub fn proxy_header(mut self, header: ProxyHeader) -> Self {
        self.trusted = TrustedProxies::new(self.trusted.ranges().to_vec(), header);
        self
    }

    /// How many leading bits of an IPv6 address name one client (56 unless set; 64 is the
    /// least that stops a host rotating through its own subnet; 128 counts each address).
    pub fn ipv6_prefix(mut self, bits: u8) -> Self {
        self.ipv6_prefix = bits.min(128);
        self
    }

    /// The client of a request: the peer, or the right-most untrusted hop of a trusted
    /// proxy's header. Without a peer (a server other than [`serve`](crate::serve::serve)),
    /// the unknown client, logged once.
    pub fn resolve(&self, headers: &HeaderMap, extensions: &Extensions) -> ClientAddr {
        let Some(ConnectInfo(peer)) = extensions.get::<ConnectInfo<SocketAddr>>() else {
            if !self.warned_no_peer.swap(true, Ordering::Relaxed) {
                tracing::error!(
                    target: "secure::ratelimit",
                    "no ConnectInfo<SocketAddr>: every client shares one rate limit; serve with secure_core::serve::serve"
                );
            }
            return ClientAddr::UNKNOWN;
        };
        let ip = self.trusted.client_ip(headers, peer.ip());
        ClientAddr {
            ip,
            key: group(ip, self.ipv6_prefix),
        }
    }

    /// The address a connection from `peer` counts under for the per-address connection
    /// cap (IPv6 cut to the prefix), or `None` for a trusted proxy, whose connections carry
    /// many clients.
    pub(crate) fn connection_key(&self, peer: IpAddr) -> Option<IpAddr> {
        (!self.trusted.contains(peer)).then(|| group(peer, self.ipv6_prefix))
    }
}

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
fn group(ip: IpAddr, ipv6_prefix: u8) -> IpAddr {
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

    fn request_from(peer: &str, xff: Option<&str>) -> (HeaderMap, Extensions) {
        let mut extensions = Extensions::new();
        extensions.insert(ConnectInfo(SocketAddr::new(ip(peer), 4711)));
        let headers = headers("x-forwarded-for", xff.as_slice());
        (headers, extensions)
    }

    #[test]
    fn a_client_is_resolved_once_with_its_address_and_its_key() {
        let clients = ClientAddresses::new()
            .trust_proxies(["10.0.0.0/8"])
            .unwrap()
            .ipv6_prefix(64);
        let (h, e) = request_from("10.0.0.1", Some("6.6.6.6, 2001:db8:1:2:3::9"));
        let client = clients.resolve(&h, &e);
        assert_eq!(client.ip(), ip("2001:db8:1:2:3::9"));
        assert_eq!(client.key(), ip("2001:db8:1:2::"));
        assert!(!client.is_unknown());
        // An untrusted peer's header is ignored.
        let (h, e) = request_from("192.0.2.1", Some("6.6.6.6"));
        assert_eq!(clients.resolve(&h, &e).ip(), ip("192.0.2.1"));
        // No peer: the unknown client, one shared key.
        let unknown = clients.resolve(&HeaderMap::new(), &Extensions::new());
        assert!(unknown.is_unknown());
        assert_eq!(unknown.key(), ip("0.0.0.0"));
        // What the request context stored is what the limits read.
        let mut stored = Extensions::new();
        stored.insert(client);
        assert_eq!(ClientAddr::of(&stored), client);
        assert!(ClientAddr::of(&Extensions::new()).is_unknown());
    }

    #[test]
    fn trusted_proxies_have_no_connection_key() {
        let clients = ClientAddresses::new()
            .trust_proxies(["10.0.0.0/8"])
            .unwrap();
        assert_eq!(clients.connection_key(ip("10.1.2.3")), None);
        assert_eq!(
            clients.connection_key(ip("2001:db8:1:2ff::1")),
            Some(ip("2001:db8:1:200::"))
        );
        assert_eq!(
            clients.connection_key(ip("192.0.2.1")),
            Some(ip("192.0.2.1"))
        );
    }

    #[test]
    fn ipv6_is_grouped_by_prefix() {
        assert_eq!(group(ip("2001:db8:1:2ff:1::1"), 56), ip("2001:db8:1:200::"));
        assert_eq!(group(ip("2001:db8:1:2ff::1"), 128), ip("2001:db8:1:2ff::1"));
        assert_eq!(group(ip("::ffff:192.0.2.1"), 56), ip("192.0.2.1"));
        assert_eq!(group(ip("192.0.2.1"), 0), ip("192.0.2.1"));
    }
}
