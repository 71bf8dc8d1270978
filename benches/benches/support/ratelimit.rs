//! The limit, quota and client addresses shared by the criterion bench (`ratelimit.rs`) and
//! the instruction counts (`instructions.rs`).

use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;
use std::time::Duration;

use governor::Quota;
use secure_core::ratelimit::{RateKey, RateLimit};

pub(crate) const KEYS: usize = 1024;
pub(crate) const LIMIT: RateLimit = RateLimit {
    rate: secure_core::ratelimit::Rate {
        count: 1_000_000,
        period_secs: 1,
    },
    key: RateKey::Ip,
};
pub(crate) const ROUTE: &str = "secure_benches::ratelimit::login";

pub(crate) fn quota() -> Quota {
    let burst = NonZeroU32::new(LIMIT.rate.count).expect("count");
    Quota::with_period(Duration::from_secs(LIMIT.rate.period_secs) / LIMIT.rate.count)
        .expect("period")
        .allow_burst(burst)
}

pub(crate) fn addrs() -> Vec<IpAddr> {
    (0..KEYS)
        .map(|i| IpAddr::V4(Ipv4Addr::from(0xC633_6400 + i as u32)))
        .collect()
}
