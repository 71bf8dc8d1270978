//! Masks: show a chosen part of a secret on purpose (`***1234`, `j***@example.com`).
//!
//! A mask works on `char`s, never bytes, so no input makes it panic or cut a character in
//! half. It shows at most what was asked, and nothing when the value is **too short**: a value
//! must keep hidden at least as many characters as it shows, so `last(4)` needs 8 characters
//! or more, and `email` needs a local part of 2 characters or more and a domain. Otherwise the
//! whole value prints `[REDACTED]`. The hidden part is always `***`, whatever its length, so
//! the mask does not reveal the length either. Shown characters are escaped as `{:?}` escapes
//! them, so a mask cannot carry a line break or a control character into a log.

use std::borrow::Cow;
use std::fmt::{self, Write};

use secrecy::{ExposeSecret, SecretString};

use super::REDACTED;

/// Which part of a secret a mask shows.
///
/// ```
/// use secure_core::redact::Mask;
///
/// assert_eq!(Mask::Last(4).apply("4111111111111111").to_string(), "***1111");
/// assert_eq!(Mask::First(2).apply("sk_live_abcdef").to_string(), "sk***");
/// assert_eq!(Mask::Email.apply("jane@example.com").to_string(), "j***@example.com");
/// // Too short to hide as much as it shows: nothing is shown.
/// assert_eq!(Mask::Last(4).apply("1234567").to_string(), "[REDACTED]");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mask {
    /// The last `n` characters: `***1234`.
    Last(usize),
    /// The first `n` characters: `sk_***`.
    First(usize),
    /// The first character of the local part and the domain: `j***@example.com`.
    Email,
}

/// The hidden part of a masked value.
const HIDDEN: &str = "***";

impl Mask {
    /// The masked form of `value`, ready for `{}` or `{:?}`. Does not allocate.
    pub fn apply(self, value: &str) -> Masked<'_> {
        let shown = match self {
            Mask::Last(n) => last(value, n).map(Shown::After),
            Mask::First(n) => first(value, n).map(Shown::Before),
            Mask::Email => email(value).map(|(initial, domain)| Shown::Email(initial, domain)),
        };
        Masked { shown }
    }
}

/// The last `n` chars of `value`, if at least `n` more stay hidden.
fn last(value: &str, n: usize) -> Option<&str> {
    if n == 0 || value.chars().count() < n.checked_mul(2)? {
        return None;
    }
    // `n >= 1` and the value has `2n` chars or more, so the `n`th char from the end exists.
    let (start, _) = value.char_indices().rev().nth(n - 1)?;
    value.get(start..)
}

/// The first `n` chars of `value`, if at least `n` more stay hidden.
fn first(value: &str, n: usize) -> Option<&str> {
    if n == 0 || value.chars().count() < n.checked_mul(2)? {
        return None;
    }
    let (end, _) = value.char_indices().nth(n)?;
    value.get(..end)
}

/// The initial of the local part and the domain, if the local part has 2 chars or more.
fn email(value: &str) -> Option<(char, &str)> {
    // The last `@`: a quoted local part may itself contain one.
    let (local, domain) = value.rsplit_once('@')?;
    let mut chars = local.chars();
    let initial = chars.next()?;
    chars.next()?;
    (!domain.is_empty()).then_some((initial, domain))
}

enum Shown<'a> {
    After(&'a str),
    Before(&'a str),
    Email(char, &'a str),
}

/// A masked value: prints the part its [`Mask`] shows, or `[REDACTED]`.
pub struct Masked<'a> {
    /// `None`: too short to mask, print `[REDACTED]`.
    shown: Option<Shown<'a>>,
}

fn escaped(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    s.chars()
        .flat_map(char::escape_debug)
        .try_for_each(|c| f.write_char(c))
}

impl fmt::Display for Masked<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.shown {
            None => f.write_str(REDACTED),
            Some(Shown::After(tail)) => {
                f.write_str(HIDDEN)?;
                escaped(f, tail)
            }
            Some(Shown::Before(head)) => {
                escaped(f, head)?;
                f.write_str(HIDDEN)
            }
            Some(Shown::Email(initial, domain)) => {
                initial.escape_debug().try_for_each(|c| f.write_char(c))?;
                f.write_str(HIDDEN)?;
                f.write_char('@')?;
                escaped(f, domain)
            }
        }
    }
}

impl fmt::Debug for Masked<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A secret a [`Mask`] can read as text.
///
/// `None` is not a secret: an `Option` that is `None` prints `None` under a mask.
#[diagnostic::on_unimplemented(
    message = "a mask reads text, but this secret field is `{Self}`",
    label = "not text: cannot be masked",
    note = "masks apply to String, SecretString, Box<str>, Cow<str> and Option of those; for any other secret remove `mask = ...` and write plain `#[sensitive]`: it prints [REDACTED]"
)]
pub trait MaskText {
    /// The text to mask; `None` for an absent optional value.
    fn mask_text(&self) -> Option<&str>;
}

impl MaskText for str {
    fn mask_text(&self) -> Option<&str> {
        Some(self)
    }
}

impl MaskText for String {
    fn mask_text(&self) -> Option<&str> {
        Some(self)
    }
}

impl MaskText for Box<str> {
    fn mask_text(&self) -> Option<&str> {
        Some(self)
    }
}

impl MaskText for Cow<'_, str> {
    fn mask_text(&self) -> Option<&str> {
        Some(self)
    }
}

/// The secret is exposed to the mask only, which shows what the attribute asked for.
impl MaskText for SecretString {
    fn mask_text(&self) -> Option<&str> {
        Some(self.expose_secret())
    }
}

