//! Placeholder until the WHATWG scanner lands.

/// Whether `s` is a valid email address.
pub fn email(s: &str) -> bool {
    s.contains('@')
}
