//! Validation failures: a field path, a stable code and the rule's parameters.
//!
//! Nothing here holds the submitted value: parameters come from the rule as written in the
//! type definition, so an error can be logged or returned to the client without leaking input
//! (ASVS 7.1.1, 5.1.3).

use std::borrow::Cow;
use std::fmt;

use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};

use super::FieldPath;

/// A parameter of a failed rule, such as `min` for `length`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Param {
    /// A signed integer bound.
    Int(i64),
    /// An unsigned integer bound.
    UInt(u64),
    /// A floating point bound.
    Float(f64),
    /// A boolean flag.
    Bool(bool),
    /// A string from the type definition (a field name, a scheme, an allowed value).
    Str(&'static str),
    /// A list from the type definition (the allowed values of `one_of`).
    List(&'static [Param]),
}

impl Serialize for Param {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Param::Int(v) => s.serialize_i64(v),
            Param::UInt(v) => s.serialize_u64(v),
            Param::Float(v) => s.serialize_f64(v),
            Param::Bool(v) => s.serialize_bool(v),
            Param::Str(v) => s.serialize_str(v),
            Param::List(v) => v.serialize(s),
        }
    }
}

/// The parameters of one failed rule, in declaration order.
pub type Params = &'static [(&'static str, Param)];

/// One failed rule at one place in the input.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    field: String,
    code: Cow<'static, str>,
    message: Option<Cow<'static, str>>,
    params: Params,
}

impl FieldError {
    /// Builds an error for `field` (a rendered path such as `address.zip`).
    pub fn new(field: impl Into<String>, code: impl Into<Cow<'static, str>>) -> Self {
        FieldError {
            field: field.into(),
            code: code.into(),
            message: None,
            params: &[],
        }
    }

    /// The path of the failing value, such as `address.zip` or `tags[3]`; empty for the
    /// top-level value.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The stable machine-readable code, such as `length` or `email`.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The message set with `message = "..."`, if any.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// The rule's parameters, such as `[("min", 3), ("max", 32)]`.
    pub fn params(&self) -> Params {
        self.params
    }

    /// The value of one parameter.
    pub fn param(&self, name: &str) -> Option<Param> {
        self.params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }
}

struct ParamsMap(Params);

impl Serialize for ParamsMap {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl Serialize for FieldError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let len = if self.message.is_some() { 4 } else { 3 };
        let mut st = s.serialize_struct("FieldError", len)?;
        st.serialize_field("field", &self.field)?;
        st.serialize_field("code", &self.code)?;
        if let Some(message) = &self.message {
            st.serialize_field("message", message)?;
        }
        st.serialize_field("params", &ParamsMap(self.params))?;
        st.end()
    }
}

/// Every rule that failed while validating one value.
///
/// Empty until the first failure, so building one costs nothing on valid input.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ValidationErrors {
    errors: Vec<FieldError>,
}

impl ValidationErrors {
    /// No errors yet.
    pub const fn new() -> Self {
        ValidationErrors { errors: Vec::new() }
    }

    /// Whether no rule failed.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// How many rules failed.
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// The failures, in the order the rules ran.
    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// Iterates over the failures.
    pub fn iter(&self) -> std::slice::Iter<'_, FieldError> {
        self.errors.iter()
    }

    /// Records a failed rule at `path`.
    pub fn add(
        &mut self,
        path: &FieldPath<'_>,
        code: &'static str,
        message: Option<&'static str>,
        params: Params,
    ) {
        self.errors.push(FieldError {
            field: path.to_string(),
            code: Cow::Borrowed(code),
            message: message.map(Cow::Borrowed),
            params,
        });
    }

    /// Records the error returned by a `custom` rule at `path`. A code or message set on the
    /// rule attribute overrides the function's own.
    pub fn add_custom(
        &mut self,
        path: &FieldPath<'_>,
        error: ValidationError,
        code: Option<&'static str>,
        message: Option<&'static str>,
    ) {
        self.errors.push(FieldError {
            field: path.to_string(),
            code: code.map(Cow::Borrowed).unwrap_or(error.code),
            message: message.map(Cow::Borrowed).or(error.message),
            params: error.params,
        });
    }

    /// Adds an already built error.
    pub fn push(&mut self, error: FieldError) {
        self.errors.push(error);
    }

    /// `Ok(())` when empty, else `Err(self)`.
    pub fn into_result(self) -> Result<(), ValidationErrors> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
}

impl Serialize for ValidationErrors {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.errors.serialize(s)
    }
}

impl<'a> IntoIterator for &'a ValidationErrors {
    type Item = &'a FieldError;
    type IntoIter = std::slice::Iter<'a, FieldError>;
    fn into_iter(self) -> Self::IntoIter {
        self.errors.iter()
    }
}

impl IntoIterator for ValidationErrors {
    type Item = FieldError;
    type IntoIter = std::vec::IntoIter<FieldError>;
    fn into_iter(self) -> Self::IntoIter {
        self.errors.into_iter()
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "validation failed:")?;
        for e in &self.errors {
            let field = if e.field.is_empty() {
                "(value)"
            } else {
                &e.field
            };
            write!(f, " {field}: {};", e.code)?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

/// The failure a `custom` rule function returns.
///
/// ```
/// use secure_core::validate::ValidationError;
///
/// fn not_reserved(name: &str) -> Result<(), ValidationError> {
///     if name == "admin" {
///         return Err(ValidationError::new("reserved").with_message("this name is reserved"));
///     }
///     Ok(())
/// }
/// assert_eq!(not_reserved("admin").unwrap_err().code(), "reserved");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationError {
    code: Cow<'static, str>,
    message: Option<Cow<'static, str>>,
    params: Params,
}

impl ValidationError {
    /// A failure with a stable code such as `"reserved"`.
    pub fn new(code: impl Into<Cow<'static, str>>) -> Self {
        ValidationError {
            code: code.into(),
            message: None,
            params: &[],
        }
    }

    /// Adds a human-readable message. Do not put the submitted value in it.
    pub fn with_message(mut self, message: impl Into<Cow<'static, str>>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Adds static parameters.
    pub fn with_params(mut self, params: Params) -> Self {
        self.params = params;
        self
    }

    /// The code.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The message, if any.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code)
    }
}

impl std::error::Error for ValidationError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_field_code_and_params() {
        let mut errors = ValidationErrors::new();
        let root = FieldPath::root();
        let name = root.field("name");
        errors.add(&name, "length", None, &[("min", Param::UInt(3))]);
        let json = serde_json::to_value(&errors).unwrap();
        assert_eq!(
            json,
            serde_json::json!([{"field": "name", "code": "length", "params": {"min": 3}}])
        );
    }

    #[test]
    fn custom_overrides_code_and_message() {
        let mut errors = ValidationErrors::new();
        let root = FieldPath::root();
        errors.add_custom(
            &root,
            ValidationError::new("inner").with_message("inner message"),
            Some("outer"),
            None,
        );
        assert_eq!(errors.errors()[0].code(), "outer");
        assert_eq!(errors.errors()[0].message(), Some("inner message"));
    }
}
