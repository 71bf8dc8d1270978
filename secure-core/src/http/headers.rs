//! Security headers on every response: 2xx, problems, the 404 fallback, 429, caught panics and
//! CORS preflights (OWASP ASVS 14.4, OWASP Secure Headers Project, Mozilla Observatory).
//!
//! Two profiles: [`SecurityHeaders::api`] (the default, for JSON services) and
//! [`SecurityHeaders::web`] (helmet 8's defaults, for services that serve HTML). Values set here
//! override what a handler sets, so a handler cannot weaken them; `Server` and `X-Powered-By`
//! are always removed.
//!
//! ```
//! use secure_core::http::headers::{ContentSecurityPolicy, NoStore, SecurityHeaders};
//!
//! let csp = ContentSecurityPolicy::builder()
//!     .directive("default-src", ["'self'"])
//!     .directive("img-src", ["'self'", "https://img.example.com"])
//!     .directive("frame-ancestors", ["'none'"])
//!     .build()
//!     .unwrap();
//! let headers = SecurityHeaders::web()
//!     .csp(csp)
//!     .hsts_preload()
//!     .no_store(NoStore::Authenticated);
//! assert!(headers.get("content-security-policy").is_some());
//!
//! let refused = ContentSecurityPolicy::builder()
//!     .directive("script-src", ["'self'", "'unsafe-inline'"])
//!     .build();
//! assert!(refused.unwrap_err().to_string().contains("script-src"));
//! ```

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use axum::extract::Request;
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, COOKIE, HeaderName, HeaderValue};
use axum::http::{HeaderMap, header};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use crate::error::ConfigError;
use crate::session::SESSION_COOKIE;

/// When responses get `Cache-Control: no-store`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoStore {
    /// Every response (the API default: API answers are personal or change, and a shared
    /// cache must not keep them; ASVS 8.2.1).
    Always,
    /// Responses to requests that carried `Authorization` or the session cookie (the web
    /// default: public pages and assets stay cacheable).
    Authenticated,
    /// Never: the handlers decide.
    Never,
}

/// The headers set on (and removed from) every response.
#[derive(Debug, Clone)]
pub struct SecurityHeaders {
    set: Vec<(HeaderName, HeaderValue)>,
    remove: Vec<HeaderName>,
    no_store: NoStore,
}

const PERMISSIONS_POLICY: &str = "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()";
const HSTS: &str = "max-age=31536000; includeSubDomains";
const HSTS_PRELOAD: &str = "max-age=63072000; includeSubDomains; preload";

fn pairs(list: &[(&'static str, &'static str)]) -> Vec<(HeaderName, HeaderValue)> {
    list.iter()
        .map(|(n, v)| (HeaderName::from_static(n), HeaderValue::from_static(v)))
        .collect()
}

fn always_removed() -> Vec<HeaderName> {
    vec![header::SERVER, HeaderName::from_static("x-powered-by")]
}

impl Default for SecurityHeaders {
    fn default() -> Self {
        Self::api()
    }
}

impl SecurityHeaders {
    /// The profile for JSON APIs (the default): nothing may load, frame or embed a response.
    ///
    /// `Content-Security-Policy: default-src 'none'; frame-ancestors 'none'`,
    /// `Cross-Origin-Opener-Policy: same-origin`, `Cross-Origin-Resource-Policy: same-origin`,
    /// `Strict-Transport-Security: max-age=31536000; includeSubDomains`,
    /// `Referrer-Policy: no-referrer`, `X-Content-Type-Options: nosniff`,
    /// `X-Frame-Options: DENY`, `X-Permitted-Cross-Domain-Policies: none`, a
    /// `Permissions-Policy` denying powerful features, and `Cache-Control: no-store` on every
    /// response.
    pub fn api() -> Self {
        SecurityHeaders {
            set: pairs(&[
                (
                    "content-security-policy",
                    "default-src 'none'; frame-ancestors 'none'",
                ),
                ("cross-origin-opener-policy", "same-origin"),
                ("cross-origin-resource-policy", "same-origin"),
                ("strict-transport-security", HSTS),
                ("referrer-policy", "no-referrer"),
                ("x-content-type-options", "nosniff"),
                ("x-frame-options", "DENY"),
                ("x-permitted-cross-domain-policies", "none"),
                ("permissions-policy", PERMISSIONS_POLICY),
            ]),
            remove: always_removed(),
            no_store: NoStore::Always,
        }
    }

