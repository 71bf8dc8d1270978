//! `SecurityConfig::from_env` / `from_vars`: every value checked with an error naming the
//! variable, keys from variables and files, weak and placeholder keys refused without echoing
//! them, development keys only in debug builds, and the limits it sets (body, request timeout,
//! JSON depth) enforced over HTTP.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use http_body_util::BodyExt;
use rand::Rng as _;
use secure_core::auth::Identity;
use secure_core::auth::jwt::AccessTokens;
use secure_core::config::{ConfigError, Profile, SecurityConfig};
use secure_core::http::connection::ConnectionLimits;
use secure_core::policy::SecureRouter;
use secure_core::prelude::*;
use secure_core::routing::{get, post};
use secure_core::secure_handler;
use serde::Deserialize;
use tower::ServiceExt;

/// A fresh random key as `openssl rand -base64 48` prints it.
fn random_key() -> String {
    let mut bytes = [0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn keyed(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut vars = vec![
        ("SECURE_JWT_KEY".to_owned(), random_key()),
        ("SECURE_CSRF_KEY".to_owned(), random_key()),
        ("SECURE_DATA_KEY".to_owned(), random_key()),
    ];
    vars.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    vars
}

fn env_err(vars: Vec<(String, String)>, profile: Profile) -> (String, String) {
    match SecurityConfig::from_vars(vars, profile) {
        Err(ConfigError::Env { var, reason }) => (var, reason),
        other => panic!("expected an Env error, got {other:?}"),
    }
}

#[test]
fn release_build_without_keys_refuses_to_start() {
    let (var, reason) = env_err(Vec::new(), Profile::Release);
    assert_eq!(var, "SECURE_JWT_KEY");
    assert!(
        reason.contains("SECURE_JWT_KEY, SECURE_CSRF_KEY and SECURE_DATA_KEY"),
        "{reason}"
    );
    // One key set: the other is named.
    let vars = vec![("SECURE_JWT_KEY".to_owned(), random_key())];
    let (var, reason) = env_err(vars, Profile::Release);
    assert_eq!(var, "SECURE_CSRF_KEY");
    assert!(
        reason.contains("SECURE_CSRF_KEY and SECURE_DATA_KEY"),
        "{reason}"
    );
    // The data key is needed like the others.
    let mut vars = keyed(&[]);
    vars.retain(|(k, _)| k != "SECURE_DATA_KEY");
    assert_eq!(env_err(vars, Profile::Release).0, "SECURE_DATA_KEY");
    // Asking a debug build for production behaves as a release build.
    let vars = vec![("SECURE_ENV".to_owned(), "production".to_owned())];
    assert_eq!(env_err(vars, Profile::Debug).0, "SECURE_JWT_KEY");
    // A release build cannot be talked into development mode.
    let vars = keyed(&[("SECURE_ENV", "development")]);
    assert_eq!(env_err(vars, Profile::Release).0, "SECURE_ENV");
}

#[test]
fn debug_build_without_keys_generates_ephemeral_ones() {
    let config = SecurityConfig::from_vars(Vec::<(String, String)>::new(), Profile::Debug)
        .expect("debug build starts on development keys");
    let keys = config.keys().expect("keys");
    assert!(keys.is_ephemeral());
    // The generated keys work: a token issued with them verifies.
    let tokens = AccessTokens::builder(keys.access_token_key(), "https://issuer.test", "api")
        .build()
        .expect("tokens");
    let token = tokens.issue(&Identity::new("u1", 0)).expect("issue");
    assert_eq!(tokens.verify(&token).expect("verify").sub, "u1");
    // Two processes' development keys differ.
    let other =
        SecurityConfig::from_vars(Vec::<(String, String)>::new(), Profile::Debug).expect("config");
    let other_tokens = AccessTokens::builder(
        other.keys().expect("keys").access_token_key(),
        "https://issuer.test",
        "api",
    )
    .build()
    .expect("tokens");
    assert!(other_tokens.verify(&token).is_err());
}

#[test]
fn configured_keys_are_used_and_never_printed() {
    let vars = keyed(&[]);
    let jwt = vars[0].1.clone();
    let config = SecurityConfig::from_vars(vars.clone(), Profile::Release).expect("config");
    let keys = config.keys().expect("keys");
    assert!(!keys.is_ephemeral());
    // Same key, same tokens: a second instance configured alike verifies the first's tokens.
    let a = AccessTokens::builder(keys.access_token_key(), "https://i.test", "api")
        .build()
        .expect("tokens");
    let b_config = SecurityConfig::from_vars(vars, Profile::Release).expect("config");
    let b = AccessTokens::builder(
        b_config.keys().expect("keys").access_token_key(),
        "https://i.test",
        "api",
    )
    .build()
    .expect("tokens");
    let token = a.issue(&Identity::new("u1", 0)).expect("issue");
    assert!(b.verify(&token).is_ok());
    let debug = format!("{config:?}");
    assert!(!debug.contains(&jwt), "{debug}");
    assert!(debug.contains("[REDACTED]"));
}

#[test]
fn one_key_in_two_places_is_refused() {
    for (first, second) in [
        ("SECURE_JWT_KEY", "SECURE_CSRF_KEY"),
        ("SECURE_JWT_KEY", "SECURE_DATA_KEY"),
        ("SECURE_CSRF_KEY", "SECURE_DATA_KEY"),
    ] {
        let shared = random_key();
        let mut vars = keyed(&[]);
        for (k, v) in &mut vars {
            if k == first || k == second {
                *v = shared.clone();
            }
        }
        let (var, reason) = env_err(vars, Profile::Release);
        assert_eq!(var, second);
        assert!(reason.contains(&format!("same key as {first}")), "{reason}");
        assert!(!reason.contains(&shared), "the key is echoed: {reason}");
    }
    // One key written two ways (base64 and base64url without padding, hex in either case)
    // is still one key.
    use base64::Engine as _;
    let bytes: [u8; 48] = rand::random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    for (a, b) in [
        (
            base64::engine::general_purpose::STANDARD.encode(bytes),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes),
        ),
        (hex.clone(), hex.to_uppercase()),
    ] {
        let mut vars = keyed(&[]);
        vars[0].1 = a;
        vars[1].1 = b;
        assert_eq!(env_err(vars, Profile::Release).0, "SECURE_CSRF_KEY");
    }
    // A rotation's previous data key must differ from the current one too.
    let mut vars = keyed(&[]);
    let data = vars[2].1.clone();
    vars.push(("SECURE_DATA_KEY_PREVIOUS".to_owned(), data));
    assert_eq!(
        env_err(vars, Profile::Release).0,
        "SECURE_DATA_KEY_PREVIOUS"
    );
}

#[test]
fn data_keys_seal_across_instances_and_rotations() {
    let vars = keyed(&[]);
    let old = SecurityConfig::from_vars(vars.clone(), Profile::Release).expect("config");
    let sealed = old
        .keys()
        .expect("keys")
        .data_keys()
        .seal(b"ctx", b"JBSWY3DP");
    // Another instance with the same key opens it.
    let same = SecurityConfig::from_vars(vars.clone(), Profile::Release).expect("config");
    let opened = same.keys().expect("keys").data_keys().open(b"ctx", &sealed);
    assert_eq!(&opened.expect("opens")[..], b"JBSWY3DP");
    // After a rotation the old key is read as SECURE_DATA_KEY_PREVIOUS.
    let mut rotated = vars.clone();
    let previous = rotated[2].1.clone();
    rotated[2].1 = random_key();
    rotated.push(("SECURE_DATA_KEY_PREVIOUS".to_owned(), previous));
    let config = SecurityConfig::from_vars(rotated, Profile::Release).expect("config");
    let keys = config.keys().expect("keys").data_keys();
    assert!(keys.needs_reseal(&sealed));
    assert_eq!(&keys.open(b"ctx", &sealed).expect("opens")[..], b"JBSWY3DP");
    // Without the previous key the old value is refused, not misread.
    let mut dropped = vars;
    dropped[2].1 = random_key();
    let config = SecurityConfig::from_vars(dropped, Profile::Release).expect("config");
    assert!(
        config
            .keys()
            .expect("keys")
            .data_keys()
            .open(b"ctx", &sealed)
            .is_err()
    );
    // The previous key alone makes no sense.
    let vars = vec![
        ("SECURE_JWT_KEY".to_owned(), random_key()),
        ("SECURE_CSRF_KEY".to_owned(), random_key()),
        ("SECURE_DATA_KEY_PREVIOUS".to_owned(), random_key()),
    ];
    assert_eq!(env_err(vars, Profile::Debug).0, "SECURE_DATA_KEY_PREVIOUS");
}

#[test]
fn weak_and_placeholder_keys_are_refused_without_echo() {
    for (value, expect) in [
        ("short-key", "is 9 bytes"),
        ("changeme-changeme-changeme-changeme", "placeholder"),
        (
            "my-super-secret-jwt-signing-key-for-production",
            "placeholder",
        ),
        ("0000000000000000000000000000000000000000", "repeats"),
    ] {
        let mut vars = keyed(&[]);
        vars[0].1 = value.to_owned();
        let (var, reason) = env_err(vars, Profile::Release);
        assert_eq!(var, "SECURE_JWT_KEY");
        assert!(reason.contains(expect), "{value}: {reason}");
        assert!(!reason.contains(value), "the key is echoed: {reason}");
    }
}

#[test]
fn keys_from_files() {
    let dir = std::env::temp_dir().join(format!("secure-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let jwt_path = dir.join("jwt");
    let csrf_path = dir.join("csrf");
    // As `echo "$KEY" > file` writes it: the newline is not part of the key.
    std::fs::write(&jwt_path, format!("{}\n", random_key())).expect("write");
    std::fs::write(&csrf_path, random_key()).expect("write");
    let data_path = dir.join("data");
    std::fs::write(&data_path, random_key()).expect("write");
    let vars = vec![
        (
            "SECURE_JWT_KEY_FILE".to_owned(),
            jwt_path.display().to_string(),
        ),
        (
            "SECURE_CSRF_KEY_FILE".to_owned(),
            csrf_path.display().to_string(),
        ),
        (
            "SECURE_DATA_KEY_FILE".to_owned(),
            data_path.display().to_string(),
        ),
    ];
    let config = SecurityConfig::from_vars(vars.clone(), Profile::Release).expect("config");
    assert!(!config.keys().expect("keys").is_ephemeral());

    // A weak key in a file names the file variable, never the content.
    std::fs::write(&jwt_path, "secret\n").expect("write");
    let (var, reason) = env_err(vars.clone(), Profile::Release);
    assert_eq!(var, "SECURE_JWT_KEY_FILE");
    assert!(reason.contains("is 6 bytes"), "{reason}");

    // A missing file.
    std::fs::remove_file(&jwt_path).expect("remove");
    let (var, reason) = env_err(vars.clone(), Profile::Release);
    assert_eq!(var, "SECURE_JWT_KEY_FILE");
    assert!(reason.contains("cannot read"), "{reason}");

    // Both forms at once is ambiguous.
    let mut both = keyed(&[]);
    both.push(vars[0].clone());
    assert_eq!(env_err(both, Profile::Release).0, "SECURE_JWT_KEY");
    let _ = std::fs::remove_dir_all(&dir);
}

/// One grammar: the variables take what `#[secure_handler]` takes, and refuse the rest with
/// the attribute's message (the trybuild snapshots in `tests/ui/handler/fail` hold the same
/// sentences).
#[test]
fn rates_sizes_and_durations_read_as_in_the_attribute() {
    for (var, value) in [
        ("SECURE_RATE_LIMIT", "5/m"),
        ("SECURE_RATE_LIMIT", "10 / hour"),
        ("SECURE_BODY_LIMIT", "16KB"),
        ("SECURE_REQUEST_TIMEOUT", "5m"),
    ] {
        assert!(
            SecurityConfig::from_vars(keyed(&[(var, value)]), Profile::Release).is_ok(),
            "{var}={value}"
        );
    }
    for (var, value, same_as) in [
        (
            "SECURE_RATE_LIMIT",
            "5/fortnight",
            secure_units::rate("5/fortnight").unwrap_err(),
        ),
        (
            "SECURE_BODY_LIMIT",
            "16 kilobytes",
            secure_units::size("16 kilobytes").unwrap_err(),
        ),
    ] {
        let (_, reason) = env_err(keyed(&[(var, value)]), Profile::Release);
        assert!(reason.starts_with(&same_as.to_string()), "{reason}");
    }
}

#[test]
fn every_malformed_value_names_its_variable() {
    for (var, value, expect) in [
        ("SECURE_ENV", "staging", "development"),
        ("SECURE_BODY_LIMIT", "64 kilobytes", "KiB"),
        ("SECURE_BODY_LIMIT", "0", "is zero"),
        ("SECURE_BODY_LIMIT", "100MiB", "64MiB"),
        ("SECURE_REQUEST_TIMEOUT", "30", "no unit"),
        ("SECURE_REQUEST_TIMEOUT", "3h", "between"),
        ("SECURE_JSON_MAX_DEPTH", "500", "from 1 to 128"),
        ("SECURE_HEADER_READ_TIMEOUT", "10", "no unit"),
        ("SECURE_HEADER_READ_TIMEOUT", "10min", "between"),
        ("SECURE_IDLE_TIMEOUT", "2h", "between"),
        ("SECURE_CONNECTIONS_PER_ADDRESS", "0", "or `off`"),
        ("SECURE_CONNECTIONS_PER_ADDRESS", "many", "or `off`"),
        ("SECURE_MAX_CONNECTIONS", "0", "from 1 to"),
        ("SECURE_RATE_LIMIT", "5/fortnight", "such as `5/min`"),
        (
            "SECURE_TRUSTED_PROXIES",
            "10.0.0.0/8, not-an-ip",
            "not-an-ip",
        ),
        ("SECURE_PROXY_HEADER", "x-real-ip", "forwarded"),
        ("SECURE_IPV6_PREFIX", "8", "from 32 to 128"),
        ("SECURE_HEADERS", "strict", "`api` or `web`"),
        ("SECURE_HSTS_PRELOAD", "maybe", "`true` or `false`"),
        ("SECURE_CORS_ORIGINS", "https://app.example/path", "CORS"),
        (
            "SECURE_CORS_CREDENTIALS",
            "true",
            "without SECURE_CORS_ORIGINS",
        ),
        ("SECURE_JWT_KYE", "x", "did you mean `SECURE_JWT_KEY`"),
    ] {
        let (got, reason) = env_err(keyed(&[(var, value)]), Profile::Release);
        assert_eq!(got, var, "{var}={value}: {reason}");
        assert!(reason.contains(expect), "{var}={value}: {reason}");
        let message = ConfigError::Env {
            var: got,
            reason: reason.clone(),
        }
        .to_string();
        assert!(message.starts_with(&format!("{var}: ")), "{message}");
    }
    // A wildcard origin with credentials is a configuration error, not a panic.
    let (var, reason) = env_err(
        keyed(&[
            ("SECURE_CORS_ORIGINS", "*"),
            ("SECURE_CORS_CREDENTIALS", "true"),
        ]),
        Profile::Release,
    );
    assert_eq!(var, "SECURE_CORS_ORIGINS");
    assert!(reason.contains("CORS"), "{reason}");
    // Harness variables are left alone.
    assert!(
        SecurityConfig::from_vars(
            keyed(&[("SECURE_TEST_POSTGRES_URL", "postgres://x")]),
            Profile::Release
        )
        .is_ok()
    );
}

#[test]
fn well_formed_values_are_applied() {
    let config = SecurityConfig::from_vars(
        keyed(&[
            ("SECURE_BODY_LIMIT", "1MiB"),
            ("SECURE_REQUEST_TIMEOUT", "250ms"),
            ("SECURE_JSON_MAX_DEPTH", "8"),
            ("SECURE_RATE_LIMIT", "off"),
            ("SECURE_TRUSTED_PROXIES", "10.0.0.0/8, 2001:db8::/32"),
            ("SECURE_IPV6_PREFIX", "64"),
            ("SECURE_HEADERS", "web"),
            ("SECURE_CORS_ORIGINS", "https://app.example"),
            ("SECURE_HEADER_READ_TIMEOUT", "5s"),
            ("SECURE_IDLE_TIMEOUT", "2min"),
            ("SECURE_CONNECTIONS_PER_ADDRESS", "off"),
            ("SECURE_MAX_CONNECTIONS", "500"),
        ]),
        Profile::Release,
    )
    .expect("config");
    assert_eq!(config.body_limit_bytes(), 1 << 20);
    let connections = config.connections();
    assert_eq!(connections.header_read(), Duration::from_secs(5));
    assert_eq!(connections.idle(), Duration::from_secs(120));
    assert_eq!(connections.per_address_limit(), None);
    assert_eq!(connections.max_for(Some(1 << 20)), 500);
    assert_eq!(connections.max_for(Some(256)), 192);
    let config = SecurityConfig::from_vars(
        keyed(&[("SECURE_CONNECTIONS_PER_ADDRESS", "500")]),
        Profile::Release,
    )
    .expect("config");
    assert_eq!(config.connections().per_address_limit(), Some(500));
    // Unset: the defaults.
    let defaults = SecurityConfig::from_vars(keyed(&[]), Profile::Release).expect("config");
    assert_eq!(defaults.connections(), ConnectionLimits::new());
    assert_eq!(
        defaults.connections().header_read(),
        Duration::from_secs(10)
    );
    assert_eq!(defaults.connections().idle(), Duration::from_secs(75));
    assert_eq!(defaults.connections().per_address_limit(), Some(64));
    let config = SecurityConfig::from_vars(
        keyed(&[
            ("SECURE_REQUEST_TIMEOUT", "250ms"),
            ("SECURE_JSON_MAX_DEPTH", "8"),
        ]),
        Profile::Release,
    )
    .expect("config");
    assert_eq!(
        config.request_timeout_duration(),
        Some(Duration::from_millis(250))
    );
    assert_eq!(config.json_max_depth_levels(), 8);
}

#[derive(Debug, Deserialize, Validated)]
#[validate(allow_unknown_fields)]
struct Doc {
    #[validate(length(max = 100000))]
    name: String,
}

#[secure_handler(public)]
async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(5)).await;
    "late"
}

#[secure_handler(public)]
async fn fast() -> &'static str {
    "fast"
}

