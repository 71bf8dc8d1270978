//! [`Valid`]: the proof that a value passed validation.

use std::fmt;
use std::ops::Deref;

use super::{Validate, ValidationErrors};

/// A value that was sanitised and then passed every rule of its type.
///
/// There is no way to build a `Valid` without validating: [`Valid::new`] runs the rules, and
/// the extractors (`Valid<Json<T>>`, `Valid<Query<T>>`, `Valid<Form<T>>`, `Valid<Path<T>>`)
/// run them on the request. Read the value through `Deref` (`body.username`) or take it with
/// [`Valid::into_inner`] / [`Valid::into_value`].
///
/// ```
/// use secure_core::prelude::*;
///
/// #[derive(Validated)]
/// struct Name {
///     #[validate(trim, length(min = 1, max = 20))]
///     name: String,
/// }
///
/// let name = Valid::new(Name { name: "  Ada ".into() }).unwrap();
/// assert_eq!(name.name, "Ada");
/// assert!(Valid::new(Name { name: "   ".into() }).is_err());
/// ```
pub struct Valid<T>(T);

impl<T: Validate> Valid<T> {
    /// Sanitises `value`, validates it, and returns the proof or every failure.
    pub fn new(mut value: T) -> Result<Self, ValidationErrors> {
        value.sanitize();
        value.validate()?;
        Ok(Valid(value))
    }
}

impl<T> Valid<T> {
    /// Only for extractors that have just validated the inner value.
    pub(crate) fn validated(value: T) -> Self {
        Valid(value)
    }

    /// Gives up the proof and returns the value (for an extractor, the wrapper such as `Json<T>`).
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// Extractor wrappers whose content `Valid` can unwrap (`Json<T>` -> `T`).
pub trait Wrapped {
    /// The deserialised value inside the wrapper.
    type Value;
    /// Unwraps the value.
    fn into_value(self) -> Self::Value;
}

impl<W: Wrapped> Valid<W> {
    /// Returns the value inside the extractor: `Valid<Json<T>>` gives `T`.
    pub fn into_value(self) -> W::Value {
        self.0.into_value()
    }
}

impl<T> Deref for Valid<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: fmt::Debug> fmt::Debug for Valid<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Valid").field(&self.0).finish()
    }
}

impl<T: Clone> Clone for Valid<T> {
    fn clone(&self) -> Self {
        Valid(self.0.clone())
    }
}
