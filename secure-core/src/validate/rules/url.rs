//! Placeholder until the URL rule lands.

/// Which URLs `url` accepts.
#[derive(Debug, Clone, Copy)]
pub struct UrlPolicy {
    /// Allowed schemes, lowercase.
    pub schemes: &'static [&'static str],
    /// Reject hosts inside the network.
    pub public: bool,
}

impl UrlPolicy {
    /// http and https, any host.
    pub const DEFAULT: UrlPolicy = UrlPolicy {
        schemes: &["http", "https"],
        public: false,
    };
}

/// Whether `s` is an absolute URL allowed by `policy`.
pub fn url(s: &str, policy: &UrlPolicy) -> bool {
    policy.schemes.iter().any(|p| s.starts_with(p))
}
