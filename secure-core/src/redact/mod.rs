//! Secrets that redact themselves, are wiped from memory on drop, and refuse to leak.
//!
//! **What it protects against.** A password, token, key or card number reaching a log line,
//! a `Debug` string, a panic message, an error body or a response by accident; and a secret
//! outliving its use in freed heap memory, where a memory dump, a core file or a later
//! allocation can read it.
//!
//! **How.** [`#[sensitive]`](crate::sensitive) on a type writes its `Debug` (secret parts print
//! [`Redacted`] or a [`Mask`]), wipes every secret field on drop through [`Zeroize`], and refuses
//! to compile `derive(Debug)`, or a `derive(Serialize)` that would write a secret. Secrets that
//! live outside such a type go in [`SecretString`] / [`SecretBox`] (from `secrecy`), read only
//! through [`ExposeSecret::expose_secret`], so every place that reads one is visible in review.
//!
//! **OWASP ASVS 4.0.3** requirements it serves:
//! - 7.1.1 / 7.1.2: credentials, payment details and other sensitive data are not logged;
//! - 8.3.4: sensitive data is identified (the attribute is the inventory, greppable);
//! - 8.3.6: sensitive information in memory is overwritten when no longer needed;
//! - 7.4.1 (together with `error`): error bodies carry no secret, since a secret's only text
//!   form is its redaction.
//!
//! In ASVS 5.0 the same ground is V14.2.6 (return only the minimum, such as the last digits of
//! a card: [`Mask::Last`]) and the logging requirements of V16. The key-vault requirements
//! (4.0.3 V6.4, secret management) are out of scope: this module keeps secrets from leaking
//! once the application holds them; where they are stored is the deployment's business.
//!
//! **Limits, stated honestly.** Wiping happens when the owning value is dropped: a copy made
//! earlier (a `clone()`, an `expose_secret().to_owned()`, a `String` that grew and reallocated
//! while it was being built, bytes in a socket buffer) is not the type's to wipe. Moving a
//! value is a bitwise copy the compiler may leave on the stack. For keys that must never be
//! swapped to disk, use an OS facility (`mlock`) on top of this.
//!
//! ```
//! use secure_core::prelude::*;
//!
//! #[sensitive]
//! #[derive(serde::Deserialize)]
//! struct Login {
//!     username: String,
//!     #[sensitive]
//!     password: String,
//! }
//!
//! let login = Login { username: "ada".into(), password: "hunter2".into() };
//! assert_eq!(format!("{login:?}"), r#"Login { username: "ada", password: [REDACTED] }"#);
//! ```

pub(crate) mod mask;
pub(crate) mod wipe;

pub use mask::{Mask, MaskText, Masked};
pub use secrecy::{ExposeSecret, ExposeSecretMut, SecretBox, SecretSlice, SecretString};
pub use wipe::WipeOnDrop;
pub use zeroize::{self, Zeroize, ZeroizeOnDrop, Zeroizing};

use std::fmt;

/// Prints `[REDACTED]`, with `{:?}` and with `{}`: what a secret looks like in any text.
///
/// Use it in a hand-written `Debug` impl for a field that must not be shown:
///
/// ```
/// use secure_core::redact::Redacted;
///
/// assert_eq!(format!("{Redacted:?}"), "[REDACTED]");
/// assert_eq!(Redacted.to_string(), "[REDACTED]");
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Redacted;

/// The text that replaces a secret.
pub const REDACTED: &str = "[REDACTED]";

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// `serialize_with` targets for `#[sensitive(serialize = masked)]`: serde writes the mask,
/// never the value. Const parameters carry the mask, so one path names it completely.
pub mod serialize {
    use serde::Serializer;

    use super::{Mask, MaskText};

    fn masked<T: MaskText + ?Sized, S: Serializer>(
        value: &T,
        mask: Mask,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value.mask_text() {
            Some(text) => serializer.collect_str(&mask.apply(text)),
            None => serializer.serialize_none(),
        }
    }

    /// Writes `mask = last(N)` of the value (`None` stays `null`).
    pub fn last<const N: usize, T: MaskText + ?Sized, S: Serializer>(
        value: &T,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        masked(value, Mask::Last(N), serializer)
    }

    /// Writes `mask = first(N)` of the value (`None` stays `null`).
    pub fn first<const N: usize, T: MaskText + ?Sized, S: Serializer>(
        value: &T,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        masked(value, Mask::First(N), serializer)
    }

    /// Writes `mask = email` of the value (`None` stays `null`).
    pub fn email<T: MaskText + ?Sized, S: Serializer>(
        value: &T,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        masked(value, Mask::Email, serializer)
    }
}