#[secure_handler(public)]
async fn doc(body: Valid<Json<Doc>>) -> String {
    body.name.clone()
}

fn app(vars: &[(&str, &str)]) -> secure_core::policy::SecureApp {
    let config = SecurityConfig::from_vars(keyed(vars), Profile::Release).expect("config");
    SecureRouter::new()
        .route("/slow", get(slow))
        .route("/fast", get(fast))
        .route("/doc", post(doc))
        .into_app(config)
        .expect("the app assembles")
}

async fn send(app: secure_core::policy::SecureApp, request: Request<Body>) -> (StatusCode, String) {
    let response = app.oneshot(request).await.expect("infallible");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn json(body: String) -> Request<Body> {
    Request::post("/doc")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .expect("request")
}

#[tokio::test]
async fn request_timeout_answers_408_problem() {
    let app = app(&[("SECURE_REQUEST_TIMEOUT", "100ms")]);
    let response = app
        .clone()
        .oneshot(Request::get("/slow").body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    // The timeout answer gets the security headers and a request id like any other.
    let headers = response.headers();
    assert_eq!(
        headers[header::CONTENT_SECURITY_POLICY],
        "default-src 'none'; frame-ancestors 'none'"
    );
    assert!(headers.contains_key("x-request-id"));
    assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let body = String::from_utf8_lossy(&body).into_owned();
    assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
    assert!(body.contains("\"status\":408"), "{body}");
    assert!(body.contains("took too long"), "{body}");
    let (status, _) = send(
        app,
        Request::get("/fast").body(Body::empty()).expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn json_nesting_beyond_the_limit_is_refused() {
    let app = app(&[("SECURE_JSON_MAX_DEPTH", "4")]);
    let ok = r#"{"name":"n","x":[[{"y":1}]]}"#.to_owned();
    assert_eq!(send(app.clone(), json(ok)).await.0, StatusCode::OK);
    let deep = r#"{"name":"n","x":[[[{"y":1}]]]}"#.to_owned();
    let (status, body) = send(app.clone(), json(deep)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("nested too deeply"), "{body}");
    // Brackets inside strings are text, not nesting.
    let text = format!(r#"{{"name":"{}"}}"#, "[{".repeat(100));
    assert_eq!(send(app.clone(), json(text)).await.0, StatusCode::OK);

    // The default (32) refuses a deep bomb before the parser recurses.
    let app = app_default();
    let bomb = format!(
        r#"{{"name":"n","x":{}{}}}"#,
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let (status, body) = send(app, json(bomb)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("nested too deeply"), "{body}");
}

fn app_default() -> secure_core::policy::SecureApp {
    app(&[])
}

#[tokio::test]
async fn body_limit_from_the_environment() {
    let app = app(&[("SECURE_BODY_LIMIT", "1KiB")]);
    let small = format!(r#"{{"name":"{}"}}"#, "a".repeat(900));
    assert_eq!(send(app.clone(), json(small)).await.0, StatusCode::OK);
    let big = format!(r#"{{"name":"{}"}}"#, "a".repeat(1100));
    assert_eq!(send(app, json(big)).await.0, StatusCode::PAYLOAD_TOO_LARGE);
}

#[test]
fn typed_keys_are_refused_without_being_echoed() {
    let copy = random_key();
    for typed in [
        "acme-notes-jwt-2024-acme-notes-jwt-2024".to_owned(),
        "qwertyuiopasdfghjklzxcvbnm1234567890".to_owned(),
        "correct horse battery staple is a fine sentence to sign with".to_owned(),
        // The same key as another plus a space is not a new key: not base64 at all.
        format!("{copy} "),
    ] {
        let mut vars = keyed(&[]);
        vars[1].1 = copy.clone();
        vars[0].1 = typed.clone();
        let (var, reason) = env_err(vars, Profile::Release);
        assert_eq!(var, "SECURE_JWT_KEY", "{typed}");
        assert!(reason.contains("base64 or hex"), "{reason}");
        assert!(
            !reason.contains(typed.trim()),
            "the key is echoed: {reason}"
        );
    }
}

#[test]
fn previous_keys_are_keys_of_their_own_and_need_the_current_one() {
    for (previous, current) in [
        ("SECURE_JWT_KEY_PREVIOUS", "SECURE_JWT_KEY"),
        ("SECURE_CSRF_KEY_PREVIOUS", "SECURE_CSRF_KEY"),
    ] {
        // The current key again is no rotation.
        let mut vars = keyed(&[]);
        let same = vars.iter().find(|(k, _)| k == current).unwrap().1.clone();
        vars.push((previous.to_owned(), same));
        assert_eq!(env_err(vars, Profile::Release).0, previous);
        // A previous key without a current one verifies what nothing signs any more.
        let vars = vec![(previous.to_owned(), random_key())];
        let (var, reason) = env_err(vars, Profile::Release);
        assert_eq!(var, previous, "{reason}");
        // Typed text is refused there too.
        let mut vars = keyed(&[]);
        vars.push((
            previous.to_owned(),
            "my-old-jwt-key-from-2024-my-old-jwt-key".to_owned(),
        ));
        assert_eq!(env_err(vars, Profile::Release).0, previous);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum OidcRole {
    Admin,
}

#[test]
fn oidc_variables_are_checked_together() {
    let iss = ("SECURE_OIDC_ISSUER", "https://id.example/realms/notes");
    let aud = ("SECURE_OIDC_AUDIENCE", "notes-api");
    for (vars, var, reason) in [
        (
            vec![iss],
            "SECURE_OIDC_AUDIENCE",
            "is required with SECURE_OIDC_ISSUER",
        ),
        (
            vec![aud],
            "SECURE_OIDC_AUDIENCE",
            "needs SECURE_OIDC_ISSUER",
        ),
        (
            vec![iss, aud, ("SECURE_OIDC_ROLES", "notes-admin=admin")],
            "SECURE_OIDC_ROLES",
            "needs SECURE_OIDC_ROLES_CLAIM",
        ),
        (
            vec![
                iss,
                aud,
                ("SECURE_OIDC_ROLES_CLAIM", "roles"),
                ("SECURE_OIDC_ROLES", "admin"),
            ],
            "SECURE_OIDC_ROLES",
            "`admin` is not `provider-role=app_role`",
        ),
    ] {
        let (got_var, got_reason) = env_err(keyed(&vars), Profile::Release);
        assert_eq!((got_var.as_str(), got_reason.as_str()), (var, reason));
    }
    let config = SecurityConfig::from_vars(
        keyed(&[
            iss,
            aud,
            ("SECURE_OIDC_ROLES_CLAIM", "https://notes.example/roles"),
            (
                "SECURE_OIDC_ROLES",
                " notes-admin = admin , notes-owner=owner",
            ),
        ]),
        Profile::Release,
    )
    .expect("config");
    // The app's roles decide: `owner` is not one of them.
    let refused = config.oidc_provider::<OidcRole>().expect("configured");
    assert_eq!(
        refused.unwrap_err().to_string(),
        "SECURE_OIDC_ROLES: `owner` is not one of the app's roles"
    );
    let none = SecurityConfig::from_vars(keyed(&[]), Profile::Release).expect("config");
    assert!(none.oidc_provider::<OidcRole>().is_none());
}

/// `SECURE_REDIS_URL` puts the rate limits and account throttles in Redis: connected on the
/// first decision (start-up does not wait), and `RateLimiter::ready` asks it. Redis down:
/// not ready. A value that is not a Redis URL is refused without being repeated (a URL may
/// hold a password). With a server (`SECURE_TEST_REDIS_URL`), ready.
#[tokio::test]
async fn a_redis_url_shares_the_limits_and_readiness_asks_it() {
    let (var, err) = env_err(
        keyed(&[("SECURE_REDIS_URL", "http://:hunter2-secret@cache:6379")]),
        Profile::Release,
    );
    assert_eq!(var, "SECURE_REDIS_URL");
    assert!(!err.contains("hunter2"), "{err}");

    // Nothing listens on a port just closed: the store is configured, and not ready.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let url = format!("redis://:hunter2-secret@127.0.0.1:{port}/");
    let config =
        SecurityConfig::from_vars(keyed(&[("SECURE_REDIS_URL", &url)]), Profile::Release).unwrap();
    assert!(!format!("{config:?}").contains("hunter2"));
    let down = config.limiter().ready().await.unwrap_err();
    assert!(!down.to_string().contains("hunter2"), "{down}");
    assert!(
        SecurityConfig::new().limiter().ready().await.is_ok(),
        "no store: ready"
    );

    match std::env::var("SECURE_TEST_REDIS_URL") {
        Ok(url) => {
            let config =
                SecurityConfig::from_vars(keyed(&[("SECURE_REDIS_URL", &url)]), Profile::Release)
                    .unwrap();
            config.limiter().ready().await.unwrap();
        }
        Err(_) => secure_tests::skipped(
            "a_redis_url_shares_the_limits_and_readiness_asks_it (a reachable Redis)",
            "Redis: `. .ci/redis.sh`",
        ),
    }
}

/// Read outside a tokio runtime, `SECURE_REDIS_URL` is refused with the reason (its
/// connection is made on the runtime).
#[test]
fn a_redis_url_needs_the_runtime() {
    let (var, err) = env_err(
        keyed(&[("SECURE_REDIS_URL", "redis://127.0.0.1:6379/")]),
        Profile::Release,
    );
    assert_eq!(var, "SECURE_REDIS_URL");
    assert!(err.contains("tokio runtime"), "{err}");
}
