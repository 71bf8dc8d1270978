//! Character-class rules and the relative-path rule.

use unicode_normalization::char::decompose_compatible;

/// Characters Windows' best-fit conversion to ANSI code pages maps to `/` or `\`
/// (division slash, fraction slash, reverse solidus operator; yen and won signs in the
/// Japanese and Korean code pages), which NFKC leaves alone.
const BEST_FIT_SEPARATORS: &[char] = &['\u{2215}', '\u{2044}', '\u{29f5}', '\u{a5}', '\u{20a9}'];

/// Whether every character of `s` is ASCII (U+0000 to U+007F). The empty string passes.
///
/// ASCII includes control characters: add `no_control` to keep CR, LF, NUL and TAB out.
///
/// Protects against: Unicode look-alikes (`ｇｍａｉｌ`, Cyrillic `а`) and normalisation
/// surprises in values such as identifiers and codes that are meant to be plain ASCII.
///
/// ```
/// use secure_core::validate::rules::ascii;
///
/// assert!(ascii("plain text"));
/// assert!(!ascii("ｐｌａｉｎ")); // full-width
/// ```
pub fn ascii(s: &str) -> bool {
    s.is_ascii()
}

/// Whether `s` holds only ASCII letters and digits (`A-Z a-z 0-9`). The empty string passes;
/// add `length(min = 1)` to require a value.
///
/// No spaces, punctuation, or non-ASCII letters (`é`, `ß`, `Ä` and look-alikes are rejected).
///
/// Protects against: anything but `[A-Za-z0-9]` reaching places where it is used as a name,
/// key or token (injection, look-alikes, path and shell metacharacters).
///
/// ```
/// use secure_core::validate::rules::alphanumeric;
///
/// assert!(alphanumeric("abc123"));
/// assert!(!alphanumeric("abc 123"));
/// assert!(!alphanumeric("Jön"));
/// ```
pub fn alphanumeric(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Whether `s` has no control characters: Unicode general category Cc, that is the C0 controls
/// U+0000 to U+001F (NUL, TAB, LF, CR, ESC, ...), DEL U+007F, and the C1 controls U+0080 to
/// U+009F (including NEL U+0085).
///
/// It matches what the `strip_control` sanitiser removes. It does not reject format characters
/// (category Cf, such as bidi overrides U+202E) or the line and paragraph separators
/// U+2028/U+2029; use a `pattern` when those matter for display.
///
/// Protects against: log forging and header or CRLF injection (CR, LF, NEL), NUL truncation in
/// C APIs and databases, and terminal escape sequences (ESC) in logs.
///
/// ```
/// use secure_core::validate::rules::no_control;
///
/// assert!(no_control("Ada Lovelace"));
/// assert!(!no_control("admin\r\nSet-Cookie: x=1"));
/// assert!(!no_control("a\0b"));
/// ```
pub fn no_control(s: &str) -> bool {
    !s.chars().any(char::is_control)
}

/// Whether `s` is a relative path that stays inside the directory it is joined to.
///
/// Accepted: a non-empty path of segments separated by `/` or `\` (both, because either can be
/// a separator on Windows), such as `avatars/ada.png` or `./notes/2024.txt`. Rejected:
/// - absolute paths: a leading `/` or `\` (also UNC `\\server\share`), and any `:`, which
///   rules out drive letters (`C:\`, drive-relative `C:x`), NTFS alternate data streams
///   (`shell.asp::$DATA`) and URL schemes (`file:`);
/// - any segment of two or more dots, also padded with spaces (`..`, `...`, `.. `), which
///   Windows trims to `..`; a single `.` is harmless and allowed;
/// - percent escapes (`%` followed by two hex digits, e.g. `%2e%2e%2f`, `%252e`): the
///   framework hands rules decoded values, so an escape that is still there is double
///   encoding, and a later decode (a proxy, a file server, a URL builder) would turn it into
///   `../`. A `%` not followed by two hex digits is allowed;
/// - characters that Unicode compatibility normalisation (NFKC) turns into `.`, `/`, `\` or
///   `:` (full-width `．．／`, `․`, `…`), and those that Windows "best fit" code-page
///   conversion turns into `/` or `\` (`∕`, `⁄`, `⧵`, `¥`, `₩`), so that a later conversion
///   cannot create a traversal;
/// - control characters (NUL truncates paths in C APIs; CR and LF forge log lines).
///
/// Not checked: whether the file exists, symbolic links inside the directory (resolve and
/// check the canonical path when links are possible), Windows device names (`CON`, `NUL`),
/// and hidden files (`.htaccess`): combine with `pattern` or an allowlist of names for those.
///
/// Protects against: path traversal (OWASP ASVS 12.3.1, CWE-22).
///
/// ```
/// use secure_core::validate::rules::safe_path;
///
/// assert!(safe_path("avatars/ada.png"));
/// assert!(!safe_path("../etc/passwd"));
/// assert!(!safe_path("a\\..\\..\\win.ini"));
/// assert!(!safe_path("/etc/passwd"));
/// assert!(!safe_path("C:\\boot.ini"));
/// assert!(!safe_path("%2e%2e/secret"));
/// ```
pub fn safe_path(s: &str) -> bool {
    let bytes = s.as_bytes();
    !s.is_empty()
        && !matches!(bytes[0], b'/' | b'\\')
        && !has_percent_escape(bytes)
        && s.chars().all(is_plain_path_char)
        && !s.split(['/', '\\']).any(is_dot_segment)
}

/// A character that is not a control, a `:`, or a non-ASCII look-alike of `.`, `/`, `\`, `:`.
fn is_plain_path_char(c: char) -> bool {
    if c.is_ascii() {
        return !c.is_ascii_control() && c != ':';
    }
    if c.is_control() || BEST_FIT_SEPARATORS.contains(&c) {
        return false;
    }
    let mut plain = true;
    decompose_compatible(c, |d| plain &= !matches!(d, '.' | '/' | '\\' | ':'));
    plain
}

/// `..`, `...`, `.. ` and the like: only dots and spaces, with at least two dots.
fn is_dot_segment(segment: &str) -> bool {
    segment.bytes().all(|b| b == b'.' || b == b' ')
        && segment.bytes().filter(|&b| b == b'.').count() >= 2
}

fn has_percent_escape(bytes: &[u8]) -> bool {
    bytes
        .windows(3)
        .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::{alphanumeric, ascii, no_control, safe_path};

    #[test]
    fn ascii_and_alphanumeric() {
        assert!(ascii("") && ascii("a b\t~"));
        assert!(!ascii("é") && !ascii("１"));
        assert!(alphanumeric("") && alphanumeric("AZaz09"));
        for s in ["a b", "a_b", "a-b", "é", "ß", "１", "a\0"] {
            assert!(!alphanumeric(s), "{s:?}");
        }
    }

    #[test]
    fn no_control_rejects_every_cc() {
        assert!(no_control("") && no_control("héllo wörld ✓ \u{202e}"));
        for c in [
            '\0', '\t', '\n', '\r', '\x1b', '\x7f', '\u{80}', '\u{85}', '\u{9f}',
        ] {
            assert!(!no_control(&format!("a{c}b")), "{c:?}");
        }
    }

    #[test]
    fn safe_path_accepts_relative_paths_inside() {
        for s in [
            "a",
            "a/b/c.txt",
            "a\\b",
            "./a",
            ".",
            "a/./b",
            "a/",
            ".hidden",
            "a..b",
            "..a",
            "a/..b/c",
            "100%.txt",
            "50%/x",
            "ünïcödé/名前.txt",
            "a b/c d",
        ] {
            assert!(safe_path(s), "{s:?}");
        }
    }

    #[test]
    fn safe_path_rejects_climbing_and_absolute() {
        for s in [
            "",
            "..",
            "../a",
            "a/..",
            "a/../b",
            "a\\..\\b",
            "..\\a",
            "...",
            "a/.../b",
            ".. /a",
            "a/. ./b",
            "/a",
            "\\a",
            "\\\\server\\share",
            "C:",
            "C:\\boot.ini",
            "c:/boot.ini",
            "C:boot.ini",
            "file.asp::$DATA",
            "file:///etc/passwd",
            "a\0b",
            "a\nb",
            "%2e%2e/a",
            "%2E%2E%2Fa",
            "..%2f",
            "%252e%252e",
            "a/%5c..",
            "\u{ff0e}\u{ff0e}/a",
            "a\u{ff0f}b",
            "a\u{2215}b",
            "\u{2025}/a",
            "a\u{ff1a}b",
            "a\u{2044}b",
            "\u{a5}..\u{a5}x",
        ] {
            assert!(!safe_path(s), "{s:?}");
        }
    }
}
