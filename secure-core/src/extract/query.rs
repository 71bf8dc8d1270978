//! `Valid<Query<T>>`: the query string, deserialised, sanitised and validated.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::deserialize::from_urlencoded;
use super::rejection::reject;
use crate::error::Problem;
use crate::validate::{Valid, Validate, Wrapped};

/// Reads the query string into `T` (a request without one reads as the empty string), rejects
/// keys `T` does not declare, then sanitises and validates it.
///
/// Rejections: 422 for a query string that does not fit `T`, has unknown parameters or fails
/// a rule. See [the module docs](crate::extract) for the full contract.
///
/// ```
/// use axum::{Router, routing::get};
/// use secure_core::prelude::*;
/// use secure_core::validate::{FieldPath, ValidationErrors};
///
/// #[derive(serde::Deserialize)]
/// struct Page {
///     #[serde(default)]
///     page: u32,
/// }
///
/// impl Validate for Page {
///     fn validate_into(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors) {
///         if self.page > 1000 {
///             errors.add(&path.field("page"), "range", None, &[]);
///         }
///     }
/// }
///
/// async fn list(page: Valid<Query<Page>>) -> String {
///     format!("page {}", page.page)
/// }
///
/// let app: Router = Router::new().route("/notes", get(list));
/// ```
impl<T, S> FromRequestParts<S> for Valid<Query<T>>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Problem> {
        let query = parts.uri.query().unwrap_or_default();
        let value = from_urlencoded::<T>(query.as_bytes()).map_err(|p| reject("query", p))?;
        Ok(Valid::validated(Query(value)))
    }
}

/// `Valid<Query<T>>::into_value()` gives the `T`.
impl<T> Wrapped for Query<T> {
    type Value = T;
    fn into_value(self) -> T {
        self.0
    }
}