    /// helmet 8's default headers, exactly (for services that serve HTML), plus
    /// `Cache-Control: no-store` on authenticated responses.
    pub fn web() -> Self {
        SecurityHeaders {
            set: pairs(&[
                ("content-security-policy", HELMET_CSP),
                ("cross-origin-opener-policy", "same-origin"),
                ("cross-origin-resource-policy", "same-origin"),
                ("origin-agent-cluster", "?1"),
                ("referrer-policy", "no-referrer"),
                ("strict-transport-security", HSTS),
                ("x-content-type-options", "nosniff"),
                ("x-dns-prefetch-control", "off"),
                ("x-download-options", "noopen"),
                ("x-frame-options", "SAMEORIGIN"),
                ("x-permitted-cross-domain-policies", "none"),
                ("x-xss-protection", "0"),
            ]),
            remove: always_removed(),
            no_store: NoStore::Authenticated,
        }
    }

    fn put(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.remove.retain(|n| *n != name);
        if let Some(slot) = self.set.iter_mut().find(|(n, _)| *n == name) {
            slot.1 = value;
        } else {
            self.set.push((name, value));
        }
        self
    }

    /// Replaces the Content-Security-Policy (validated when it was built).
    pub fn csp(self, csp: ContentSecurityPolicy) -> Self {
        self.put(header::CONTENT_SECURITY_POLICY, csp.value)
    }

    /// `Strict-Transport-Security: max-age=63072000; includeSubDomains; preload`: what
    /// hstspreload.org asks for. Opt-in, because preloading is hard to undo.
    pub fn hsts_preload(self) -> Self {
        self.put(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS_PRELOAD),
        )
    }

    /// When responses get `Cache-Control: no-store`.
    pub fn no_store(mut self, when: NoStore) -> Self {
        self.no_store = when;
        self
    }

    /// Sets (or replaces) a header. Refused: names or values that are not valid HTTP (CR/LF
    /// included), `Content-Security-Policy` (use [`csp`](Self::csp), which validates it),
    /// `Server` and `X-Powered-By` (never sent).
    pub fn header(self, name: &str, value: &str) -> Result<Self, ConfigError> {
        let err = |reason: &str| ConfigError::Header {
            name: name.escape_debug().to_string(),
            reason: reason.to_owned(),
        };
        let parsed =
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| err("not a valid header name"))?;
        if parsed == header::CONTENT_SECURITY_POLICY {
            return Err(err(
                "set it with .csp(ContentSecurityPolicy::builder()...build()?), which validates it",
            ));
        }
        if always_removed().contains(&parsed) {
            return Err(err("it reveals the software in use and is never sent"));
        }
        let value = HeaderValue::from_str(value)
            .map_err(|_| err("the value is not valid in a header (control characters?)"))?;
        Ok(self.put(parsed, value))
    }

    /// Stops sending one of the profile's headers (for example
    /// `Strict-Transport-Security` on a plain-HTTP development server).
    pub fn without(mut self, name: &str) -> Result<Self, ConfigError> {
        let parsed = HeaderName::from_bytes(name.as_bytes()).map_err(|_| ConfigError::Header {
            name: name.escape_debug().to_string(),
            reason: "not a valid header name".to_owned(),
        })?;
        self.set.retain(|(n, _)| *n != parsed);
        Ok(self)
    }

    /// The value this configuration sets for `name`, if any (`Cache-Control` aside).
    pub fn get(&self, name: &str) -> Option<&HeaderValue> {
        self.set
            .iter()
            .find(|(n, _)| n.as_str().eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Sets and removes the headers on a response; `authenticated` says whether the request
    /// carried credentials.
    pub fn apply(&self, authenticated: bool, headers: &mut HeaderMap) {
        for name in &self.remove {
            headers.remove(name);
        }
        // Room for all at once: inserting one by one grew the map three times a response.
        headers.reserve(self.set.len() + 1);
        for (name, value) in &self.set {
            headers.insert(name.clone(), value.clone());
        }
        let no_store = match self.no_store {
            NoStore::Always => true,
            NoStore::Authenticated => authenticated,
            NoStore::Never => false,
        };
        if no_store {
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
    }
}

/// Whether the request carried `Authorization` or the session cookie.
fn carries_credentials(request: &Request) -> bool {
    let headers = request.headers();
    headers.contains_key(AUTHORIZATION)
        || headers.get_all(COOKIE).iter().any(|v| {
            v.to_str().is_ok_and(|s| {
                s.split(';')
                    .any(|c| c.trim().split('=').next() == Some(SESSION_COOKIE))
            })
        })
}

/// The layer of [`SecurityHeaders`]: outermost in
/// [`into_app`](crate::policy::SecureRouter::into_app), so caught panics get the headers too.
/// It neither clones the service it wraps nor boxes its future, unlike `from_fn`.
#[derive(Debug, Clone)]
pub struct SecurityHeadersLayer {
    headers: Arc<SecurityHeaders>,
}

impl SecurityHeadersLayer {
    /// The layer setting `headers` on every response.
    pub fn new(headers: SecurityHeaders) -> Self {
        SecurityHeadersLayer {
            headers: Arc::new(headers),
        }
    }
}

impl<S> Layer<S> for SecurityHeadersLayer {
    type Service = SecurityHeadersService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SecurityHeadersService {
            inner,
            headers: Arc::clone(&self.headers),
        }
    }
}

/// The service of [`SecurityHeadersLayer`].
#[derive(Debug, Clone)]
pub struct SecurityHeadersService<S> {
    inner: S,
    headers: Arc<SecurityHeaders>,
}

impl<S, B> Service<Request> for SecurityHeadersService<S>
where
    S: Service<Request, Response = axum::http::Response<B>>,
{
    type Response = axum::http::Response<B>;
    type Error = S::Error;
    type Future = SecurityHeadersFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let authenticated = carries_credentials(&request);
        SecurityHeadersFuture {
            inner: self.inner.call(request),
            headers: Arc::clone(&self.headers),
            authenticated,
        }
    }
}

