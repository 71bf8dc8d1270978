//! Extractors that hand a handler only validated input: `Valid<Json<T>>`, `Valid<Query<T>>`,
//! `Valid<Form<T>>` and `Valid<Path<T>>`.
//!
//! Each one deserialises the request, then runs [`Validate::sanitize`] and
//! [`Validate::validate`], and only then builds the [`Valid`] proof; on failure it answers with
//! an RFC 9457 [`Problem`] (`application/problem+json`) and logs one debug line.
//!
//! What this protects against:
//! * **Unvalidated input** (ASVS 5.1.3, 5.1.4): a handler cannot reach a value that skipped the
//!   allowlist rules of its type.
//! * **Mass assignment** (OWASP API3, ASVS 5.1.2): keys the type does not declare are rejected
//!   with `422 unknown_field`, in JSON bodies, query strings and forms alike, unless the type
//!   says `#[validate(allow_unknown_fields)]` (which applies to the whole document).
//! * **Reflected input and leaky errors** (ASVS 7.1.1, 7.4.1): serde's own messages quote the
//!   submitted value (`invalid type: string "hunter2", expected u8`), so they are never
//!   forwarded. They are only classified into a code; the response and the log line are built
//!   from the type definition, the field path and fixed sentences.
//! * **Oversized bodies** (ASVS 13.1.x): bodies are read through axum's `Bytes` extractor, so
//!   [`DefaultBodyLimit`](axum::extract::DefaultBodyLimit) applies and an overlong body is a 413.
//!
//! | status | when |
//! | --- | --- |
//! | 400 | the body is not well-formed (JSON syntax error, truncated body, trailing data) or a path parameter is not UTF-8 |
//! | 413 | the body is over the body limit |
//! | 415 | the `Content-Type` is missing, repeated, or not the extractor's |
//! | 422 | well-formed input that does not fit the type (`missing_field`, `invalid_type`, `invalid_value`, `unknown_variant`, `invalid_length`, `duplicate_field`, `unknown_field`) or fails a rule (`length`, `email`, ...) |
//! | 500 | a `Path<T>` whose route lacks the parameters `T` needs (a routing bug) |
//!
//! # Field paths
//!
//! Each entry of `errors` names the failing value by its path: `address.zip`, `tags[1]`,
//! `items[0].name`; the top-level value is the empty path. A segment that comes from the
//! submitted document rather than from the type (a key of a `HashMap`, the name of an unknown
//! field, an enum variant) is shown only when it matches `[A-Za-z0-9_-]{1,64}`; any other segment
//! is rendered as `*`, so a key cannot smuggle a value, markup or a log-forging line break into
//! the response. At most [`MAX_UNKNOWN_FIELDS`] unknown fields are listed.
//!
//! serde buffers the input of `#[serde(flatten)]` fields and of internally tagged, adjacently
//! tagged or untagged enums, and silently drops the keys no field claims, so `serde_ignored`
//! never sees them. `#[derive(Validated)]` therefore refuses to compile such a type unless the
//! enum has `#[serde(deny_unknown_fields)]` (serde then rejects the key itself, reported here
//! as `unknown_field`) or the type opts out with `#[validate(allow_unknown_fields)]`.
//! Externally tagged enums, serde's default, need neither.
//!
//! # Order of checks
//!
//! Content type, body size and syntax come first. A value that does not fit the type is
//! reported with the first deserialisation error only (serde stops there). Unknown fields are
//! reported together (all of them, up to the limit) **without running the rules**: a document
//! with undeclared keys is rejected as a whole. Only a document that fits the type exactly is
//! sanitised and validated, and then every failed rule is reported.
//!
//! ```
//! use axum::{Router, routing::{get, post}};
//! use secure_core::prelude::*;
//! use secure_core::validate::{FieldPath, ValidationErrors};
//!
//! #[derive(serde::Deserialize)]
//! struct Search {
//!     q: String,
//! }
//!
//! impl Validate for Search {
//!     fn sanitize(&mut self) {
//!         self.q = self.q.trim().to_owned();
//!     }
//!     fn validate_into(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors) {
//!         if self.q.is_empty() {
//!             errors.add(&path.field("q"), "length", None, &[]);
//!         }
//!     }
//! }
//!
//! async fn search(query: Valid<Query<Search>>) -> String {
//!     format!("searching for {}", query.q)
//! }
//!
//! let app: Router = Router::new().route("/search", get(search));
//! ```
//!
//! [`Validate::sanitize`]: crate::Validate::sanitize
//! [`Validate::validate`]: crate::Validate::validate
//! [`Valid`]: crate::Valid
//! [`Problem`]: crate::error::Problem

mod content_type;
mod deserialize;
mod form;
mod json;
mod path;
mod query;
mod rejection;

#[cfg(test)]
mod tests;

pub use deserialize::MAX_UNKNOWN_FIELDS;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) use deserialize::from_urlencoded;
pub use json::{DEFAULT_JSON_MAX_DEPTH, JsonDepthLimit, MAX_JSON_DEPTH};
