//! `Valid<Path<T>>`: route parameters, deserialised by axum, then sanitised and validated.

use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path, RawPathParams};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::deserialize::{mismatch_problem, push_index, push_key};
use super::rejection::reject;
use crate::error::Problem;
use crate::validate::{FieldError, Valid, Validate, ValidationErrors, Wrapped};

/// Reads the route parameters into `T` with axum's `Path`, then sanitises and validates them.
///
/// axum's own rejection quotes the parameter's value, so it is replaced: a parameter that does
/// not fit `T` is a 422 `invalid_type` (or `unknown_variant`, ...) with the parameter's name as
/// `field`; a parameter that is not UTF-8 after percent-decoding is a 400; a route that lacks
/// the parameters `T` needs is a routing bug and answers a bare 500. Route parameters are
/// named by the route, not by the client, so there is no unknown-field check here.
///
/// ```
/// use axum::{Router, routing::get};
/// use secure_core::prelude::*;
/// use secure_core::validate::{FieldPath, ValidationErrors};
///
/// #[derive(serde::Deserialize)]
/// struct NoteId {
///     id: u64,
/// }
///
/// impl Validate for NoteId {
///     fn validate_into(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors) {
///         if self.id == 0 {
///             errors.add(&path.field("id"), "range", None, &[]);
///         }
///     }
/// }
///
/// async fn show(note: Valid<Path<NoteId>>) -> String {
///     format!("note {}", note.id)
/// }
///
/// let app: Router = Router::new().route("/notes/{id}", get(show));
/// ```
impl<T, S> FromRequestParts<S> for Valid<Path<T>>
where
    T: DeserializeOwned + Validate + Send,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        const EXTRACTOR: &str = "path";
        let Path(mut value) = match Path::<T>::from_request_parts(parts, state).await {
            Ok(path) => path,
            Err(rejection) => {
                let only_param = only_param_name(parts, state).await;
                return Err(reject(EXTRACTOR, path_problem(rejection, only_param)));
            }
        };
        value.sanitize();
        value
            .validate()
            .map_err(|e| reject(EXTRACTOR, Problem::validation(e)))?;
        Ok(Valid::validated(Path(value)))
    }
}

/// The name of the route's parameter when it has exactly one: axum does not name it when
/// parsing a single value (`Path<u32>`, `Path<Id>` with `struct Id(u32)`) fails.
async fn only_param_name<S: Send + Sync>(parts: &mut Parts, state: &S) -> Option<String> {
    let params = RawPathParams::from_request_parts(parts, state).await.ok()?;
    let mut names = params.iter().map(|(name, _)| name);
    let name = names.next()?;
    names.next().is_none().then(|| name.to_owned())
}

fn path_problem(rejection: PathRejection, only_param: Option<String>) -> Problem {
    let PathRejection::FailedToDeserializePathParams(error) = rejection else {
        // `MissingPathParams`: the extractor runs on a route without parameters.
        return Problem::internal();
    };
    match error.into_kind() {
        ErrorKind::ParseErrorAtKey { key, .. } => invalid_type(|f| push_key(f, &key)),
        ErrorKind::ParseErrorAtIndex { index, .. } => invalid_type(|f| push_index(f, index)),
        ErrorKind::ParseError { .. } => invalid_type(|f| {
            if let Some(name) = &only_param {
                push_key(f, name);
            }
        }),
        ErrorKind::DeserializeError { key, message, .. } => {
            let mut field = String::new();
            push_key(&mut field, &key);
            mismatch_problem(field, &message)
        }
        ErrorKind::InvalidUtf8InPathParam { .. } => Problem::bad_request(),
        // A field of `T` that the route does not define.
        ErrorKind::Message(message) if message.starts_with("missing field") => Problem::internal(),
        ErrorKind::Message(message) => mismatch_problem(String::new(), &message),
        // `WrongNumberOfParameters`, `UnsupportedType` and future kinds: `T` and the route
        // disagree, which the client cannot fix.
        _ => Problem::internal(),
    }
}

fn invalid_type(field: impl FnOnce(&mut String)) -> Problem {
    let mut path = String::new();
    field(&mut path);
    let mut errors = ValidationErrors::new();
    errors.push(FieldError::new(path, "invalid_type"));
    Problem::validation(errors)
}

/// `Valid<Path<T>>::into_value()` gives the `T`.
impl<T> Wrapped for Path<T> {
    type Value = T;
    fn into_value(self) -> T {
        self.0
    }
}