pin_project! {
    /// The future of [`SecurityHeadersService`].
    #[derive(Debug)]
    pub struct SecurityHeadersFuture<F> {
        #[pin]
        inner: F,
        headers: Arc<SecurityHeaders>,
        authenticated: bool,
    }
}

impl<F, B, E> Future for SecurityHeadersFuture<F>
where
    F: Future<Output = Result<axum::http::Response<B>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = ready!(this.inner.poll(cx))?;
        this.headers
            .apply(*this.authenticated, response.headers_mut());
        Poll::Ready(Ok(response))
    }
}

const HELMET_CSP: &str = "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self';script-src-attr 'none';style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests";

/// A Content-Security-Policy checked when it is built: known directives only, quoted
/// keywords, no control characters, and no script source that would allow injected scripts
/// unless opted in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentSecurityPolicy {
    value: HeaderValue,
}

impl ContentSecurityPolicy {
    /// A builder.
    pub fn builder() -> CspBuilder {
        CspBuilder::default()
    }

    /// Parses and validates a policy written as a header value
    /// (`"default-src 'self'; img-src 'self' data:"`).
    pub fn parse(policy: &str) -> Result<Self, ConfigError> {
        let mut builder = Self::builder();
        for directive in policy.split(';') {
            let mut words = directive.split_ascii_whitespace();
            if let Some(name) = words.next() {
                builder = builder.directive(name, words);
            }
        }
        builder.build()
    }

    /// The header value.
    pub fn as_str(&self) -> &str {
        self.value.to_str().unwrap_or_default()
    }
}

/// Builds a [`ContentSecurityPolicy`]; [`build`](CspBuilder::build) validates it.
#[derive(Debug, Clone, Default)]
pub struct CspBuilder {
    directives: Vec<(String, Vec<String>)>,
    unsafe_scripts: bool,
}

const FETCH_AND_NAVIGATION: &[&str] = &[
    "default-src",
    "child-src",
    "connect-src",
    "font-src",
    "frame-src",
    "img-src",
    "manifest-src",
    "media-src",
    "object-src",
    "script-src",
    "script-src-elem",
    "script-src-attr",
    "style-src",
    "style-src-elem",
    "style-src-attr",
    "worker-src",
    "fenced-frame-src",
    "base-uri",
    "form-action",
    "frame-ancestors",
];
const OTHER_DIRECTIVES: &[&str] = &[
    "sandbox",
    "upgrade-insecure-requests",
    "block-all-mixed-content",
    "report-uri",
    "report-to",
    "require-trusted-types-for",
    "trusted-types",
    "webrtc",
];
const NO_VALUE: &[&str] = &["upgrade-insecure-requests", "block-all-mixed-content"];
const KEYWORDS: &[&str] = &[
    "self",
    "none",
    "unsafe-inline",
    "unsafe-eval",
    "unsafe-hashes",
    "strict-dynamic",
    "report-sample",
    "wasm-unsafe-eval",
    "inline-speculation-rules",
];
const HASH_PREFIXES: &[&str] = &["nonce-", "sha256-", "sha384-", "sha512-"];
const SCRIPT_DIRECTIVES: &[&str] = &["script-src", "script-src-elem", "script-src-attr"];
const UNSAFE_SCRIPT_SOURCES: &[&str] = &[
    "'unsafe-inline'",
    "'unsafe-eval'",
    "*",
    "http:",
    "https:",
    "data:",
    "blob:",
];

impl CspBuilder {
    /// Adds a directive with its sources (`"'self'"`, `"https://cdn.example.com"`, ...).
    pub fn directive<I, T>(mut self, name: &str, sources: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.directives.push((
            name.to_owned(),
            sources.into_iter().map(Into::into).collect(),
        ));
        self
    }

