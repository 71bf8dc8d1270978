//! Response errors: [`Problem`] (RFC 9457) and [`ApiError`], what a handler returns.

use std::fmt;

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::StoreError;
use crate::validate::{FieldError, ValidationErrors};

/// A problem's `code`, kept beside its response: a fixed string (never input), so the
/// request context may keep it when it replaces a 5xx body with the generic one.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(feature = "edge"), allow(dead_code))]
pub(crate) struct FixedCode(pub(crate) &'static str);

/// The media type of every [`Problem`] response.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem: `{"type":"about:blank","title":..,"status":..,"detail":..,"code":..,"errors":[..]}`.
///
/// * `type` is always `about:blank`, so `title` is the status's reason phrase.
/// * `detail` is a fixed sentence (`&'static str`): it can never contain a submitted value.
///   Server errors (5xx) carry no detail at all, whatever was passed.
/// * `code` (an extension member, optional) is a fixed machine-readable reason that tells a
///   client what to do next, such as `mfa_required` or `reauthentication_required`.
/// * `errors` lists failed rules as `{field, code, params}` (only 422 responses have it).
///
/// ```
/// use axum::http::StatusCode;
/// use secure_core::error::Problem;
///
/// let problem = Problem::payload_too_large();
/// assert_eq!(problem.status(), StatusCode::PAYLOAD_TOO_LARGE);
/// assert_eq!(problem.title(), "Payload Too Large");
///
/// let json = serde_json::to_value(&Problem::internal()).unwrap();
/// assert_eq!(
///     json,
///     serde_json::json!({"type": "about:blank", "title": "Internal Server Error", "status": 500})
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    status: StatusCode,
    detail: Option<&'static str>,
    code: Option<&'static str>,
    errors: Option<ValidationErrors>,
    request_id: Option<String>,
    /// Headers the answer needs (`WWW-Authenticate`, `Retry-After`): fixed values only.
    headers: Vec<(HeaderName, HeaderValue)>,
    /// An extension member (RFC 9457 §3.2) the client acts on, such as a challenge to send
    /// back: in the body, never in `Debug`.
    /// Boxed: problems are the error of every extractor, and this is rare.
    member: Option<Box<(&'static str, MemberValue)>>,
}

/// An extension member's value: shown in the body only, wiped on drop.
#[derive(Clone, PartialEq)]
struct MemberValue(String);

impl fmt::Debug for MemberValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl Drop for MemberValue {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl Problem {
    /// A problem with `status` and a fixed `detail` sentence (dropped for 5xx statuses).
    ///
    /// ```
    /// use axum::http::StatusCode;
    /// use secure_core::error::Problem;
    ///
    /// let p = Problem::new(StatusCode::NOT_FOUND, "No such note.");
    /// assert_eq!(p.detail(), Some("No such note."));
    /// let p = Problem::new(StatusCode::BAD_GATEWAY, "upstream db-7 refused");
    /// assert_eq!(p.detail(), None);
    /// ```
    pub fn new(status: StatusCode, detail: &'static str) -> Self {
        Problem {
            status,
            detail: (!status.is_server_error()).then_some(detail),
            code: None,
            errors: None,
            request_id: None,
            headers: Vec::new(),
            member: None,
        }
    }

    /// 400: the request could not be parsed (JSON syntax error, truncated body, bad encoding).
    pub fn bad_request() -> Self {
        Problem::new(StatusCode::BAD_REQUEST, "The request is not well-formed.")
    }

    /// 413: the body is larger than the endpoint accepts.
    pub fn payload_too_large() -> Self {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "The request body is larger than this endpoint accepts.",
        )
    }

    /// 415: the `Content-Type` is missing or not one the endpoint accepts.
    pub fn unsupported_media_type() -> Self {
        Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "The request's Content-Type is not supported by this endpoint.",
        )
    }

    /// 422: the input was well-formed but did not fit the type or its rules; `errors` says
    /// where and why.
    ///
    /// ```
    /// use secure_core::error::Problem;
    /// use secure_core::validate::{FieldError, ValidationErrors};
    ///
    /// let mut errors = ValidationErrors::new();
    /// errors.push(FieldError::new("age", "range"));
    /// let json = serde_json::to_value(Problem::validation(errors)).unwrap();
    /// assert_eq!(json["status"], 422);
    /// assert_eq!(json["errors"][0]["field"], "age");
    /// ```
    pub fn validation(errors: ValidationErrors) -> Self {
        Problem {
            errors: Some(errors),
            request_id: None,
            ..Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "The request did not pass validation.",
            )
        }
    }

    /// 500 with nothing but the generic title: for bugs such as a route that lacks a path
    /// parameter its handler needs. Log the cause yourself, never in the response.
    pub fn internal() -> Self {
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "")
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The reason phrase of the status, such as `Unprocessable Entity`.
    pub fn title(&self) -> &'static str {
        self.status.canonical_reason().unwrap_or("Error")
    }

    /// The fixed detail sentence; `None` for 5xx.
    pub fn detail(&self) -> Option<&'static str> {
        self.detail
    }

    /// Adds the `code` member: a fixed reason a client can act on.
    ///
    /// ```
    /// use axum::http::StatusCode;
    /// use secure_core::error::Problem;
    ///
    /// let p = Problem::new(StatusCode::UNAUTHORIZED, "Sign in again.").with_code("reauthentication_required");
    /// assert_eq!(serde_json::to_value(&p).unwrap()["code"], "reauthentication_required");
    /// ```
    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    /// The `code` member, if any.
    pub fn code(&self) -> Option<&'static str> {
        self.code
    }

    /// Adds a header to the answer: the challenge of a 401 (`WWW-Authenticate`), the wait of
    /// a 429 or 503 (`Retry-After`).
    ///
    /// ```
    /// use axum::http::{HeaderValue, StatusCode, header};
    /// use axum::response::IntoResponse;
    /// use secure_core::error::Problem;
    ///
    /// let response = Problem::new(StatusCode::SERVICE_UNAVAILABLE, "Busy.")
    ///     .with_header(header::RETRY_AFTER, HeaderValue::from(2))
    ///     .into_response();
    /// assert_eq!(response.headers()["retry-after"], "2");
    /// ```
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Adds an extension member the client acts on, such as the challenge of a sign-in that
    /// needs a second factor: written into the body, redacted in `Debug`. `name` must not be
    /// a member the problem has already (`type`, `title`, `status`, `detail`, `code`,
    /// `errors`, `request_id`).
    ///
    /// ```
    /// use axum::http::StatusCode;
    /// use secure_core::SecretString;
    /// use secure_core::error::Problem;
    ///
    /// let p = Problem::new(StatusCode::UNAUTHORIZED, "Send the code.")
    ///     .with_member("mfa_token", SecretString::from("v1.abc"));
    /// assert_eq!(serde_json::to_value(&p).unwrap()["mfa_token"], "v1.abc");
    /// assert!(!format!("{p:?}").contains("v1.abc"));
    /// ```
    pub fn with_member(mut self, name: &'static str, value: crate::redact::SecretString) -> Self {
        use crate::redact::ExposeSecret as _;
        self.member = Some(Box::new((
            name,
            MemberValue(value.expose_secret().to_owned()),
        )));
        self
    }

    /// The failed rules of a 422 problem.
    pub fn errors(&self) -> Option<&ValidationErrors> {
        self.errors.as_ref()
    }
}

