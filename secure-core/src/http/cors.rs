//! Strict CORS: an allowlist of exact origins, checked when the configuration is built, with
//! tower-http's `CorsLayer` underneath. Without a [`CorsConfig`] there is no CORS layer at
//! all, and browsers allow same-origin calls only.
//!
//! A request from an origin that is not listed gets no `Access-Control-*` header, and its
//! preflight is refused with a 403 problem; a listed origin's preflight is answered before
//! authentication and rate limiting (browsers send no credentials with a preflight).
//!
//! ```
//! use secure_core::http::cors::CorsConfig;
//!
//! let cors = CorsConfig::builder()
//!     .allow_origin("https://app.example.com")
//!     .allow_credentials()
//!     .build()
//!     .unwrap();
//! # let _ = cors;
//!
//! let refused = CorsConfig::builder().allow_origin("*").allow_credentials().build();
//! assert!(refused.is_err());
//! ```

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::header::{
    ACCESS_CONTROL_REQUEST_METHOD, AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue, ORIGIN,
    RETRY_AFTER,
};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::error::ConfigError;
use crate::error::Problem;
use crate::http::context::REQUEST_ID;
use crate::session::CSRF_HEADER;

/// How long browsers may cache a preflight answer by default: 10 minutes.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(600);

#[derive(Debug, Clone)]
enum Origins {
    Any,
    List(Vec<HeaderValue>),
}

/// Validated CORS settings: build them with [`CorsConfig::builder`] and pass them to
/// [`SecurityConfig::cors`](crate::config::SecurityConfig::cors).
#[derive(Debug, Clone)]
pub struct CorsConfig {
    origins: Origins,
    methods: Vec<Method>,
    headers: Vec<HeaderName>,
    expose: Vec<HeaderName>,
    credentials: bool,
    max_age: Duration,
}

/// Builds a [`CorsConfig`]; [`build`](CorsBuilder::build) validates it.
#[derive(Debug, Clone)]
pub struct CorsBuilder {
    origins: Vec<String>,
    methods: Vec<Method>,
    headers: Vec<String>,
    expose: Vec<String>,
    credentials: bool,
    max_age: Duration,
}

impl CorsConfig {
    /// A builder with the defaults: no origin (add at least one), methods `GET`, `POST`,
    /// `PUT`, `PATCH`, `DELETE`; request headers `Authorization`, `Content-Type`,
    /// `X-CSRF-Token`, `X-Request-Id`; exposed headers `X-Request-Id`, `Retry-After`,
    /// `RateLimit`, `RateLimit-Policy`; no
    /// credentials; preflights cached 10 minutes.
    pub fn builder() -> CorsBuilder {
        CorsBuilder {
            origins: Vec::new(),
            methods: vec![
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ],
            headers: vec![
                AUTHORIZATION.as_str().to_owned(),
                CONTENT_TYPE.as_str().to_owned(),
                CSRF_HEADER.to_owned(),
                REQUEST_ID.as_str().to_owned(),
            ],
            expose: vec![
                REQUEST_ID.as_str().to_owned(),
                RETRY_AFTER.as_str().to_owned(),
                "ratelimit".to_owned(),
                "ratelimit-policy".to_owned(),
            ],
            credentials: false,
            max_age: DEFAULT_MAX_AGE,
        }
    }

    /// Whether `origin` may make cross-origin calls.
    pub fn allows_origin(&self, origin: &HeaderValue) -> bool {
        match &self.origins {
            Origins::Any => true,
            Origins::List(list) => list.iter().any(|o| o == origin),
        }
    }

    pub(crate) fn layer(&self) -> CorsLayer {
        let origin = match &self.origins {
            Origins::Any => AllowOrigin::any(),
            Origins::List(list) => AllowOrigin::list(list.iter().cloned()),
        };
        CorsLayer::new()
            .allow_origin(origin)
            .allow_methods(self.methods.clone())
            .allow_headers(self.headers.clone())
            .expose_headers(self.expose.clone())
            .allow_credentials(self.credentials)
            .max_age(self.max_age)
    }
}

impl CorsBuilder {
    /// Allows one origin, written exactly as browsers send it: `scheme://host[:port]`, no
    /// path, no trailing slash, lowercase. `"*"` allows every origin (only without
    /// credentials).
    pub fn allow_origin(mut self, origin: &str) -> Self {
        self.origins.push(origin.to_owned());
        self
    }

