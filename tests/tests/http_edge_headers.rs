//! Security headers and strict CORS through `SecureRouter::into_app`: the headers on every
//! kind of response (2xx, problems, 404 fallback, 405, 413, 422, 429, 5xx, panics, preflights),
//! `Server`/`X-Powered-By` removed, helmet's defaults for the web profile, CSP validation, and
//! CORS for allowed and refused origins.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use secure_core::SecretBox;
use secure_core::auth::jwt::{AccessTokenKey, AccessTokens};
use secure_core::auth::{Amr, Authenticator, Identity, Principal, Role};
use secure_core::config::{ConfigError, SecurityConfig};
use secure_core::http::cors::CorsConfig;
use secure_core::http::headers::{ContentSecurityPolicy, NoStore, SecurityHeaders};
use secure_core::policy::SecureRouter;
use secure_core::prelude::*;
use secure_core::routing::{get, post};
use secure_core::secure_handler;
use serde::Deserialize;
use tower::ServiceExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum AppRole {
    Admin,
    Member,
}

#[derive(Debug, Deserialize, Validated)]
struct NewNote {
    #[validate(length(min = 1, max = 20))]
    title: String,
}

#[secure_handler(public)]
async fn health() -> &'static str {
    "ok"
}

#[secure_handler(auth)]
async fn me(user: Principal<AppRole>) -> String {
    user.subject().to_owned()
}

#[secure_handler(auth, roles(Admin))]
async fn admin(_user: Principal<AppRole>) -> &'static str {
    "admin"
}

// No `body_limit`: the route takes at most what `NewNote`'s rules accept (358 bytes).
#[secure_handler(public)]
async fn notes(body: Valid<Json<NewNote>>) -> String {
    body.title.clone()
}

#[secure_handler(public, rate_limit("1/min", key = ip))]
async fn limited() -> &'static str {
    "once"
}

#[secure_handler(public)]
async fn fails() -> Result<&'static str, ApiError> {
    Err(ApiError::internal(std::io::Error::other("db down")))
}

#[secure_handler(public)]
async fn boom() -> &'static str {
    panic!("handler bug")
}

