//! Allowlist validation and sanitisation of input (OWASP ASVS 5.1: input validation).
//!
//! [`Validate`] is usually derived with [`#[derive(Validated)]`](crate::Validated); [`Valid`]
//! is the proof that a value passed it. Handlers take `Valid<Json<T>>` and friends (see
//! [`crate::extract`]), so a handler cannot see input that skipped validation.

pub mod body;
mod errors;
mod path;
pub mod rules;
pub mod sanitize;
mod valid;

pub use errors::{FieldError, Param, Params, ValidationError, ValidationErrors};
pub use path::FieldPath;
pub use valid::{Valid, Wrapped};

/// A type whose values can be sanitised and checked against allowlist rules.
///
/// Derive it with `#[derive(Validated)]`. By hand, implement [`Validate::validate_into`]
/// (and [`Validate::sanitize`] when there is something to normalise); `validate` is provided.
///
/// ```
/// use secure_core::validate::{FieldPath, Validate, ValidationErrors};
///
/// struct Port(u16);
///
/// impl Validate for Port {
///     fn validate_into(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors) {
///         if self.0 < 1024 {
///             errors.add(path, "range", None, &[]);
///         }
///     }
/// }
///
/// assert!(Port(8080).validate().is_ok());
/// assert_eq!(Port(22).validate().unwrap_err().errors()[0].code(), "range");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not implement `Validate`",
    label = "this type has no validation rules",
    note = "add `#[derive(Validated)]` to `{Self}` (or implement `secure_core::Validate` by hand)"
)]
pub trait Validate {
    /// Normalises the value in place (trim, case, Unicode normalisation, ...) before
    /// validation. Idempotent: sanitising twice gives the same value as once.
    fn sanitize(&mut self) {}

    /// Checks every rule and returns all failures, each with its field path.
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        self.validate_into(&FieldPath::root(), &mut errors);
        errors.into_result()
    }

    /// Checks every rule, recording failures under `path`. Called for nested values.
    fn validate_into(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors);

    /// Whether extractors accept keys the type does not declare. `false` unless the type has
    /// `#[validate(allow_unknown_fields)]`: unknown fields are rejected to stop mass assignment
    /// (OWASP API3).
    fn allows_unknown_fields() -> bool
    where
        Self: Sized,
    {
        false
    }

    /// The largest body of this type the rules accept, in its longest JSON encoding
    /// ([`body`]); `None` when a field has no maximum. `#[derive(Validated)]` computes it; a
    /// route taking the type as its body gets it as its body limit.
    const MAX_BODY: Option<body::MaxBody> = None;
}

impl<T: Validate + ?Sized> Validate for Box<T> {
    const MAX_BODY: Option<body::MaxBody> = T::MAX_BODY;
    fn sanitize(&mut self) {
        (**self).sanitize();
    }
    fn validate_into(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors) {
        (**self).validate_into(path, errors);
    }
}

impl<T: Validate> Validate for Option<T> {
    // `null`, or the value: never shorter than four bytes and the body slack around them.
    const MAX_BODY: Option<body::MaxBody> = T::MAX_BODY;
    fn sanitize(&mut self) {
        if let Some(v) = self {
            v.sanitize();
        }
    }
    fn validate_into(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors) {
        if let Some(v) = self {
            v.validate_into(path, errors);
        }
    }
}

impl<T: Validate> Validate for [T] {
    fn sanitize(&mut self) {
        self.iter_mut().for_each(Validate::sanitize);
    }
    fn validate_into(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors) {
        for (i, v) in self.iter().enumerate() {
            v.validate_into(&path.index(i), errors);
        }
    }
}

impl<T: Validate> Validate for Vec<T> {
    fn sanitize(&mut self) {
        self.as_mut_slice().sanitize();
    }
    fn validate_into(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors) {
        self.as_slice().validate_into(path, errors);
    }
}
