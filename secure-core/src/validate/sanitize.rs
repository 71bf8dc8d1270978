//! Sanitizers: normalise a string in place before the rules see it.
//!
//! The steps always run in one fixed order, whatever order the attribute lists them in, so
//! that sanitising is idempotent: strip control characters, Unicode normalisation (NFC or
//! NFKC), case mapping, normalisation again when the case mapping changed the text, then
//! trimming. (Trimming last matters because NFKC can turn a character into a leading space;
//! stripping first because removing a control character can make a string non-normalised.)

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick, is_nfkc_quick};
use zeroize::Zeroize;

/// Which sanitizers apply to one string.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sanitizers {
    /// Remove leading and trailing whitespace.
    pub trim: bool,
    /// Map to lowercase.
    pub lowercase: bool,
    /// Map to uppercase.
    pub uppercase: bool,
    /// Unicode normalisation form.
    pub normalization: Option<Normalization>,
    /// Remove control characters (Unicode category Cc).
    pub strip_control: bool,
}

/// A Unicode normalisation form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Normalization {
    /// Canonical composition.
    Nfc,
    /// Compatibility composition (folds look-alikes such as full-width letters).
    Nfkc,
}

/// A value the sanitizers can change in place.
#[diagnostic::on_unimplemented(
    message = "sanitizers change a `String` in place, but the field is `{Self}`",
    label = "cannot be sanitised",
    note = "`trim`, `lowercase`, `uppercase`, `nfc`, `nfkc` and `strip_control` apply to String and Option<String>; use `each(trim)` for a Vec<String>"
)]
pub trait Sanitize {
    /// Applies `ops` in place.
    fn sanitize_with(&mut self, ops: Sanitizers);
}

impl Sanitize for String {
    fn sanitize_with(&mut self, ops: Sanitizers) {
        apply(self, ops);
    }
}

impl<T: Sanitize> Sanitize for Option<T> {
    fn sanitize_with(&mut self, ops: Sanitizers) {
        if let Some(v) = self {
            v.sanitize_with(ops);
        }
    }
}

/// Applies `ops` to `s` in their fixed order. Allocates only when something changes.
pub fn apply(s: &mut String, ops: Sanitizers) {
    if ops.strip_control && s.chars().any(char::is_control) {
        s.retain(|c| !c.is_control());
    }
    if let Some(form) = ops.normalization {
        normalize(s, form);
    }
    let case_changed = if ops.lowercase {
        map_case(s, char::is_uppercase, str::to_lowercase)
    } else if ops.uppercase {
        map_case(s, char::is_lowercase, str::to_uppercase)
    } else {
        false
    };
    if case_changed && let Some(form) = ops.normalization {
        normalize(s, form);
    }
    if ops.trim {
        trim_in_place(s);
    }
}

fn normalize(s: &mut String, form: Normalization) {
    let quick = match form {
        Normalization::Nfc => is_nfc_quick(s.chars()),
        Normalization::Nfkc => is_nfkc_quick(s.chars()),
    };
    if quick == IsNormalized::Yes {
        return;
    }
    // Sized exactly in a first pass, so the result never grows and frees a partial copy.
    let chars = || -> Box<dyn Iterator<Item = char> + '_> {
        match form {
            Normalization::Nfc => Box::new(s.nfc()),
            Normalization::Nfkc => Box::new(s.nfkc()),
        }
    };
    let mut normalized = String::with_capacity(chars().map(char::len_utf8).sum());
    normalized.extend(chars());
    replace_wiping(s, normalized);
}

/// Puts `new` in place of `s`, wiping whichever buffer is freed: the input may be a secret
/// (a password field with `nfkc`), and a freed block must not keep it.
fn replace_wiping(s: &mut String, mut new: String) -> bool {
    if new == *s {
        new.zeroize();
        return false;
    }
    let mut old = std::mem::replace(s, new);
    old.zeroize();
    true
}

fn map_case(s: &mut String, needs: fn(char) -> bool, map: fn(&str) -> String) -> bool {
    // Characters without a case mapping of their own (titlecase letters, some symbols) are
    // found by comparing, so only scan for the common case first.
    if s.is_ascii() && !s.chars().any(needs) {
        return false;
    }
    replace_wiping(s, map(s))
}

fn trim_in_place(s: &mut String) {
    let end = s.trim_end().len();
    s.truncate(end);
    let start = s.len() - s.trim_start().len();
    if start > 0 {
        s.drain(..start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &str, ops: Sanitizers) -> String {
        let mut s = input.to_owned();
        apply(&mut s, ops);
        s
    }

    #[test]
    fn trims_and_lowercases() {
        let ops = Sanitizers {
            trim: true,
            lowercase: true,
            ..Sanitizers::default()
        };
        assert_eq!(run("  Ada@Example.COM \n", ops), "ada@example.com");
    }

    #[test]
    fn nfkc_folds_full_width() {
        let ops = Sanitizers {
            normalization: Some(Normalization::Nfkc),
            ..Sanitizers::default()
        };
        assert_eq!(run("ＡＢＣ", ops), "ABC");
    }

    #[test]
    fn strips_control_characters() {
        let ops = Sanitizers {
            strip_control: true,
            ..Sanitizers::default()
        };
        assert_eq!(run("a\r\nb\0c\u{7f}", ops), "abc");
    }

    #[test]
    fn order_is_fixed_and_idempotent_for_nfkc_space() {
        // U+00A8 DIAERESIS becomes SPACE + COMBINING DIAERESIS under NFKC.
        let ops = Sanitizers {
            trim: true,
            normalization: Some(Normalization::Nfkc),
            lowercase: true,
            strip_control: true,
            ..Sanitizers::default()
        };
        let once = run("\u{a8}x", ops);
        assert_eq!(run(&once, ops), once);
        let once = run("\u{210c}", ops);
        assert_eq!(once, "h");
    }
}