#[secure_handler(public)]
async fn leaky() -> ([(HeaderName, &'static str); 3], &'static str) {
    (
        [
            (header::SERVER, "nginx/1.18.0"),
            (HeaderName::from_static("x-powered-by"), "PHP/5.4"),
            (header::X_FRAME_OPTIONS, "ALLOWALL"),
        ],
        "leaky",
    )
}

fn tokens(key: [u8; 32]) -> AccessTokens {
    let key = AccessTokenKey::hs256(SecretBox::from(key.to_vec())).unwrap();
    AccessTokens::builder(key, "https://auth.test", "notes")
        .build()
        .unwrap()
}

fn routes() -> SecureRouter {
    SecureRouter::new()
        .route("/health", get(health))
        .route("/me", get(me))
        .route("/admin", get(admin))
        .route("/notes", post(notes))
        .route("/limited", get(limited))
        .route("/fails", get(fails))
        .route("/boom", get(boom))
        .route("/leaky", get(leaky))
}

struct App {
    router: secure_core::policy::SecureApp,
    tokens: AccessTokens,
}

fn app_with(f: impl FnOnce(SecurityConfig) -> SecurityConfig) -> App {
    let key: [u8; 32] = rand::random();
    let config = f(SecurityConfig::new().authenticator(Authenticator::new(tokens(key))));
    App {
        router: routes().into_app(config).expect("the app assembles"),
        tokens: tokens(key),
    }
}

fn app() -> App {
    app_with(|c| c)
}

fn token(app: &App, roles: &[&str]) -> String {
    let identity = Identity::new("alice", 1_700_000_000)
        .with_roles(roles.iter().copied())
        .with_amr(vec![Amr::Pwd]);
    app.tokens.issue(&identity).unwrap()
}

async fn send(app: &App, request: Request<Body>) -> (StatusCode, HeaderMap) {
    let response = app.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let _ = response.into_body().collect().await.unwrap();
    (status, headers)
}

fn req(method: &str, path: &str) -> axum::http::request::Builder {
    Request::builder().method(method).uri(path)
}

const API_HEADERS: &[(&str, &str)] = &[
    (
        "content-security-policy",
        "default-src 'none'; frame-ancestors 'none'",
    ),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    (
        "strict-transport-security",
        "max-age=31536000; includeSubDomains",
    ),
    ("referrer-policy", "no-referrer"),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("x-permitted-cross-domain-policies", "none"),
    ("cache-control", "no-store"),
];

/// The API profile and the request id.
fn assert_api_headers(what: &str, headers: &HeaderMap) {
    assert_security_headers(what, headers);
    assert!(
        headers.get("x-request-id").is_some(),
        "{what}: x-request-id"
    );
}

/// The API profile (preflights are answered before the request-id layer).
fn assert_security_headers(what: &str, headers: &HeaderMap) {
    for (name, value) in API_HEADERS {
        assert_eq!(
            headers.get(*name).and_then(|v| v.to_str().ok()),
            Some(*value),
            "{what}: {name}"
        );
    }
    let pp = headers
        .get("permissions-policy")
        .unwrap_or_else(|| panic!("{what}: permissions-policy"))
        .to_str()
        .unwrap();
    for feature in [
        "camera=()",
        "microphone=()",
        "geolocation=()",
        "payment=()",
        "usb=()",
    ] {
        assert!(pp.contains(feature), "{what}: {pp}");
    }
    assert!(headers.get(header::SERVER).is_none(), "{what}: server");
    assert!(
        headers.get("x-powered-by").is_none(),
        "{what}: x-powered-by"
    );
}

#[tokio::test]
async fn api_headers_are_on_every_kind_of_response() {
    let app = app();
    let member = token(&app, &["member"]);
    let cases: Vec<(&str, Request<Body>, StatusCode)> = vec![
        (
            "200",
            req("GET", "/health").body(Body::empty()).unwrap(),
            StatusCode::OK,
        ),
        (
            "401",
            req("GET", "/me").body(Body::empty()).unwrap(),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "403",
            req("GET", "/admin")
                .header(header::AUTHORIZATION, format!("Bearer {member}"))
                .body(Body::empty())
                .unwrap(),
            StatusCode::FORBIDDEN,
        ),
        (
            "404 fallback",
            req("GET", "/nowhere").body(Body::empty()).unwrap(),
            StatusCode::NOT_FOUND,
        ),
        (
            "405",
            req("DELETE", "/health").body(Body::empty()).unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            "413",
            req("POST", "/notes")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(format!(r#"{{"title":"{}"}}"#, "x".repeat(400))))
                .unwrap(),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "422",
            req("POST", "/notes")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(r#"{"title":""}"#))
                .unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "500",
            req("GET", "/fails").body(Body::empty()).unwrap(),
            StatusCode::INTERNAL_SERVER_ERROR,
        ),
        (
            "panic",
            req("GET", "/boom").body(Body::empty()).unwrap(),
            StatusCode::INTERNAL_SERVER_ERROR,
        ),
        (
            "414",
            req("GET", &format!("/health?q={}", "a".repeat(9 * 1024)))
                .body(Body::empty())
                .unwrap(),
            StatusCode::URI_TOO_LONG,
        ),
        (
            "431",
            req("GET", "/health")
                .header("x-padding", "p".repeat(20 * 1024))
                .header("x-more-padding", "p".repeat(20 * 1024))
                .body(Body::empty())
                .unwrap(),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        ),
    ];
    for (what, request, status) in cases {
        let (got, headers) = send(&app, request).await;
        assert_eq!(got, status, "{what}");
        assert_api_headers(what, &headers);
        if !status.is_success() {
            assert_eq!(
                headers[header::CONTENT_TYPE],
                "application/problem+json",
                "{what}"
            );
            assert!(headers.get("x-request-id").is_some(), "{what}");
        }
    }
}

#[tokio::test]
async fn api_headers_are_on_429() {
    let app = app();
    let (first, _) = send(&app, req("GET", "/limited").body(Body::empty()).unwrap()).await;
    assert_eq!(first, StatusCode::OK);
    let (second, headers) = send(&app, req("GET", "/limited").body(Body::empty()).unwrap()).await;
    assert_eq!(second, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers.get(header::RETRY_AFTER).is_some());
    assert_api_headers("429", &headers);
}

#[tokio::test]
async fn server_and_powered_by_are_removed_and_handlers_cannot_weaken_headers() {
    let app = app();
    let (status, headers) = send(&app, req("GET", "/leaky").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_api_headers("leaky", &headers);
}

#[tokio::test]
async fn web_profile_equals_helmet_defaults() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/vectors/headers/helmet_v8_default_headers.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let corpus: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text).unwrap();
    let app = app_with(|c| c.security_headers(SecurityHeaders::web()));
    for path in ["/health", "/nowhere", "/boom"] {
        let (_, headers) = send(&app, req("GET", path).body(Body::empty()).unwrap()).await;
        let mut checked = 0;
        for (name, expected) in &corpus {
            if name.starts_with('_') {
                continue;
            }
            let got = headers.get(name.as_str()).map(|v| v.to_str().unwrap());
            match expected {
                serde_json::Value::Null => assert_eq!(got, None, "{path}: {name}"),
                serde_json::Value::String(value) => {
                    assert_eq!(got, Some(value.as_str()), "{path}: {name}");
                }
                other => panic!("unexpected corpus value for {name}: {other}"),
            }
            checked += 1;
        }
        assert!(checked >= 14, "{checked}");
        // Unauthenticated: cacheable; the API profile's no-store is not helmet's.
        assert!(headers.get(header::CACHE_CONTROL).is_none(), "{path}");
    }
    // Authenticated requests (bearer or session cookie) are not stored.
    for (name, value) in [
        (header::AUTHORIZATION, "Bearer x"),
        (header::COOKIE, "theme=dark; __Host-session=abc"),
    ] {
        let (_, headers) = send(
            &app,
            req("GET", "/health")
                .header(name, value)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    }
}

#[tokio::test]
async fn custom_headers_and_csp_are_applied() {
    let csp = ContentSecurityPolicy::builder()
        .directive("default-src", ["'self'"])
        .directive("img-src", ["'self'", "https://img.example.com"])
        .build()
        .unwrap();
    let headers = SecurityHeaders::api()
        .csp(csp)
        .hsts_preload()
        .no_store(NoStore::Never)
        .header("x-frame-options", "SAMEORIGIN")
        .unwrap()
        .without("permissions-policy")
        .unwrap();
    let app = app_with(|c| c.security_headers(headers));
    let (_, headers) = send(&app, req("GET", "/health").body(Body::empty()).unwrap()).await;
    assert_eq!(
        headers.get("content-security-policy").unwrap(),
        "default-src 'self'; img-src 'self' https://img.example.com"
    );
    assert_eq!(
        headers.get("strict-transport-security").unwrap(),
        "max-age=63072000; includeSubDomains; preload"
    );
    assert_eq!(headers.get("x-frame-options").unwrap(), "SAMEORIGIN");
    assert!(headers.get("permissions-policy").is_none());
    assert!(headers.get(header::CACHE_CONTROL).is_none());
}

fn csp_error(build: Result<ContentSecurityPolicy, ConfigError>) -> String {
    build.unwrap_err().to_string()
}

#[test]
fn csp_builder_refuses_bad_policies_with_the_directive_named() {
    let b = ContentSecurityPolicy::builder;
    let cases: Vec<(Result<ContentSecurityPolicy, ConfigError>, &str, &str)> = vec![
        (
            b().directive("scirpt-src", ["'self'"]).build(),
            "scirpt-src",
            "unknown directive",
        ),
        (
            b().directive("script-src", ["'self'", "'unsafe-inline'"])
                .build(),
            "script-src",
            "'unsafe-inline'",
        ),
        (
            b().directive("script-src", ["'unsafe-eval'"]).build(),
            "script-src",
            "'unsafe-eval'",
        ),
        (
            b().directive("script-src", ["*"]).build(),
            "script-src",
            "*",
        ),
        (
            b().directive("default-src", ["https:"]).build(),
            "default-src",
            "https:",
        ),
        (
            b().directive("default-src", ["self"]).build(),
            "default-src",
            "must be quoted",
        ),
        (
            b().directive("img-src", ["'slef'"]).build(),
            "img-src",
            "not a CSP keyword",
        ),
        (
            b().directive("img-src", ["'self"]).build(),
            "img-src",
            "closing",
        ),
        (
            b().directive("img-src", ["'self'\r\nSet-Cookie: a=b"])
                .build(),
            "img-src",
            "control",
        ),
        (
            b().directive("img-src", ["'none'", "'self'"]).build(),
            "img-src",
            "'none'",
        ),
        (
            b().directive("img-src", Vec::<String>::new()).build(),
            "img-src",
            "at least one source",
        ),
        (
            b().directive("upgrade-insecure-requests", ["'self'"])
                .build(),
            "upgrade-insecure-requests",
            "no value",
        ),
        (
            b().directive("img-src", ["'self'"])
                .directive("img-src", ["data:"])
                .build(),
            "img-src",
            "twice",
        ),
    ];
    for (result, directive, reason) in cases {
        let message = csp_error(result);
        assert!(
            message.contains(&format!("`{directive}`")),
            "{directive}: {message}"
        );
        assert!(message.contains(reason), "{directive}: {message}");
        assert!(
            !message.contains('\r') && !message.contains('\n'),
            "{message}"
        );
    }
    // Opt-in for unsafe script sources; style-src may use 'unsafe-inline' (helmet does).
    assert!(
        b().directive("script-src", ["'self'", "'unsafe-inline'"])
            .allow_unsafe_scripts()
            .build()
            .is_ok()
    );
    assert!(
        b().directive("style-src", ["'self'", "'unsafe-inline'"])
            .build()
            .is_ok()
    );
    assert!(ContentSecurityPolicy::parse("default-src 'none'; frame-ancestors 'none'").is_ok());
    let header = SecurityHeaders::api().header("content-security-policy", "default-src *");
    assert!(header.unwrap_err().to_string().contains("csp"));
    assert!(SecurityHeaders::api().header("x-a", "b\r\nc").is_err());
    assert!(SecurityHeaders::api().header("server", "secure").is_err());
}

fn cors_app(credentials: bool) -> App {
    let mut cors =
        CorsConfig::builder().allow_origins(["https://app.example.com", "http://localhost:3000"]);
    if credentials {
        cors = cors.allow_credentials();
    }
    let cors = cors.build().unwrap();
    app_with(|c| c.cors(cors))
}

fn preflight(origin: &str, method: &str) -> Request<Body> {
    req("OPTIONS", "/me")
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, method)
        .header(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            "authorization,content-type",
        )
        .body(Body::empty())
        .unwrap()
}

fn cors_headers(headers: &HeaderMap) -> Vec<String> {
    headers
        .keys()
        .filter(|n| n.as_str().starts_with("access-control-"))
        .map(|n| n.as_str().to_owned())
        .collect()
}

fn varies_on_origin(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::VARY)
        .iter()
        .any(|v| v.to_str().unwrap().to_ascii_lowercase().contains("origin"))
}

#[tokio::test]
async fn cors_allowed_origin_gets_the_headers() {
    for credentials in [false, true] {
        let app = cors_app(credentials);
        let (status, headers) = send(
            &app,
            req("GET", "/health")
                .header(header::ORIGIN, "https://app.example.com")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).unwrap(),
            "https://app.example.com"
        );
        assert_eq!(
            headers
                .get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS)
                .map(|v| v.to_str().unwrap()),
            credentials.then_some("true")
        );
        assert!(varies_on_origin(&headers));
        let exposed = headers
            .get(header::ACCESS_CONTROL_EXPOSE_HEADERS)
            .unwrap()
            .to_str()
            .unwrap()
            .to_ascii_lowercase();
        for h in [
            "x-request-id",
            "retry-after",
            "ratelimit",
            "ratelimit-policy",
        ] {
            assert!(exposed.contains(h), "{exposed}");
        }
        assert_api_headers("cors 200", &headers);

        // A caught panic's 500 carries them too.
        let (status, headers) = send(
            &app,
            req("GET", "/boom")
                .header(header::ORIGIN, "https://app.example.com")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).unwrap(),
            "https://app.example.com"
        );
        assert_api_headers("cors panic", &headers);

        // Error answers carry them too, so the browser lets the script read the problem.
        let (status, headers) = send(
            &app,
            req("GET", "/me")
                .header(header::ORIGIN, "http://localhost:3000")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).unwrap(),
            "http://localhost:3000"
        );
    }
}

