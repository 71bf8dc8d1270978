//! Character-class rules.

/// Only ASCII characters.
pub fn ascii(s: &str) -> bool {
    s.is_ascii()
}

/// Only ASCII letters and digits.
pub fn alphanumeric(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// No control characters (Unicode category Cc: NUL, CR, LF, TAB, DEL, C1 controls).
pub fn no_control(s: &str) -> bool {
    !s.chars().any(char::is_control)
}

/// A relative path that cannot climb out of its directory: no `..` segment, not absolute,
/// no NUL.
pub fn safe_path(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('/')
        && !s.contains('\0')
        && !s.split(['/', '\\']).any(|seg| seg == "..")
}
