//! Discovery and the JWKS over HTTPS: reqwest on rustls (aws-lc-rs), certificates checked
//! against the platform's roots, no redirects, short timeouts, bounded bodies.

use std::time::Duration;

use reqwest::Url;
use reqwest::header::CACHE_CONTROL;

use super::jwks::MAX_JWKS_BYTES;

/// How long one discovery or JWKS request may take.
pub(super) const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a fetch failed. Logged; never shown to a client.
#[derive(Debug, thiserror::Error)]
pub(super) enum FetchError {
    #[error("request failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("answered status {0}")]
    Status(u16),
    #[error("body larger than {MAX_JWKS_BYTES} bytes")]
    TooLarge,
    #[error("body is not the expected JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{0} is neither https nor http on a loopback address")]
    Insecure(String),
}

/// The default client: rustls with the platform's certificate roots, TLS 1.2 at least, no
/// redirects (an issuer's documents are where it says), no proxy from the environment, short
/// timeouts.
pub(super) fn default_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .tls_backend_rustls()
        .tls_version_min(reqwest::tls::Version::TLS_1_2)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(Duration::from_secs(3))
        .timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(|e| format!("HTTP client: {e}"))
}

/// Whether the service may fetch from `url`: https, or plain http to a loopback address (a
/// provider on the same host, in development and tests).
pub(super) fn allowed_url(url: &Url) -> bool {
    match url.scheme() {
        "https" => url.host().is_some(),
        "http" => match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            None => false,
        },
        _ => false,
    }
}

/// A fetched document and how long its answer says it may be cached.
pub(super) struct Fetched {
    pub(super) body: Vec<u8>,
    pub(super) max_age: Option<Duration>,
}

/// GETs `url`: 200 with a body of at most [`MAX_JWKS_BYTES`].
pub(super) async fn get(client: &reqwest::Client, url: &Url) -> Result<Fetched, FetchError> {
    if !allowed_url(url) {
        return Err(FetchError::Insecure(url.to_string()));
    }
    let mut response = client
        .get(url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await?;
    if response.status() != reqwest::StatusCode::OK {
        return Err(FetchError::Status(response.status().as_u16()));
    }
    if response
        .content_length()
        .is_some_and(|n| n > MAX_JWKS_BYTES as u64)
    {
        return Err(FetchError::TooLarge);
    }
    let max_age = response
        .headers()
        .get(CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .and_then(max_age);
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_JWKS_BYTES {
            return Err(FetchError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Fetched { body, max_age })
}

/// `max-age` of a `Cache-Control` value; `no-store`/`no-cache` read as zero.
fn max_age(value: &str) -> Option<Duration> {
    let mut age = None;
    for directive in value.split(',').map(str::trim) {
        let (name, arg) = directive.split_once('=').unwrap_or((directive, ""));
        if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
            return Some(Duration::ZERO);
        }
        if name.eq_ignore_ascii_case("max-age") {
            age = arg.trim_matches('"').parse().ok().map(Duration::from_secs);
        }
    }
    age
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http() {
        for ok in [
            "https://login.example/",
            "http://127.0.0.1:8080/jwks",
            "http://[::1]/jwks",
            "http://localhost:9000/",
        ] {
            assert!(allowed_url(&Url::parse(ok).unwrap()), "{ok}");
        }
        for bad in [
            "http://login.example/",
            "http://10.0.0.1/",
            "http://localhost.evil.example/",
            "ftp://127.0.0.1/",
            "file:///etc/passwd",
        ] {
            assert!(!allowed_url(&Url::parse(bad).unwrap()), "{bad}");
        }
    }

    #[test]
    fn cache_control_max_age() {
        assert_eq!(
            max_age("public, max-age=600"),
            Some(Duration::from_secs(600))
        );
        assert_eq!(max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(max_age("private"), None);
        assert_eq!(max_age("max-age=abc"), None);
    }
}
