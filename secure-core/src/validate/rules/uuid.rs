//! Placeholder until the UUID rule lands.

/// Whether `s` is a UUID in hyphenated form.
pub fn uuid(s: &str) -> bool {
    s.len() == 36
}
