//! Email addresses, as the WHATWG HTML standard defines them for `<input type=email>`.

/// RFC 5321 4.5.3.1.1: at most 64 octets before the `@`.
const MAX_LOCAL: usize = 64;
/// RFC 5321 4.5.3.1.3: a path is at most 256 octets including the two angle brackets.
const MAX_TOTAL: usize = 254;
/// RFC 1035 2.3.4: at most 63 octets in a label.
const MAX_LABEL: usize = 63;

/// Whether `s` is a valid email address.
///
/// Follows the [WHATWG HTML definition of a valid email address][whatwg] (the one browsers use
/// for `<input type=email>`):
///
/// ```text
/// ^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$
/// ```
///
/// so the local part is one or more of `A-Z a-z 0-9 . ! # $ % & ' * + / = ? ^ _ ` { | } ~ -`
/// (dots anywhere, as in the standard), and the domain is one or more dot-separated labels of
/// 1 to 63 letters, digits and hyphens that neither start nor end with a hyphen. A single-label
/// domain (`user@intranet`) is valid, as in the standard.
///
/// Deviations from the WHATWG definition, all stricter:
/// - **Length limits** from RFC 5321: at most 64 bytes before the `@` and 254 bytes in total
///   (the 256-octet path limit minus the angle brackets). Longer addresses cannot be delivered,
///   and the limit bounds what reaches storage, logs and mail headers.
///
/// What it does not accept, as in the standard: quoted local parts (`"a b"@example.com`),
/// comments, IP-literal domains (`a@[127.0.0.1]`), a trailing dot (`a@example.com.`), and
/// any non-ASCII character. Internationalised domains must be submitted in their ASCII form
/// (`a@xn--mnchen-3ya.de`); browsers convert them before submitting.
///
/// Protects against: header and SMTP injection (no CR, LF, space, `<`, `>`, `,`, `;`, `"`,
/// `\` or `:` can appear), several addresses in one field (`a@x.com,b@y.com`), source routes
/// and IP literals that reach mail servers an attacker picks, and Unicode look-alikes.
/// It says nothing about whether the mailbox exists: confirm ownership by sending a link.
///
/// Never allocates.
///
/// ```
/// use secure_core::validate::rules::email;
///
/// assert!(email("a@b.c"));
/// assert!(email("first.last+tag@mail.example.com"));
/// assert!(!email("a@b.c\r\nBcc: victim@example.com"));
/// assert!(!email("\"quoted\"@example.com"));
/// assert!(!email("a@[127.0.0.1]"));
/// ```
///
/// [whatwg]: https://html.spec.whatwg.org/multipage/input.html#valid-e-mail-address
pub fn email(s: &str) -> bool {
    let bytes = s.as_bytes();
    if bytes.len() > MAX_TOTAL {
        return false;
    }
    let Some(at) = bytes.iter().position(|&b| b == b'@') else {
        return false;
    };
    let (local, domain) = (&bytes[..at], &bytes[at + 1..]);
    !local.is_empty()
        && local.len() <= MAX_LOCAL
        && local.iter().all(|&b| is_local_byte(b))
        && is_domain(domain)
}

/// `atext` plus `.`, as in the WHATWG grammar.
fn is_local_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'.' || b"!#$%&'*+/=?^_`{|}~-".contains(&b)
}

/// One or more labels separated by single dots; a second `@` fails as a non-label byte.
fn is_domain(domain: &[u8]) -> bool {
    !domain.is_empty() && domain.split(|&b| b == b'.').all(is_label)
}

fn is_label(label: &[u8]) -> bool {
    match (label.first(), label.last()) {
        (Some(first), Some(last)) => {
            label.len() <= MAX_LABEL
                && first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && label
                    .iter()
                    .all(|&b| b.is_ascii_alphanumeric() || b == b'-')
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::email;

    #[test]
    fn accepts_the_whatwg_shapes() {
        for s in [
            "a@b.c",
            "a@b",
            "user@intranet",
            "first.last+tag@mail.example.com",
            "!#$%&'*+/=?^_`{|}~-@example.com",
            ".dots..anywhere.@example.com",
            "a@123.123.123.123",
            "a@valid-----hyphens.com",
            "a@xn--mnchen-3ya.de",
            "A@EXAMPLE.COM",
        ] {
            assert!(email(s), "{s:?}");
        }
    }

    #[test]
    fn rejects_what_whatwg_rejects() {
        for s in [
            "",
            "abc",
            "@example.com",
            "abc@",
            "a@@b.com",
            "a@b@c.com",
            "a @b.com",
            "a@b.com ",
            "a@b.com\n",
            "a@b.com\r\nBcc: x@y.z",
            "\"q\"@example.com",
            "a(comment)@example.com",
            "a@[127.0.0.1]",
            "a@[::1]",
            "a@example.com.",
            "a@.example.com",
            "a@example..com",
            "a@-example.com",
            "a@example-.com",
            "a@exam_ple.com",
            "a@münchen.de",
            "ü@example.com",
            "a@b.com,c@d.com",
            "a@b.com;c@d.com",
            "<a@b.com>",
        ] {
            assert!(!email(s), "{s:?}");
        }
    }

    #[test]
    fn label_length_is_63() {
        let ok = format!("a@{}.com", "x".repeat(63));
        let long = format!("a@{}.com", "x".repeat(64));
        assert!(email(&ok));
        assert!(!email(&long));
    }

    #[test]
    fn rfc_5321_length_limits() {
        let local64 = format!("{}@example.com", "l".repeat(64));
        let local65 = format!("{}@example.com", "l".repeat(65));
        assert!(email(&local64));
        assert!(!email(&local65));

        // 254 bytes in total is the most an address can have.
        let domain = [
            "d".repeat(63),
            "d".repeat(63),
            "d".repeat(63),
            "d".repeat(60),
        ]
        .join(".");
        let at_limit = format!("a@{domain}");
        assert_eq!(at_limit.len(), 254);
        assert!(email(&at_limit));
        assert!(!email(&format!("ab@{domain}")));
    }
}