    /// Allows several origins (see [`allow_origin`](Self::allow_origin)).
    pub fn allow_origins<I, T>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        self.origins
            .extend(origins.into_iter().map(|o| o.as_ref().to_owned()));
        self
    }

    /// Replaces the allowed methods.
    pub fn allow_methods<I: IntoIterator<Item = Method>>(mut self, methods: I) -> Self {
        self.methods = methods.into_iter().collect();
        self
    }

    /// Replaces the allowed request headers.
    pub fn allow_headers<I, T>(mut self, headers: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        self.headers = headers.into_iter().map(|h| h.as_ref().to_owned()).collect();
        self
    }

    /// Replaces the response headers scripts may read.
    pub fn expose_headers<I, T>(mut self, headers: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        self.expose = headers.into_iter().map(|h| h.as_ref().to_owned()).collect();
        self
    }

    /// Lets the listed origins send cookies and `Authorization` (opt-in;
    /// `Access-Control-Allow-Credentials: true`). Refused with the `*` origin.
    pub fn allow_credentials(mut self) -> Self {
        self.credentials = true;
        self
    }

    /// How long browsers may cache a preflight answer (at most 24 hours).
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// Validates the settings.
    pub fn build(self) -> Result<CorsConfig, ConfigError> {
        let err = |m: String| Err(ConfigError::Cors(m));
        if self.origins.is_empty() {
            return err(
                "no origin is allowed: add one, or leave CORS unconfigured for same-origin only"
                    .to_owned(),
            );
        }
        let origins = if self.origins.iter().any(|o| o == "*") {
            if self.credentials {
                return err(
                    "the `*` origin cannot be combined with credentials: list the exact origins"
                        .to_owned(),
                );
            }
            if self.origins.len() > 1 {
                return err("`*` allows every origin: do not list others beside it".to_owned());
            }
            Origins::Any
        } else {
            let mut list = Vec::with_capacity(self.origins.len());
            for origin in &self.origins {
                list.push(check_origin(origin).map_err(|m| {
                    ConfigError::Cors(format!(
                        "origin {:?}: {m}",
                        origin.escape_debug().to_string()
                    ))
                })?);
            }
            Origins::List(list)
        };
        if self.methods.is_empty() {
            return err("no method is allowed".to_owned());
        }
        let names = |list: &[String], what: &str| -> Result<Vec<HeaderName>, ConfigError> {
            list.iter()
                .map(|h| {
                    HeaderName::from_bytes(h.as_bytes()).map_err(|_| {
                        ConfigError::Cors(format!(
                            "{what} {:?} is not a valid header name",
                            h.escape_debug().to_string()
                        ))
                    })
                })
                .collect()
        };
        let headers = names(&self.headers, "allowed header")?;
        let expose = names(&self.expose, "exposed header")?;
        if headers.iter().any(|h| h == "*") || expose.iter().any(|h| h == "*") {
            return err("list header names, not `*`".to_owned());
        }
        if self.max_age > Duration::from_secs(86_400) {
            return err("max_age above 24 hours (browsers cap it anyway)".to_owned());
        }
        Ok(CorsConfig {
            origins,
            methods: self.methods,
            headers,
            expose,
            credentials: self.credentials,
            max_age: self.max_age,
        })
    }
}

fn check_origin(origin: &str) -> Result<HeaderValue, String> {
    if origin.contains('*') {
        return Err("wildcard host parts are not allowed: list each origin".to_owned());
    }
    if origin.eq_ignore_ascii_case("null") {
        return Err("the `null` origin (sandboxed frames, files) cannot be trusted".to_owned());
    }
    let url = url::Url::parse(origin).map_err(|e| format!("not an origin ({e})"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err("the scheme must be https (or http for localhost)".to_owned());
    }
    let canonical = url.origin().ascii_serialization();
    if canonical != origin {
        return Err(format!(
            "not an exact origin (scheme://host[:port], lowercase, no path, no trailing slash, default port omitted): write {canonical:?}"
        ));
    }
    if url.scheme() == "http"
        && !matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
    {
        return Err("plain http is allowed for localhost only: use https".to_owned());
    }
    HeaderValue::from_str(origin).map_err(|_| "not a valid header value".to_owned())
}

/// In front of tower-http's layer: refuses the preflights of origins (or methods) not
/// allowed with a 403 problem, and strips every `Access-Control-*` header from answers to
/// requests whose origin is absent or not allowed.
pub(crate) async fn guard(
    State(cors): State<Arc<CorsConfig>>,
    request: Request,
    next: Next,
) -> Response {
    let allowed = request
        .headers()
        .get(ORIGIN)
        .is_some_and(|o| cors.allows_origin(o));
    let preflight = request.method() == Method::OPTIONS
        && request.headers().contains_key(ORIGIN)
        && request
            .headers()
            .contains_key(ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        let method_allowed = request
            .headers()
            .get(ACCESS_CONTROL_REQUEST_METHOD)
            .and_then(|m| Method::from_bytes(m.as_bytes()).ok())
            .is_some_and(|m| cors.methods.contains(&m));
        if !allowed || !method_allowed {
            return Problem::new(
                StatusCode::FORBIDDEN,
                "Cross-origin requests from this origin or with this method are not allowed.",
            )
            .into_response();
        }
    }
    let mut response = next.run(request).await;
    if !allowed {
        let names: Vec<HeaderName> = response
            .headers()
            .keys()
            .filter(|n| n.as_str().starts_with("access-control-"))
            .cloned()
            .collect();
        for name in names {
            response.headers_mut().remove(name);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_must_be_exact() {
        assert!(check_origin("https://app.example.com").is_ok());
        assert!(check_origin("https://app.example.com:8443").is_ok());
        assert!(check_origin("http://localhost:3000").is_ok());
        for bad in [
            "https://app.example.com/",
            "https://app.example.com/path",
            "https://*.example.com",
            "https://APP.example.com",
            "https://app.example.com:443",
            "http://app.example.com",
            "https://user@app.example.com",
            "null",
            "app.example.com",
            "ftp://app.example.com",
        ] {
            assert!(check_origin(bad).is_err(), "{bad}");
        }
    }
}
