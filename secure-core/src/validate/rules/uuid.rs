//! UUIDs in their hyphenated text form.

/// Where the hyphens sit in `8-4-4-4-12`.
const HYPHENS: [usize; 4] = [8, 13, 18, 23];

/// Whether `s` is a UUID in the hyphenated `8-4-4-4-12` form of RFC 9562, hex digits in any case.
///
/// Any version and variant is accepted, including the nil and max UUIDs: the rule checks the
/// shape, not how the value was made. Only the hyphenated form is accepted; the braced
/// (`{...}`), URN (`urn:uuid:...`) and simple (32 hex digits) forms are rejected, so one value
/// has one spelling and comparisons, logs and cache keys cannot be split by form. Upper and
/// lower case are both valid: compare case-insensitively, or add `lowercase` to normalise.
///
/// Protects against: anything but 36 ASCII bytes reaching a lookup (injection, oversized keys,
/// look-alike digits such as `২`).
///
/// Never allocates.
///
/// ```
/// use secure_core::validate::rules::uuid;
///
/// assert!(uuid("67e55044-10b1-426f-9247-bb680e5fe0c8"));
/// assert!(uuid("67E55044-10B1-426F-9247-BB680E5FE0C8"));
/// assert!(!uuid("67e5504410b1426f9247bb680e5fe0c8"));
/// assert!(!uuid("{67e55044-10b1-426f-9247-bb680e5fe0c8}"));
/// ```
pub fn uuid(s: &str) -> bool {
    let bytes = s.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, &b)| {
            if HYPHENS.contains(&i) {
                b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        })
}

#[cfg(test)]
mod tests {
    use super::uuid;

    #[test]
    fn accepts_hyphenated_any_case_any_version() {
        for s in [
            "67e55044-10b1-426f-9247-bb680e5fe0c8",
            "67E55044-10B1-426F-9247-BB680E5FE0C8",
            "67e55044-10B1-426f-9247-Bb680e5fe0c8",
            "00000000-0000-0000-0000-000000000000",
            "ffffffff-ffff-ffff-ffff-ffffffffffff",
            "99c17cbb-656f-f64a-f40f-1a4568f03487",
        ] {
            assert!(uuid(s), "{s:?}");
        }
    }

    #[test]
    fn rejects_other_forms() {
        for s in [
            "",
            "67e5504410b1426f9247bb680e5fe0c8",
            "{67e55044-10b1-426f-9247-bb680e5fe0c8}",
            "urn:uuid:67e55044-10b1-426f-9247-bb680e5fe0c8",
            "67e55044-10b1-426f-9247-bb680e5fe0c",
            "67e55044-10b1-426f-9247-bb680e5fe0c8 ",
            "67e55044-10b1-426f-9247-bb680e5fe0c8\n",
            "67e5504-410b1-426f-9247-bb680e5fe0c8",
            "67e55044-10b1-426f-9247-bb680e5fe0g8",
            "67e55044-10b1-426f-9247-bb680e5fe0_8",
            "২7e55044-10b1-426f-9247-bb680e5fe0c",
            "+7e55044-10b1-426f-9247-bb680e5fe0c8",
        ] {
            assert!(!uuid(s), "{s:?}");
        }
    }
}