#[tokio::test]
async fn cors_disallowed_origin_gets_no_cors_headers() {
    let app = cors_app(true);
    for origin in [
        "https://evil.example",
        "https://app.example.com.evil.example",
        "null",
        "http://app.example.com",
    ] {
        let (status, headers) = send(
            &app,
            req("GET", "/health")
                .header(header::ORIGIN, origin)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{origin}");
        assert_eq!(cors_headers(&headers), Vec::<String>::new(), "{origin}");
        assert!(varies_on_origin(&headers), "{origin}");
    }
    // No Origin at all: no CORS headers either.
    let (_, headers) = send(&app, req("GET", "/health").body(Body::empty()).unwrap()).await;
    assert_eq!(cors_headers(&headers), Vec::<String>::new());
}

#[tokio::test]
async fn cors_preflight_is_answered_for_allowed_origins_only() {
    let app = cors_app(true);
    let (status, headers) = send(&app, preflight("https://app.example.com", "POST")).await;
    assert!(
        status == StatusCode::OK || status == StatusCode::NO_CONTENT,
        "{status}"
    );
    assert_eq!(
        headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).unwrap(),
        "https://app.example.com"
    );
    assert_eq!(
        headers
            .get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS)
            .unwrap(),
        "true"
    );
    let methods = headers
        .get(header::ACCESS_CONTROL_ALLOW_METHODS)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        methods.contains("POST") && methods.contains("DELETE"),
        "{methods}"
    );
    let allowed = headers
        .get(header::ACCESS_CONTROL_ALLOW_HEADERS)
        .unwrap()
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for h in [
        "authorization",
        "content-type",
        "x-csrf-token",
        "x-request-id",
    ] {
        assert!(allowed.contains(h), "{allowed}");
    }
    assert!(headers.get(header::ACCESS_CONTROL_MAX_AGE).is_some());
    let exposed = headers
        .get(header::ACCESS_CONTROL_EXPOSE_HEADERS)
        .map(|v| v.to_str().unwrap().to_ascii_lowercase());
    // Expose-Headers belongs on actual responses; tower-http sends it there, not on preflights.
    assert!(exposed.is_none(), "{exposed:?}");
    assert!(varies_on_origin(&headers));
    assert_security_headers("preflight", &headers);

    for (origin, method) in [
        ("https://evil.example", "POST"),
        ("https://app.example.com", "TRACE"),
    ] {
        let (status, headers) = send(&app, preflight(origin, method)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{origin} {method}");
        assert_eq!(cors_headers(&headers), Vec::<String>::new());
        assert_eq!(
            headers.get(header::CONTENT_TYPE).unwrap(),
            "application/problem+json"
        );
        assert_security_headers("refused preflight", &headers);
    }
}