impl From<ValidationErrors> for Problem {
    fn from(errors: ValidationErrors) -> Self {
        Problem::validation(errors)
    }
}

impl Serialize for Problem {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("type", "about:blank")?;
        map.serialize_entry("title", self.title())?;
        map.serialize_entry("status", &self.status.as_u16())?;
        if let Some(detail) = self.detail {
            map.serialize_entry("detail", detail)?;
        }
        if let Some(code) = self.code {
            map.serialize_entry("code", code)?;
        }
        if let Some(errors) = &self.errors {
            map.serialize_entry("errors", errors)?;
        }
        if let Some(id) = &self.request_id {
            map.serialize_entry("request_id", id)?;
        }
        if let Some(member) = &self.member {
            let (name, MemberValue(value)) = &**member;
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        // Serialising our own fields cannot fail; fall back to a bare status just in case.
        let Ok(body) = serde_json::to_vec(&self) else {
            return self.status.into_response();
        };
        let mut response = (self.status, body).into_response();
        if let Some(code) = self.code {
            response.extensions_mut().insert(FixedCode(code));
        }
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        for (name, value) in self.headers {
            headers.append(name, value);
        }
        response
    }
}

impl Problem {
    /// Adds the request id (the `request_id` member), so a client can quote it and an operator
    /// can find the log lines; the only thing a 5xx body says besides its title.
    ///
    /// ```
    /// use secure_core::error::Problem;
    ///
    /// let body = serde_json::to_value(Problem::internal().with_request_id("abc123")).unwrap();
    /// assert_eq!(body["request_id"], "abc123");
    /// assert!(body.get("detail").is_none());
    /// ```
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = Some(request_id.into());
        self
    }
}

/// `422 Unprocessable Entity`: shows the status and title only (the detail and errors are in
/// the body), so it can go to a log line.
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.title())
    }
}

impl std::error::Error for Problem {}

