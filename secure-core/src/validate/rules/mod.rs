//! Rule functions and the traits that say which values a rule applies to.
//!
//! Every rule answers `true` for a valid value and never allocates or panics, whatever the
//! input. The derive calls them through `secure_core::__private`; they are public so that
//! hand-written `Validate` impls and `custom` functions can reuse them.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::rc::Rc;
use std::sync::Arc;

mod card;
mod email;
mod net;
mod text;
mod url;
mod uuid;

pub use card::credit_card;
pub use email::email;
pub use net::{ip, ipv4, ipv6};
pub use text::{alphanumeric, ascii, no_control, safe_path};
pub use url::{UrlPolicy, url};
pub use uuid::uuid;

/// A value that string rules (`email`, `url`, `pattern`, `ascii`, ...) can read as `&str`.
#[diagnostic::on_unimplemented(
    message = "this rule needs a string, but the field is `{Self}`",
    label = "not a string",
    note = "string rules apply to String, &str, Cow<str>, Box<str>, Arc<str> or Option of those; for numbers use `range`"
)]
pub trait StrValue {
    /// The string to check.
    fn str_value(&self) -> &str;
}

impl StrValue for str {
    fn str_value(&self) -> &str {
        self
    }
}
impl StrValue for String {
    fn str_value(&self) -> &str {
        self
    }
}
impl StrValue for Cow<'_, str> {
    fn str_value(&self) -> &str {
        self
    }
}
impl StrValue for Box<str> {
    fn str_value(&self) -> &str {
        self
    }
}
impl StrValue for Arc<str> {
    fn str_value(&self) -> &str {
        self
    }
}
impl StrValue for Rc<str> {
    fn str_value(&self) -> &str {
        self
    }
}
/// A `SecretString` is exposed to the rule only: the rule answers yes or no, and no error
/// carries the value (see `validate::errors`), so `#[sensitive]` fields can hold one.
impl StrValue for secrecy::SecretString {
    fn str_value(&self) -> &str {
        secrecy::ExposeSecret::expose_secret(self)
    }
}
impl HasLength for secrecy::SecretString {
    fn length(&self) -> usize {
        self.str_value().chars().count()
    }
}
impl HasBytes for secrecy::SecretString {
    fn byte_len(&self) -> usize {
        self.str_value().len()
    }
}
impl<T: StrValue + ?Sized> StrValue for &T {
    fn str_value(&self) -> &str {
        (**self).str_value()
    }
}

/// A value with a length for `length(...)`: characters for strings, elements for collections.
#[diagnostic::on_unimplemented(
    message = "`length` needs a value with a length, but the field is `{Self}`",
    label = "has no length",
    note = "`length` applies to strings (counted in characters) and collections (counted in elements); for numbers use `range(min = .., max = ..)`"
)]
pub trait HasLength {
    /// Characters for strings, elements for collections.
    fn length(&self) -> usize;
}

macro_rules! str_length {
    ($($t:ty),*) => {$(
        impl HasLength for $t {
            fn length(&self) -> usize {
                self.chars().count()
            }
        }
    )*};
}
str_length!(str, String, Cow<'_, str>, Box<str>, Arc<str>, Rc<str>);

macro_rules! collection_length {
    ($([$($g:tt)*] $t:ty),* $(,)?) => {$(
        impl<$($g)*> HasLength for $t {
            fn length(&self) -> usize {
                self.len()
            }
        }
    )*};
}
collection_length!(
    [T] Vec<T>,
    [T] [T],
    [T, const N: usize] [T; N],
    [T] VecDeque<T>,
    [T, S] HashSet<T, S>,
    [T] BTreeSet<T>,
    [K, V, S] HashMap<K, V, S>,
    [K, V] BTreeMap<K, V>,
);

impl<T: HasLength + ?Sized> HasLength for &T {
    fn length(&self) -> usize {
        (**self).length()
    }
}

/// A value with a size in bytes for `bytes(max = ..)`.
#[diagnostic::on_unimplemented(
    message = "`bytes` needs a string or a byte buffer, but the field is `{Self}`",
    label = "has no byte length",
    note = "`bytes` applies to String, &str and Vec<u8>; for numbers use `range`"
)]
pub trait HasBytes {
    /// The size in bytes (UTF-8 for strings).
    fn byte_len(&self) -> usize;
}

macro_rules! byte_length {
    ($($t:ty),*) => {$(
        impl HasBytes for $t {
            fn byte_len(&self) -> usize {
                self.len()
            }
        }
    )*};
}
byte_length!(
    str,
    String,
    Cow<'_, str>,
    Box<str>,
    Arc<str>,
    Rc<str>,
    [u8],
    Vec<u8>
);

impl<T: HasBytes + ?Sized> HasBytes for &T {
    fn byte_len(&self) -> usize {
        (**self).byte_len()
    }
}

/// A collection whose elements `each(...)` checks: the items of a sequence or set, the values
/// of a map. Elements are reported by position (`tags[3]`); map keys are never echoed, since
/// they are submitted data.
#[diagnostic::on_unimplemented(
    message = "`each` needs a collection, but the field is `{Self}`",
    label = "not a collection",
    note = "`each(...)` applies rules to the elements of Vec, slices, arrays, VecDeque, sets, and the values of maps; put the rules directly on the field instead"
)]
pub trait Elements {
    /// The element type.
    type Item;
    /// The elements, in iteration order.
    fn elements(&self) -> impl Iterator<Item = &Self::Item>;
}

/// A collection whose elements sanitizers inside `each(...)` can change in place.
#[diagnostic::on_unimplemented(
    message = "sanitizers inside `each` need elements that can change in place, but the field is `{Self}`",
    label = "elements cannot be changed in place",
    note = "set elements cannot be modified without rehashing: use a Vec, or sanitize before building the set"
)]
pub trait ElementsMut: Elements {
    /// The elements, mutably.
    fn elements_mut(&mut self) -> impl Iterator<Item = &mut Self::Item>;
}

macro_rules! elements {
    ($iter:ident $iter_mut:ident: $([$($g:tt)*] $t:ty => $item:ty),* $(,)?) => {$(
        impl<$($g)*> Elements for $t {
            type Item = $item;
            fn elements(&self) -> impl Iterator<Item = &Self::Item> {
                self.$iter()
            }
        }
        impl<$($g)*> ElementsMut for $t {
            fn elements_mut(&mut self) -> impl Iterator<Item = &mut Self::Item> {
                self.$iter_mut()
            }
        }
    )*};
}
elements!(iter iter_mut:
    [T] Vec<T> => T,
    [T] [T] => T,
    [T, const N: usize] [T; N] => T,
    [T] VecDeque<T> => T,
);
elements!(values values_mut:
    [K, V, S] HashMap<K, V, S> => V,
    [K, V] BTreeMap<K, V> => V,
);

impl<T, S> Elements for HashSet<T, S> {
    type Item = T;
    fn elements(&self) -> impl Iterator<Item = &T> {
        self.iter()
    }
}

impl<T> Elements for BTreeSet<T> {
    type Item = T;
    fn elements(&self) -> impl Iterator<Item = &T> {
        self.iter()
    }
}
