//! Wiping secret fields when their owner is dropped.

use std::marker::PhantomData;

use zeroize::Zeroize;

/// A secret field `#[sensitive]` can overwrite with zeros on drop.
///
/// Every [`Zeroize`] type is one: `String`, `Vec<u8>`, `Box<str>`, arrays and integers,
/// `Option` of those, [`SecretBox`](super::SecretBox) / [`SecretString`](super::SecretString),
/// and your own types that implement or derive `Zeroize`. A type that cannot be wiped (an
/// `Arc<str>` shared with others, a `&'static str` in read-only memory, a foreign type) is a
/// compile error at the field.
#[diagnostic::on_unimplemented(
    message = "`#[sensitive]` cannot wipe `{Self}` from memory on drop",
    label = "cannot be zeroized",
    note = "a secret field must implement `zeroize::Zeroize`: store it as String, Vec<u8>, Box<str>, an array, SecretString or SecretBox<T>, or implement `Zeroize` for your type (shared `Arc`/`Rc` and `&str` cannot be wiped)",
    note = "if this field is not secret, mark only the secret fields of the type with `#[sensitive]`"
)]
pub trait WipeOnDrop {
    /// Overwrites the value with zeros (in place; allocations are kept and zeroed).
    fn wipe(&mut self);
}

impl<T: Zeroize + ?Sized> WipeOnDrop for T {
    fn wipe(&mut self) {
        self.zeroize();
    }
}

/// Whether a `#[sensitive]` type implements `Serialize` although no `derive(Serialize)` was
/// written below `#[sensitive]`: the usual cause is a derive written above the attribute,
/// which ran first and would write the secrets.
///
/// Autoref specialisation: `(&SerializeProbe::<T>::new()).probe()` finds the by-value impl
/// (`IsSerialize`) when `T: Serialize`, else the by-reference one (`NotSerialize`); only the
/// latter passes [`serialized_only_below_sensitive`], whose note says the fix.
#[doc(hidden)]
#[derive(Debug)]
pub struct SerializeProbe<T: ?Sized>(PhantomData<T>);

impl<T: ?Sized> SerializeProbe<T> {
    #[allow(clippy::new_without_default)] // generated code only; `Default` would be noise
    pub fn new() -> Self {
        SerializeProbe(PhantomData)
    }
}

#[doc(hidden)]
#[derive(Debug)]
pub struct IsSerialize;
#[doc(hidden)]
#[derive(Debug)]
pub struct NotSerialize;

#[doc(hidden)]
pub trait ProbeSerialize {
    fn probe(&self) -> IsSerialize {
        IsSerialize
    }
}
impl<T: ?Sized + serde::Serialize> ProbeSerialize for SerializeProbe<T> {}

#[doc(hidden)]
pub trait ProbeNotSerialize {
    fn probe(&self) -> NotSerialize {
        NotSerialize
    }
}
impl<T: ?Sized> ProbeNotSerialize for &SerializeProbe<T> {}

#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "this `#[sensitive]` type implements `Serialize`, but no `derive(Serialize)` is written below `#[sensitive]`",
    label = "a derive written above this attribute ran before it, without knowing which fields are secret",
    note = "move `#[sensitive]` above `#[derive(...)]`: it then checks that `Serialize` writes secret fields only as a mask (`serialize = masked`) or skips them"
)]
pub trait SerializedOnlyBelowSensitive {}
impl SerializedOnlyBelowSensitive for NotSerialize {}

#[doc(hidden)]
pub fn serialized_only_below_sensitive<T: SerializedOnlyBelowSensitive>(_: T) {}