impl<T: MaskText> MaskText for Option<T> {
    fn mask_text(&self) -> Option<&str> {
        self.as_ref().and_then(T::mask_text)
    }
}

impl<T: MaskText + ?Sized> MaskText for &T {
    fn mask_text(&self) -> Option<&str> {
        (**self).mask_text()
    }
}

/// `{:?}` of a masked field as `#[sensitive]`'s `Debug` prints it: the mask, or `None`.
#[doc(hidden)]
pub struct MaskedField<'a> {
    text: Option<&'a str>,
    mask: Mask,
}

/// The masked form of a field, for `#[sensitive]`'s generated `Debug`. The bound is here
/// and nowhere else, so a field that is not text gives one error, at the field.
#[doc(hidden)]
pub fn mask_field<T: MaskText + ?Sized>(value: &T, mask: Mask) -> MaskedField<'_> {
    MaskedField {
        text: value.mask_text(),
        mask,
    }
}

impl fmt::Debug for MaskedField<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.text {
            Some(text) => fmt::Display::fmt(&self.mask.apply(text), f),
            None => f.write_str("None"),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn show(mask: Mask, s: &str) -> String {
        mask.apply(s).to_string()
    }

    #[test]
    fn masks_show_what_was_asked() {
        assert_eq!(show(Mask::Last(4), "4111 1111 1111 1234"), "***1234");
        assert_eq!(show(Mask::Last(4), "12345678"), "***5678");
        assert_eq!(show(Mask::First(3), "sk_live_x"), "sk_***");
        assert_eq!(show(Mask::Email, "jane@example.com"), "j***@example.com");
        assert_eq!(
            show(Mask::Email, "\"a@b\"@example.com"),
            "\\\"***@example.com"
        );
    }

    #[test]
    fn too_short_is_fully_redacted() {
        assert_eq!(show(Mask::Last(4), "1234567"), REDACTED);
        assert_eq!(show(Mask::First(4), ""), REDACTED);
        assert_eq!(show(Mask::Last(0), "abcdef"), REDACTED);
        assert_eq!(show(Mask::Last(usize::MAX), "abcdef"), REDACTED);
        assert_eq!(show(Mask::Email, "j@example.com"), REDACTED);
        assert_eq!(show(Mask::Email, "jane@"), REDACTED);
        assert_eq!(show(Mask::Email, "no-at-sign"), REDACTED);
    }

    #[test]
    fn counts_chars_not_bytes() {
        assert_eq!(show(Mask::Last(2), "ééééé"), "***éé");
        assert_eq!(show(Mask::First(1), "🔑🔑"), "🔑***");
        assert_eq!(show(Mask::Last(2), "é🔑"), REDACTED);
    }

    #[test]
    fn shown_part_cannot_break_a_log_line() {
        assert_eq!(show(Mask::Last(2), "abcd\r\n"), "***\\r\\n");
    }

    #[test]
    fn option_none_is_not_a_secret() {
        let none: Option<String> = None;
        let field = mask_field(&none, Mask::Last(4));
        assert_eq!(format!("{field:?}"), "None");
        let some = Some(SecretString::from("4111111111111234"));
        let field = mask_field(&some, Mask::Last(4));
        assert_eq!(format!("{field:?}"), "***1234");
    }

    fn any_mask() -> impl Strategy<Value = Mask> {
        prop_oneof![
            (0usize..12).prop_map(Mask::Last),
            (0usize..12).prop_map(Mask::First),
            Just(Mask::Email),
        ]
    }

    proptest! {
        /// Never panics; shows at most `n` characters of the value, and only when at least
        /// `n` stay hidden.
        #[test]
        fn last_and_first_show_at_most_n(s in any::<String>(), n in 0usize..12) {
            let len = s.chars().count();
            for (mask, shown) in [(Mask::Last(n), last(&s, n)), (Mask::First(n), first(&s, n))] {
                let out = show(mask, &s);
                match shown {
                    Some(part) => {
                        prop_assert!(n >= 1 && len >= 2 * n);
                        prop_assert_eq!(part.chars().count(), n);
                        match mask {
                            Mask::Last(_) => prop_assert!(s.ends_with(part)),
                            _ => prop_assert!(s.starts_with(part)),
                        }
                        let escaped: String = part.chars().flat_map(char::escape_debug).collect();
                        prop_assert_eq!(out.replacen(HIDDEN, "", 1), escaped);
                    }
                    None => {
                        prop_assert!(n == 0 || len < 2 * n);
                        prop_assert_eq!(out, REDACTED);
                    }
                }
            }
        }

        /// The email mask shows one character of the local part and the domain, nothing else.
        #[test]
        fn email_shows_initial_and_domain(local in ".{0,12}", domain in "[^@]{0,12}") {
            let value = format!("{local}@{domain}");
            let out = show(Mask::Email, &value);
            if local.chars().count() >= 2 && !domain.is_empty() {
                let initial: String = local.chars().take(1).flat_map(char::escape_debug).collect();
                let domain: String = domain.chars().flat_map(char::escape_debug).collect();
                prop_assert_eq!(out, format!("{initial}***@{domain}"));
            } else if !local.contains('@') {
                prop_assert_eq!(out, REDACTED);
            }
        }

        /// A long secret without repeats never appears whole in its mask.
        #[test]
        fn never_the_whole_secret(s in "[a-zA-Z0-9é🔑]{1,40}", mask in any_mask()) {
            let out = show(mask, &s);
            prop_assert!(out == REDACTED || !out.contains(&s));
            prop_assert!(!out.contains('\n'));
        }
    }
}
