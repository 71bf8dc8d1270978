//! The largest body a validated type accepts, so that a route's body limit never refuses input
//! its own rules allow: a client cannot know whether a server reads `é` or `\u00e9`, `😀` or
//! `\ud83d\ude00`, and a body limit below what the rules accept turns valid input into 413
//! depending on the client's JSON encoder.
//!
//! `#[derive(Validated)]` computes [`Validate::MAX_BODY`](super::Validate::MAX_BODY) from each
//! field's rules and type, in the longest JSON encoding a client may send:
//!
//! - a string: every character as its longest escape (12 bytes: a surrogate pair
//!   `\ud83d\ude00`), up to its `length(max)`, `length(equal)`, longest `one_of` value, or
//!   the fixed length of `uuid` (36), `ipv4` (15), `ip`/`ipv6` (45); with `bytes(max = B)`, 6
//!   bytes per byte (`\u0041`); `email` is 254 bytes at most;
//! - integers at their longest (`-9223372036854775808`), `bool` as `false`, floats at 32
//!   bytes (more than any encoder writes: shortest round-trip forms are at most 24);
//! - `Option` as the inner value or `null`; a collection with `length(max = N)` as N elements,
//!   each bounded by its `each(..)` rules; `nested` types by their own bound;
//! - keys escaped too (6 bytes a character), and each member with 16 bytes of whitespace
//!   (pretty printers), plus 64 bytes around the whole body.
//!
//! Anything else has no bound (`None`): a field with no maximum, a map, an enum, `flatten`,
//! `allow_unknown_fields`. The route then keeps the configured default body limit. Values are
//! counted after their sanitizers: padding that `trim` removes is not counted.
//!
//! A route taking `Valid<Json<T>>` or `Valid<Form<T>>` with a bounded `T` gets that bound as
//! its body limit; a declared `body_limit` below it does not compile. (Form encoding is never
//! longer than JSON's for the same value: `%F0%9F%98%80` is 12 bytes too.)

/// The largest body a type accepts, and the field that weighs most in it (for messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxBody {
    /// The whole body, in bytes.
    pub bytes: u64,
    /// The field that takes the most (`password`), or `""` for a value without fields.
    pub largest_field: &'static str,
    /// What that field takes, key and separators included.
    pub largest_bytes: u64,
}

/// The longest escape of one character: a surrogate pair, `\ud83d\ude00`.
pub const ESCAPED_CHAR: u64 = 12;
/// The longest escape of one byte of UTF-8: `\u0041` for `A`.
pub const ESCAPED_BYTE: u64 = 6;
/// Whitespace allowed around each member and element (a pretty printer's newline and indent).
pub const MEMBER_SLACK: u64 = 16;
/// Whitespace and a byte-order mark around the whole body.
pub const BODY_SLACK: u64 = 64;
/// A float in JSON: longer than any encoder's shortest round-trip form (at most 24 bytes).
pub const FLOAT: u64 = 32;

/// A string of at most `chars` characters, quotes included.
pub const fn string(chars: u64) -> u64 {
    chars.saturating_mul(ESCAPED_CHAR).saturating_add(2)
}

/// A string of at most `bytes` bytes of UTF-8, quotes included.
pub const fn string_bytes(bytes: u64) -> u64 {
    bytes.saturating_mul(ESCAPED_BYTE).saturating_add(2)
}

/// The smaller of two bounds (`None` is no bound).
pub const fn min(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if a < b { a } else { b }),
        (Some(a), None) => Some(a),
        (None, b) => b,
    }
}

/// An `Option`: the value, or `null`.
pub const fn option(inner: Option<u64>) -> Option<u64> {
    match inner {
        Some(n) if n > 4 => Some(n),
        Some(_) => Some(4),
        None => None,
    }
}

/// An array of at most `len` elements of at most `each` bytes.
pub const fn array(len: Option<u64>, each: Option<u64>) -> Option<u64> {
    match (len, each) {
        (Some(len), Some(each)) => Some(
            len.saturating_mul(each.saturating_add(1 + MEMBER_SLACK))
                .saturating_add(2 + MEMBER_SLACK),
        ),
        _ => None,
    }
}

/// A type's own bound, as a number.
pub const fn of(bound: Option<MaxBody>) -> Option<u64> {
    match bound {
        Some(b) => Some(b.bytes),
        None => None,
    }
}