    /// Allows `'unsafe-inline'`, `'unsafe-eval'`, `*` and scheme-only sources (`https:`,
    /// `data:`...) in the script directives, which let injected scripts run. Off by default.
    pub fn allow_unsafe_scripts(mut self) -> Self {
        self.unsafe_scripts = true;
        self
    }

    /// Validates the policy.
    pub fn build(self) -> Result<ContentSecurityPolicy, ConfigError> {
        let fail = |directive: &str, reason: String| ConfigError::Csp {
            directive: directive.escape_debug().to_string(),
            reason,
        };
        if self.directives.is_empty() {
            return Err(fail("", "the policy has no directive".to_owned()));
        }
        let has_script_src = self.directives.iter().any(|(n, _)| n == "script-src");
        let mut seen: Vec<&str> = Vec::new();
        let mut parts = Vec::with_capacity(self.directives.len());
        for (name, sources) in &self.directives {
            let name = name.as_str();
            if !FETCH_AND_NAVIGATION.contains(&name) && !OTHER_DIRECTIVES.contains(&name) {
                return Err(fail(
                    name,
                    "unknown directive (names are lowercase, as in CSP Level 3)".to_owned(),
                ));
            }
            if seen.contains(&name) {
                return Err(fail(
                    name,
                    "given twice (browsers ignore the second)".to_owned(),
                ));
            }
            seen.push(name);
            for source in sources {
                if source.is_empty()
                    || !source
                        .bytes()
                        .all(|b| b.is_ascii_graphic() && b != b';' && b != b',')
                {
                    return Err(fail(
                        name,
                        format!(
                            "source {:?} is empty or holds whitespace, `;`, `,`, a control or non-ASCII character",
                            source
                        ),
                    ));
                }
            }
            if NO_VALUE.contains(&name) && !sources.is_empty() {
                return Err(fail(name, "takes no value".to_owned()));
            }
            if FETCH_AND_NAVIGATION.contains(&name) {
                check_sources(sources).map_err(|reason| fail(name, reason))?;
                let scripts =
                    SCRIPT_DIRECTIVES.contains(&name) || (name == "default-src" && !has_script_src);
                let unsafe_source = sources
                    .iter()
                    .find(|s| UNSAFE_SCRIPT_SOURCES.contains(&s.to_ascii_lowercase().as_str()));
                if let (true, false, Some(bad)) = (scripts, self.unsafe_scripts, unsafe_source) {
                    return Err(fail(
                        name,
                        format!(
                            "{bad} lets injected scripts run; remove it, or opt in with .allow_unsafe_scripts()"
                        ),
                    ));
                }
            }
            if sources.is_empty() {
                parts.push(name.to_owned());
            } else {
                parts.push(format!("{name} {}", sources.join(" ")));
            }
        }
        let value = HeaderValue::from_str(&parts.join("; "))
            .map_err(|_| fail("", "not a valid header value".to_owned()))?;
        Ok(ContentSecurityPolicy { value })
    }
}

fn check_sources(sources: &[String]) -> Result<(), String> {
    if sources.is_empty() {
        return Err("needs at least one source (write 'none' to allow nothing)".to_owned());
    }
    for source in sources {
        let lower = source.to_ascii_lowercase();
        if let Some(inner) = lower.strip_prefix('\'') {
            let Some(inner) = inner.strip_suffix('\'') else {
                return Err(format!(
                    "source {source} has an opening quote and no closing one"
                ));
            };
            let known = KEYWORDS.contains(&inner)
                || HASH_PREFIXES
                    .iter()
                    .any(|p| inner.len() > p.len() && inner.starts_with(p));
            if !known {
                return Err(format!("{source} is not a CSP keyword, nonce or hash"));
            }
            if inner == "none" && sources.len() > 1 {
                return Err("'none' cannot be combined with other sources".to_owned());
            }
        } else if KEYWORDS.contains(&lower.as_str())
            || HASH_PREFIXES.iter().any(|p| lower.starts_with(p))
        {
            return Err(format!(
                "keyword {source} must be quoted: '{source}' (unquoted, it names a host)"
            ));
        } else if lower.contains('\'') {
            return Err(format!("source {source} holds a stray quote"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helmet_csp_is_valid_with_the_profile_rules() {
        // helmet's own policy passes the validation (style-src may be 'unsafe-inline').
        assert!(ContentSecurityPolicy::parse(HELMET_CSP).is_ok());
        assert!(ContentSecurityPolicy::parse("default-src 'none'; frame-ancestors 'none'").is_ok());
    }
}
