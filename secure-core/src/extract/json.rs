//! `Valid<Json<T>>`: a JSON body, deserialised, sanitised and validated.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use super::content_type::is_json;
use super::deserialize::{check, deserialize_tracked, mismatch_problem};
use super::rejection::{body_problem, reject};
use crate::error::Problem;
use crate::validate::{Valid, Validate, Wrapped};

/// Reads a JSON body (`Content-Type: application/json` or `application/*+json`) into `T`,
/// rejects keys `T` does not declare, then sanitises and validates it.
///
/// Rejections: 415 without a JSON content type, 413 over the body limit, 400 for a body that
/// is not well-formed JSON, 422 for JSON that does not fit `T`, has unknown fields or fails a
/// rule. See [the module docs](crate::extract) for the full contract.
///
/// ```
/// use axum::{Router, routing::post};
/// use secure_core::prelude::*;
/// use secure_core::validate::{FieldPath, ValidationErrors};
///
/// #[derive(serde::Deserialize)]
/// struct Rename {
///     name: String,
/// }
///
/// impl Validate for Rename {
///     fn sanitize(&mut self) {
///         self.name = self.name.trim().to_owned();
///     }
///     fn validate_into(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors) {
///         if self.name.is_empty() || self.name.chars().count() > 40 {
///             errors.add(&path.field("name"), "length", None, &[]);
///         }
///     }
/// }
///
/// async fn rename(body: Valid<Json<Rename>>) -> String {
///     // `body.name` reads through the proof; `body.into_value()` takes the `Rename`.
///     format!("renamed to {}", body.name)
/// }
///
/// let app: Router = Router::new().route("/rename", post(rename));
/// ```
impl<T, S> FromRequest<S> for Valid<Json<T>>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        const EXTRACTOR: &str = "json";
        if !is_json(req.headers()) {
            let problem = Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Send the body as UTF-8 with Content-Type: application/json.",
            );
            return Err(reject(EXTRACTOR, problem));
        }
        let max_depth = req
            .extensions()
            .get::<JsonDepthLimit>()
            .map_or(DEFAULT_JSON_MAX_DEPTH, |l| l.0);
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|r| reject(EXTRACTOR, body_problem(&r)))?;
        if nesting_exceeds(&bytes, max_depth) {
            let problem = Problem::new(
                StatusCode::BAD_REQUEST,
                "The JSON body is nested too deeply.",
            );
            return Err(reject(EXTRACTOR, problem));
        }
        let value = from_json::<T>(&bytes).map_err(|p| reject(EXTRACTOR, p))?;
        Ok(Valid::validated(Json(value)))
    }
}

/// The most a JSON nesting limit may be: serde_json's own recursion limit.
pub const MAX_JSON_DEPTH: usize = 128;

/// The default JSON nesting limit: 32 levels of arrays and objects. Real request bodies rarely
/// pass 5; deep nesting only costs the parser stack and time (serde_json's own limit is 128).
pub const DEFAULT_JSON_MAX_DEPTH: usize = 32;

/// How deep `Valid<Json<T>>` lets arrays and objects nest, as a request extension
/// ([`SecureRouter::into_app`](crate::policy::SecureRouter::into_app) inserts the
/// configured one; without it, [`DEFAULT_JSON_MAX_DEPTH`](DEFAULT_JSON_MAX_DEPTH)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonDepthLimit(pub usize);

/// Whether `[`/`{` nest deeper than `max` outside strings: one pass over the bytes before the
/// parser, so a deep body is refused without recursion. Malformed JSON is left to the parser.
fn nesting_exceeds(bytes: &[u8], max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

fn from_json<T: DeserializeOwned + Validate>(bytes: &[u8]) -> Result<T, Problem> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let (value, unknown) = match deserialize_tracked::<T, _>(&mut de) {
        Ok(parsed) => parsed,
        Err(m) => {
            return Err(match m.error.classify() {
                Category::Data => mismatch_problem(m.path, &m.error.to_string()),
                Category::Syntax | Category::Eof | Category::Io => Problem::bad_request(),
            });
        }
    };
    // Trailing data after the document is a malformed body, not extra input to ignore.
    de.end().map_err(|_| Problem::bad_request())?;
    check(value, unknown)
}

/// `Valid<Json<T>>::into_value()` gives the `T`.
impl<T> Wrapped for Json<T> {
    type Value = T;
    fn into_value(self) -> T {
        self.0
    }
}

#[cfg(test)]
mod depth_tests {
    use super::nesting_exceeds;

    #[test]
    fn nesting_is_counted_outside_strings() {
        assert!(!nesting_exceeds(br#"{"a":[1,{"b":2}]}"#, 3));
        assert!(nesting_exceeds(br#"{"a":[1,{"b":[2]}]}"#, 3));
        // Brackets inside strings, and escaped quotes, do not count.
        assert!(!nesting_exceeds(br#"{"a":"[[[[{{{{\"[[[["}"#, 1));
        assert!(nesting_exceeds(&[b'['; 33], 32));
        assert!(!nesting_exceeds(&[b'['; 32], 32));
    }
}