#[tokio::test]
async fn without_cors_config_there_is_no_cors() {
    let app = app();
    let (status, headers) = send(&app, preflight("https://app.example.com", "GET")).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(cors_headers(&headers), Vec::<String>::new());
    let (_, headers) = send(
        &app,
        req("GET", "/health")
            .header(header::ORIGIN, "https://app.example.com")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(cors_headers(&headers), Vec::<String>::new());
}

#[test]
fn cors_config_errors_are_results() {
    let err = CorsConfig::builder()
        .allow_origin("*")
        .allow_credentials()
        .build()
        .unwrap_err();
    assert!(matches!(err, ConfigError::Cors(_)));
    assert!(err.to_string().contains("credentials"), "{err}");
    assert!(CorsConfig::builder().allow_origin("*").build().is_ok());
    for (origin, reason) in [
        ("https://*.example.com", "wildcard"),
        ("https://app.example.com/api", "exact origin"),
        ("https://app.example.com/", "exact origin"),
        ("http://app.example.com", "https"),
        ("null", "null"),
    ] {
        let err = CorsConfig::builder()
            .allow_origin(origin)
            .build()
            .unwrap_err()
            .to_string();
        assert!(err.contains(reason), "{origin}: {err}");
    }
    assert!(CorsConfig::builder().build().is_err());
    assert!(
        CorsConfig::builder()
            .allow_origin("https://a.example")
            .allow_methods([Method::GET])
            .allow_headers(["bad header"])
            .build()
            .is_err()
    );
    // The wildcard is fine without credentials: every origin, no cookies.
    let app = app_with(|c| c.cors(CorsConfig::builder().allow_origin("*").build().unwrap()));
    let _ = &app;
    let _ = AppRole::Admin;
}

/// The README's two examples, verbatim.
#[test]
fn readme_examples_build() -> Result<(), ConfigError> {
    let csp = ContentSecurityPolicy::builder()
        .directive("default-src", ["'self'"])
        .directive("img-src", ["'self'", "https://img.example.com"])
        .directive("frame-ancestors", ["'none'"])
        .build()?; // Err names the directive; never a panic
    let headers = SecurityHeaders::web()
        .csp(csp)
        .hsts_preload()
        .header("x-frame-options", "DENY")?;
    let _config = SecurityConfig::new().security_headers(headers);

    let cors = CorsConfig::builder()
        .allow_origins(["https://app.example.com", "http://localhost:3000"])
        .allow_credentials() // opt-in: cookies and Authorization from those origins
        .build()?;
    let _config = SecurityConfig::new().cors(cors);
    Ok(())
}