/// The error a handler returns. It renders as problem+json: a client error says what went
/// wrong in a fixed sentence; a server error says only its title and the request id, and its
/// cause goes to the log under that id (ASVS 7.4.1: no internals in responses).
///
/// ```
/// use axum::http::StatusCode;
/// use axum::response::IntoResponse;
/// use secure_core::error::ApiError;
///
/// fn load(id: u64) -> Result<String, ApiError> {
///     let row: Result<String, std::io::Error> =
///         Err(std::io::Error::other("connection to 10.0.0.5:5432 refused"));
///     row.map_err(ApiError::internal)
/// }
///
/// let response = load(1).unwrap_err().into_response();
/// assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
/// assert_eq!(ApiError::NotFound.into_response().status(), StatusCode::NOT_FOUND);
/// ```
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400, with a fixed sentence saying what is wrong.
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// 401 with `WWW-Authenticate: Bearer`.
    #[error("unauthorized")]
    Unauthorized,
    /// 403.
    #[error("forbidden")]
    Forbidden,
    /// 404; also the answer for objects the caller may not see, so their existence is not
    /// revealed (OWASP API1).
    #[error("not found")]
    NotFound,
    /// 409, with a fixed sentence.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// 422 with every failed rule.
    #[error(transparent)]
    Validation(#[from] ValidationErrors),
    /// 500; the cause is logged, never sent.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Any other answer, as the problem says (`?` on a [`Problem`] gives this).
    #[error(transparent)]
    Problem(Box<Problem>),
}

impl From<Problem> for ApiError {
    fn from(problem: Problem) -> Self {
        ApiError::Problem(Box::new(problem))
    }
}

/// A store that could not answer: a 500 whose cause is logged.
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        ApiError::internal(error)
    }
}

/// A query that failed: a 500 whose cause (the database's message) is logged, never sent.
/// `RowNotFound` too: a row the handler expected is a bug, not the client's 404.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        ApiError::internal(error)
    }
}

impl ApiError {
    /// A 422 with one failed rule on `field` (`code`, as a rule would name it).
    ///
    /// ```
    /// use secure_core::error::ApiError;
    ///
    /// let error = ApiError::field("username", "taken");
    /// assert_eq!(error.to_string(), "validation failed: username: taken;");
    /// ```
    pub fn field(field: &str, code: &'static str) -> Self {
        let mut errors = ValidationErrors::new();
        errors.push(FieldError::new(field, code));
        ApiError::Validation(errors)
    }
}

impl ApiError {
    /// Wraps any error as a 500 whose cause goes only to the log.
    pub fn internal(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        ApiError::Internal(error.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::BadRequest(detail) => {
                Problem::new(StatusCode::BAD_REQUEST, detail).into_response()
            }
            ApiError::Unauthorized => {
                let mut response =
                    Problem::new(StatusCode::UNAUTHORIZED, "Authentication is required.")
                        .into_response();
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                response
            }
            ApiError::Forbidden => {
                Problem::new(StatusCode::FORBIDDEN, "You are not allowed to do this.")
                    .into_response()
            }
            ApiError::NotFound => {
                Problem::new(StatusCode::NOT_FOUND, "There is nothing at this address.")
                    .into_response()
            }
            ApiError::Conflict(detail) => {
                Problem::new(StatusCode::CONFLICT, detail).into_response()
            }
            ApiError::Validation(errors) => Problem::validation(errors).into_response(),
            ApiError::Problem(problem) => problem.into_response(),
            ApiError::Internal(cause) => {
                let request_id = crate::audit::current().map(|c| c.request_id().to_owned());
                let id = request_id.as_deref().unwrap_or("-");
                let cause = cause.to_string();
                tracing::error!(
                    target: "secure::error",
                    request_id = %id,
                    cause = %crate::audit::escape_control(&cause),
                    "internal error"
                );
                let problem = Problem::internal();
                match request_id {
                    Some(id) => problem.with_request_id(id).into_response(),
                    None => problem.into_response(),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::FieldError;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn response_is_problem_json() {
        let mut errors = ValidationErrors::new();
        errors.push(FieldError::new("address.zip", "pattern"));
        let response = Problem::validation(errors).into_response();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "type": "about:blank",
                "title": "Unprocessable Entity",
                "status": 422,
                "detail": "The request did not pass validation.",
                "errors": [{"field": "address.zip", "code": "pattern", "params": {}}],
            })
        );
    }

    #[test]
    fn server_errors_have_no_detail() {
        let p = Problem::new(StatusCode::SERVICE_UNAVAILABLE, "db at 10.0.0.7 is down");
        let json = serde_json::to_string(&p).unwrap();
        assert!(!json.contains("10.0.0.7"));
        assert_eq!(p.to_string(), "503 Service Unavailable");
    }
}