/// The bytes an integer type's values take at most (`-128` for `i8`).
pub const fn integer(bits: u32, signed: bool) -> u64 {
    // Decimal digits of the largest magnitude: 2^bits - 1 (unsigned) or 2^(bits-1).
    let digits = match (bits, signed) {
        (8, false) => 3,
        (8, true) => 3,
        (16, false) => 5,
        (16, true) => 5,
        (32, false) => 10,
        (32, true) => 10,
        (64, false) => 20,
        (64, true) => 19,
        _ => 39,
    };
    digits + signed as u64
}

/// An object of `members` (name as serialised, length of the longest key it is read under,
/// bound of its value); `None` when one has no bound.
pub const fn object(members: &[(&'static str, u64, Option<u64>)]) -> Option<MaxBody> {
    let mut bytes = 2 + BODY_SLACK;
    let mut largest_field = "";
    let mut largest_bytes = 0;
    let mut i = 0;
    while i < members.len() {
        let (name, key_len, value) = members[i];
        let Some(value) = value else {
            return None;
        };
        // "key": value, with the key escaped and room for whitespace.
        let member = string_bytes(key_len)
            .saturating_add(2)
            .saturating_add(MEMBER_SLACK)
            .saturating_add(value);
        if member > largest_bytes {
            largest_bytes = member;
            largest_field = name;
        }
        bytes = bytes.saturating_add(member);
        i += 1;
    }
    Some(MaxBody {
        bytes,
        largest_field,
        largest_bytes,
    })
}

/// A value without members (a newtype's inner value) as a whole body.
pub const fn value(bound: Option<u64>) -> Option<MaxBody> {
    match bound {
        Some(n) => Some(MaxBody {
            bytes: n.saturating_add(BODY_SLACK),
            largest_field: "",
            largest_bytes: n,
        }),
        None => None,
    }
}

/// The largest body any route may take: what `body_limit` and `SECURE_BODY_LIMIT` accept.
pub const CEILING: u64 = 64 * 1024 * 1024;

/// A message built at compile time (const evaluation cannot format).
#[derive(Debug)]
pub struct Message {
    buf: [u8; 400],
    len: usize,
}

impl Message {
    const fn new() -> Self {
        Message {
            buf: [0; 400],
            len: 0,
        }
    }

    /// Appends `s`, whole characters only: one that would not fit ends the message.
    const fn text(mut self, s: &str) -> Self {
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let width = utf8_width(bytes[i]);
            if self.len + width > self.buf.len() {
                break;
            }
            let mut k = 0;
            while k < width {
                self.buf[self.len] = bytes[i + k];
                self.len += 1;
                k += 1;
            }
            i += width;
        }
        self
    }

    const fn number(self, n: u64) -> Self {
        let mut digits = [0u8; 20];
        let mut count = 0;
        let mut rest = n;
        loop {
            digits[count] = b'0' + (rest % 10) as u8;
            count += 1;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        let mut out = self;
        while count > 0 {
            count -= 1;
            if out.len < out.buf.len() {
                out.buf[out.len] = digits[count];
                out.len += 1;
            }
        }
        out
    }

    /// The text.
    pub const fn as_str(&self) -> &str {
        let (used, _) = self.buf.split_at(self.len);
        match core::str::from_utf8(used) {
            Ok(s) => s,
            Err(_) => "",
        }
    }
}

/// The length of the UTF-8 sequence `lead` starts.
const fn utf8_width(lead: u8) -> usize {
    if lead < 0x80 {
        1
    } else if lead >= 0xF0 {
        4
    } else if lead >= 0xE0 {
        3
    } else {
        2
    }
}

/// Why `declared` (a route's `body_limit`, in bytes) is refused for a body of type `ty`
/// bounded by `bound`, or `None` when it is not.
pub const fn refusal(ty: &str, declared: Option<u64>, bound: Option<MaxBody>) -> Option<Message> {
    let Some(bound) = bound else {
        return None;
    };
    if bound.bytes > CEILING {
        let m = Message::new()
            .text("the largest body `")
            .text(ty)
            .text("` accepts is ")
            .number(bound.bytes)
            .text(" bytes, above the 64 MiB any route may take (`")
            .text(bound.largest_field)
            .text("` alone takes ")
            .number(bound.largest_bytes)
            .text("): lower the `max` of its rules");
        return Some(m);
    }
    match declared {
        Some(limit) if limit < bound.bytes => Some(
            Message::new()
                .text("`body_limit` is ")
                .number(limit)
                .text(" bytes, below the largest body `")
                .text(ty)
                .text("` accepts: ")
                .number(bound.bytes)
                .text(" bytes in its longest JSON encoding (`")
                .text(bound.largest_field)
                .text("` alone takes ")
                .number(bound.largest_bytes)
                .text(", each character as a 12-byte escape); remove `body_limit` to take exactly that, or raise it"),
        ),
        _ => None,
    }
}

/// The body limit of a route whose body is a `ty` bounded by `bound`: the declared one, else
/// the bound (`None`: the configured default). A declared limit below the bound panics,
/// which in the `const` the handler macro emits is a compile error with the message.
pub const fn limit(ty: &str, declared: Option<u64>, bound: Option<MaxBody>) -> Option<u64> {
    if let Some(message) = refusal(ty, declared, bound) {
        panic!("{}", message.as_str());
    }
    match (declared, bound) {
        (Some(limit), _) => Some(limit),
        (None, Some(bound)) => Some(bound.bytes),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_count_their_longest_escape() {
        assert_eq!(string(1), 14);
        // "😀" as \ud83d\ude00 is 12 bytes, quotes 2.
        assert_eq!(r#""\ud83d\ude00""#.len() as u64, string(1));
        assert_eq!(r#""\u00e9""#.len() as u64, string_bytes(1));
        assert_eq!(integer(8, false), "255".len() as u64);
        assert_eq!(integer(8, true), "-128".len() as u64);
        assert_eq!(integer(64, true), i64::MIN.to_string().len() as u64);
        assert_eq!(integer(64, false), u64::MAX.to_string().len() as u64);
        assert_eq!(integer(128, true), i128::MIN.to_string().len() as u64);
        assert_eq!(integer(32, true), i32::MIN.to_string().len() as u64);
        assert_eq!(integer(16, false), u16::MAX.to_string().len() as u64);
    }

    #[test]
    fn an_object_is_bounded_only_when_every_member_is() {
        let login = object(&[
            ("username", 8, Some(string(64))),
            ("password", 8, Some(string(1024))),
        ])
        .unwrap();
        assert_eq!(login.largest_field, "password");
        assert!(login.bytes > string(64) + string(1024));
        assert_eq!(object(&[("a", 1, Some(3)), ("b", 1, None)]), None);
        assert_eq!(option(Some(2)), Some(4));
        assert_eq!(array(Some(3), Some(10)), Some(3 * (11 + 16) + 2 + 16));
        assert_eq!(array(None, Some(10)), None);
    }

    #[test]
    fn a_limit_below_the_bound_is_refused_with_the_field_and_the_sizes() {
        let login = object(&[
            ("username", 8, Some(string(64))),
            ("password", 8, Some(string(1024))),
        ]);
        let message = refusal("Login", Some(4096), login).unwrap();
        let text = message.as_str();
        assert!(
            text.starts_with(
                "`body_limit` is 4096 bytes, below the largest body `Login` accepts: "
            ),
            "{text}"
        );
        assert!(text.contains("`password` alone takes 12"), "{text}");
        assert_eq!(
            refusal("Login", Some(1 << 20), login).map(|m| m.as_str().len()),
            None
        );
        assert_eq!(limit("Login", None, login), login.map(|b| b.bytes));
        assert_eq!(limit("Login", Some(1 << 20), login), Some(1 << 20));
        assert_eq!(limit("Open", None, None), None);
        let huge = object(&[("blob", 4, Some(CEILING))]);
        assert!(
            refusal("Blob", None, huge)
                .unwrap()
                .as_str()
                .contains("above the 64 MiB")
        );
    }

    #[test]
    fn messages_cut_at_whole_characters() {
        let long = "é".repeat(300);
        let message = Message::new().text(&long);
        assert_eq!(message.as_str().len(), 400);
        let message = Message::new().text("x").text(&long);
        assert_eq!(message.as_str().len(), 399);
        assert_eq!(Message::new().number(0).number(12345).as_str(), "012345");
    }
}
