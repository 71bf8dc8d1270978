//! `Valid<Form<T>>`: a URL-encoded form, deserialised, sanitised and validated.

use axum::body::Bytes;
use axum::extract::{Form, FromRequest, Request};
use axum::http::{Method, StatusCode};
use serde::de::DeserializeOwned;

use super::content_type::is_form;
use super::deserialize::from_urlencoded;
use super::rejection::{body_problem, reject};
use crate::error::Problem;
use crate::validate::{Valid, Validate, Wrapped};

/// Reads an `application/x-www-form-urlencoded` body into `T` (on GET and HEAD, the query
/// string, as axum's `Form` does), rejects keys `T` does not declare, then sanitises and
/// validates it.
///
/// Rejections: 415 without the form content type, 413 over the body limit, 422 for a form that
/// does not fit `T`, has unknown fields or fails a rule. See [the module docs](crate::extract).
///
/// ```
/// use axum::{Router, routing::post};
/// use secure_core::prelude::*;
/// use secure_core::validate::{FieldPath, ValidationErrors};
///
/// #[derive(serde::Deserialize)]
/// struct Comment {
///     text: String,
/// }
///
/// impl Validate for Comment {
///     fn validate_into(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors) {
///         if self.text.len() > 500 {
///             errors.add(&path.field("text"), "length", None, &[]);
///         }
///     }
/// }
///
/// async fn comment(form: Valid<Form<Comment>>) -> String {
///     form.into_value().text
/// }
///
/// let app: Router = Router::new().route("/comments", post(comment));
/// ```
impl<T, S> FromRequest<S> for Valid<Form<T>>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        const EXTRACTOR: &str = "form";
        let value = if req.method() == Method::GET || req.method() == Method::HEAD {
            let query = req.uri().query().unwrap_or_default();
            from_urlencoded::<T>(query.as_bytes())
        } else {
            if !is_form(req.headers()) {
                let problem = Problem::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "Send the body as UTF-8 with Content-Type: application/x-www-form-urlencoded.",
                );
                return Err(reject(EXTRACTOR, problem));
            }
            let bytes = Bytes::from_request(req, state)
                .await
                .map_err(|r| reject(EXTRACTOR, body_problem(&r)))?;
            from_urlencoded::<T>(&bytes)
        };
        let value = value.map_err(|p| reject(EXTRACTOR, p))?;
        Ok(Valid::validated(Form(value)))
    }
}

/// `Valid<Form<T>>::into_value()` gives the `T`.
impl<T> Wrapped for Form<T> {
    type Value = T;
    fn into_value(self) -> T {
        self.0
    }
}
