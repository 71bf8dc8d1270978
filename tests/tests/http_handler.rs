//! `#[secure_handler]` + `SecureRouter` end to end: every outcome, its audit event, and no
//! internal detail in any body.

use axum::body::Body;
use axum::extract::Path;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use secure_core::auth::jwt::{AccessTokenKey, AccessTokens};
use secure_core::auth::{Amr, Authenticator, Identity, Principal, Role};
use secure_core::config::SecurityConfig;
use secure_core::policy::SecureRouter;
use secure_core::prelude::*;
use secure_core::routing::{delete, get, post};
use secure_core::{SecretBox, secure_handler};
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

#[secure_handler(auth, body_limit = "512B", audit = "note.create")]
async fn create_note(user: Principal<AppRole>, body: Valid<Json<NewNote>>) -> (StatusCode, String) {
    (
        StatusCode::CREATED,
        format!("{}:{}", user.subject(), body.title),
    )
}

/// Notes of other users answer 404, not 403: their existence is not revealed.
#[secure_handler(auth)]
async fn get_note(user: Principal<AppRole>, Path(id): Path<u32>) -> Result<String, StatusCode> {
    if id == 1 && user.subject() == "alice" {
        Ok("alice's note".to_owned())
    } else {
        Err(StatusCode::NOT_FOUND)
    }
}

#[secure_handler(auth, roles(Admin), mfa, audit = "note.purge")]
async fn purge(user: Principal<AppRole>) -> String {
    format!("purged by {}", user.subject())
}

#[secure_handler(auth, roles(AppRole::Admin))]
async fn stats() -> &'static str {
    "stats"
}

/// `fresh` without a `Principal`: the identity path of the wrapper.
#[secure_handler(auth, fresh = "5m")]
async fn export() -> &'static str {
    "export"
}

/// `fresh` with roles and a `Principal`.
#[secure_handler(auth, roles(Admin), fresh = "90s")]
async fn rotate_keys(admin: Principal<AppRole>) -> String {
    format!("rotated by {}", admin.subject())
}

#[secure_handler(public, rate_limit("2/min", key = ip))]
async fn login() -> &'static str {
    "token"
}

#[derive(Debug, Deserialize, Validated)]
struct Page {
    #[validate(length(min = 1, max = 100))]
    title: String,
    #[validate(length(max = 10000))]
    body: String,
}

/// No `body_limit`: the route takes the largest body `Page`'s rules accept.
#[secure_handler(public)]
async fn page(body: Valid<Json<Page>>) -> String {
    body.body.chars().count().to_string()
}

#[secure_handler(public)]
async fn boom() -> &'static str {
    panic!("database password is hunter2")
}

#[secure_handler(public)]
async fn fails() -> Result<&'static str, (StatusCode, String)> {
    Err((
        StatusCode::INTERNAL_SERVER_ERROR,
        "SELECT * FROM users: connection refused at 10.0.0.5".to_owned(),
    ))
}

#[secure_handler(public)]
async fn broken_db() -> Result<&'static str, ApiError> {
    Err(ApiError::internal(std::io::Error::other(
        "password authentication failed for user \"notes\" at 10.0.0.5:5432",
    )))
}

#[secure_handler(public)]
async fn missing() -> Result<&'static str, ApiError> {
    Err(ApiError::NotFound)
}

fn tokens(key: [u8; 32]) -> AccessTokens {
    let key = AccessTokenKey::hs256(SecretBox::from(key.to_vec())).unwrap();
    AccessTokens::builder(key, "https://auth.test", "notes")
        .build()
        .unwrap()
}

fn router() -> SecureRouter {
    SecureRouter::new()
        .route("/health", get(health))
        .route("/me", get(me))
        .route("/notes", post(create_note))
        .route("/notes/{id}", get(get_note))
        .route("/admin/purge", delete(purge))
        .route("/admin/stats", get(stats))
        .route("/login", post(login))
        .route("/export", get(export))
        .route("/admin/keys", post(rotate_keys))
        .route("/boom", get(boom))
        .route("/fails", get(fails))
        .route("/broken-db", get(broken_db))
        .route("/missing", get(missing))
        .route("/pages", post(page))
}

struct App {
    router: secure_core::policy::SecureApp,
    tokens: AccessTokens,
}

fn app() -> App {
    let key: [u8; 32] = rand::random();
    let config = SecurityConfig::new().authenticator(Authenticator::new(tokens(key)));
    App {
        router: router().into_app(config).expect("the app assembles"),
        tokens: tokens(key),
    }
}

fn token(app: &App, subject: &str, roles: &[&str], mfa: bool) -> String {
    let amr = if mfa {
        vec![Amr::Pwd, Amr::Otp]
    } else {
        vec![Amr::Pwd]
    };
    let identity = Identity::new(subject, 1_700_000_000)
        .with_roles(roles.iter().copied())
        .with_amr(amr);
    app.tokens.issue(&identity).unwrap()
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn send(app: &App, request: Request<Body>) -> Reply {
    let response = app.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

fn get_req(path: &str, bearer: Option<&str>) -> Request<Body> {
    let mut b = Request::get(path);
    if let Some(t) = bearer {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    b.body(Body::empty()).unwrap()
}

fn json_req(method: &str, path: &str, bearer: Option<&str>, body: &str) -> Request<Body> {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(t) = bearer {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    b.body(Body::from(body.to_owned())).unwrap()
}

/// Valid input in any JSON encoding fits the route's body limit: 10,000 emoji written as
/// surrogate escapes (Python's default `json.dumps`) are 120 KB, above the 64 KiB default,
/// and were answered 413 while the same text in raw UTF-8 (40 KB) was accepted.
#[tokio::test]
async fn valid_input_fits_the_body_limit_in_its_longest_encoding() {
    let app = app();
    let escaped = format!(
        r#"{{"title":"\u00e9t\u00e9","body":"{}"}}"#,
        "\\ud83d\\ude00".repeat(10_000)
    );
    assert!(escaped.len() > 64 * 1024);
    let reply = send(&app, json_req("POST", "/pages", None, &escaped)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body, "10000");
    // Pretty-printed, with every key escaped too.
    let pretty = format!(
        "{{\n    \"\\u0074\\u0069\\u0074\\u006c\\u0065\" : \"{}\",\n    \"body\" : \"{}\"\n}}\n",
        "\\u00e9".repeat(100),
        "\\ud83d\\ude00".repeat(10_000)
    );
    let reply = send(&app, json_req("POST", "/pages", None, &pretty)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    // One character over the rule: refused by the rule (422), not by the size (413).
    let over = format!(
        r#"{{"title":"t","body":"{}"}}"#,
        "\\ud83d\\ude00".repeat(10_001)
    );
    let reply = send(&app, json_req("POST", "/pages", None, &over)).await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    // Far over: the size refuses it before parsing.
    let huge = format!(r#"{{"title":"t","body":"{}"}}"#, "x".repeat(200_000));
    let reply = send(&app, json_req("POST", "/pages", None, &huge)).await;
    assert_problem(&reply, StatusCode::PAYLOAD_TOO_LARGE);
}

fn assert_problem(reply: &Reply, status: StatusCode) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(
        reply.headers.get(header::CONTENT_TYPE).unwrap(),
        "application/problem+json",
        "{}",
        reply.body
    );
    let body: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(body["status"], status.as_u16());
}

#[tokio::test]
async fn public_route_answers_anyone() {
    let app = app();
    let reply = send(&app, get_req("/health", None)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, "ok");
    assert!(reply.headers.contains_key("x-request-id"));
}

#[tokio::test]
async fn auth_route_without_credentials_is_401_with_challenge_and_audit() {
    let app = app();
    let (reply, log) = secure_tests::with_logs(send(&app, get_req("/me", None))).await;
    assert_problem(&reply, StatusCode::UNAUTHORIZED);
    assert!(
        reply
            .headers
            .get(header::WWW_AUTHENTICATE)
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    assert!(log.contains("security::audit"), "{log}");
    assert!(log.contains("outcome=\"failure\""), "{log}");
    assert!(log.contains("route=/me"), "{log}");
}

#[tokio::test]
async fn auth_route_with_a_good_token_runs_the_handler() {
    let app = app();
    let t = token(&app, "alice", &["member"], false);
    let reply = send(&app, get_req("/me", Some(&t))).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, "alice");
}

#[tokio::test]
async fn missing_role_or_mfa_is_403_with_audit() {
    let app = app();
    let member = token(&app, "bob", &["member"], true);
    let (reply, log) = secure_tests::with_logs(send(
        &app,
        json_req("DELETE", "/admin/purge", Some(&member), ""),
    ))
    .await;
    assert_problem(&reply, StatusCode::FORBIDDEN);
    assert!(log.contains("missing_role"), "{log}");
    assert!(log.contains("subject=bob"), "{log}");

    let admin_no_mfa = token(&app, "carol", &["admin"], false);
    let (reply, log) = secure_tests::with_logs(send(
        &app,
        json_req("DELETE", "/admin/purge", Some(&admin_no_mfa), ""),
    ))
    .await;
    assert_problem(&reply, StatusCode::FORBIDDEN);
    assert!(log.contains("mfa_required"), "{log}");

    let admin = token(&app, "dave", &["admin"], true);
    let (reply, log) = secure_tests::with_logs(send(
        &app,
        json_req("DELETE", "/admin/purge", Some(&admin), ""),
    ))
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, "purged by dave");
    assert!(
        log.contains("note.purge") && log.contains("success"),
        "{log}"
    );
}

#[tokio::test]
async fn roles_written_as_paths_work_without_a_principal_parameter() {
    let app = app();
    let member = token(&app, "bob", &["member"], false);
    assert_eq!(
        send(&app, get_req("/admin/stats", Some(&member)))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let admin = token(&app, "dave", &["admin"], false);
    assert_eq!(
        send(&app, get_req("/admin/stats", Some(&admin)))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn objects_of_other_users_are_404() {
    let app = app();
    let alice = token(&app, "alice", &["member"], false);
    let bob = token(&app, "bob", &["member"], false);
    assert_eq!(
        send(&app, get_req("/notes/1", Some(&alice))).await.status,
        StatusCode::OK
    );
    let reply = send(&app, get_req("/notes/1", Some(&bob))).await;
    assert_problem(&reply, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn body_is_validated_limited_and_typed_after_authentication() {
    let app = app();
    let t = token(&app, "alice", &["member"], false);
    let ok = send(
        &app,
        json_req("POST", "/notes", Some(&t), r#"{"title":"hi"}"#),
    )
    .await;
    assert_eq!(ok.status, StatusCode::CREATED);
    assert_eq!(ok.body, "alice:hi");
    let invalid = send(
        &app,
        json_req("POST", "/notes", Some(&t), r#"{"title":""}"#),
    )
    .await;
    assert_problem(&invalid, StatusCode::UNPROCESSABLE_ENTITY);
    let big = format!(r#"{{"title":"{}"}}"#, "x".repeat(600));
    assert_problem(
        &send(&app, json_req("POST", "/notes", Some(&t), &big)).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    );
    let mut wrong_type = json_req("POST", "/notes", Some(&t), r#"{"title":"hi"}"#);
    wrong_type
        .headers_mut()
        .insert(header::CONTENT_TYPE, "text/plain".parse().unwrap());
    assert_problem(
        &send(&app, wrong_type).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    );
    // No credentials: 401 before the body is even looked at (a malformed body still says 401).
    let unauthenticated = send(&app, json_req("POST", "/notes", None, "{not json")).await;
    assert_problem(&unauthenticated, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after_and_audit() {
    let app = app();
    for _ in 0..2 {
        assert_eq!(
            send(&app, json_req("POST", "/login", None, ""))
                .await
                .status,
            StatusCode::OK
        );
    }
    let (reply, log) =
        secure_tests::with_logs(send(&app, json_req("POST", "/login", None, ""))).await;
    assert_problem(&reply, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = reply
        .headers
        .get(header::RETRY_AFTER)
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert!(log.contains("rate_limited"), "{log}");
}

#[tokio::test]
async fn panics_and_5xx_bodies_hold_no_internal_detail() {
    let app = app();
    let reply = send(&app, get_req("/boom", None)).await;
    assert_problem(&reply, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!reply.body.contains("hunter2"), "{}", reply.body);
    let reply = send(&app, get_req("/fails", None)).await;
    assert_problem(&reply, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        !reply.body.contains("SELECT") && !reply.body.contains("10.0.0.5"),
        "{}",
        reply.body
    );
    let body: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(
        body["request_id"],
        reply.headers["x-request-id"].to_str().unwrap()
    );
}

#[tokio::test]
async fn api_errors_log_the_cause_under_the_request_id_and_send_only_the_id() {
    let app = app();
    let (reply, log) = secure_tests::with_logs(send(&app, get_req("/broken-db", None))).await;
    assert_problem(&reply, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        !reply.body.contains("10.0.0.5") && !reply.body.contains("password"),
        "{}",
        reply.body
    );
    let id = reply.headers["x-request-id"].to_str().unwrap();
    let body: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(body["request_id"], id);
    let line = log
        .lines()
        .find(|l| l.contains("internal error"))
        .expect("the cause is logged");
    assert!(line.contains(id) && line.contains("10.0.0.5"), "{line}");
    assert_problem(
        &send(&app, get_req("/missing", None)).await,
        StatusCode::NOT_FOUND,
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = app();
    assert_problem(
        &send(&app, get_req("/nowhere", None)).await,
        StatusCode::NOT_FOUND,
    );
    assert_problem(
        &send(&app, json_req("PUT", "/health", None, "")).await,
        StatusCode::METHOD_NOT_ALLOWED,
    );
}

#[tokio::test]
async fn request_ids_are_kept_only_when_well_formed() {
    let app = app();
    let mut req = get_req("/health", None);
    req.headers_mut()
        .insert("x-request-id", "abc-123_X".parse().unwrap());
    assert_eq!(send(&app, req).await.headers["x-request-id"], "abc-123_X");
    let mut req = get_req("/health", None);
    req.headers_mut()
        .insert("x-request-id", "bad id; drop table".parse().unwrap());
    let id = send(&app, req).await.headers["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
}

#[test]
fn the_policy_table_lists_every_route() {
    let table = router().policies();
    let text = table.to_string();
    assert!(text.starts_with("METHOD"), "{text}");
    for needle in [
        "GET     /health",
        "auth roles(admin) mfa",
        "2/min per ip",
        "note.create",
        "512 B",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from\n{text}");
    }
    let json: serde_json::Value = serde_json::from_str(&table.to_json()).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 14);
    // (`purge` names the handler's unit struct here, so the row gets another name.)
    let row = json
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == "/admin/purge")
        .unwrap();
    assert_eq!(row["method"], "DELETE");
    assert_eq!(
        row["policy"]["access"],
        serde_json::json!({"kind": "auth", "roles": ["admin"], "mfa": true})
    );
}

fn signed_in_secs_ago(app: &App, subject: &str, roles: &[&str], ago: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let identity = Identity::new(subject, now - ago)
        .with_roles(roles.iter().copied())
        .with_amr([Amr::Pwd]);
    app.tokens.issue(&identity).unwrap()
}

#[tokio::test]
async fn fresh_routes_want_a_recent_sign_in() {
    let app = app();
    // Just signed in, or within the window: served.
    for ago in [0, 290] {
        let token = signed_in_secs_ago(&app, "alice", &["member"], ago);
        let reply = send(&app, get_req("/export", Some(&token))).await;
        assert_eq!(reply.status, StatusCode::OK, "{ago}: {}", reply.body);
    }
    // Older: 401 with the RFC 9470 challenge, audited.
    let token = signed_in_secs_ago(&app, "alice", &["member"], 301);
    let (reply, log) = secure_tests::with_logs(send(&app, get_req("/export", Some(&token)))).await;
    assert_problem(&reply, StatusCode::UNAUTHORIZED);
    assert_eq!(
        reply.headers[header::WWW_AUTHENTICATE],
        r#"Bearer error="insufficient_user_authentication", error_description="A more recent authentication is required", max_age=300"#
    );
    let body: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(body["code"], "insufficient_user_authentication");
    assert!(
        log.contains("stale_authentication") && log.contains("alice"),
        "{log}"
    );

    // Roles come first (403: a new sign-in would not help), then the window.
    let member = signed_in_secs_ago(&app, "bob", &["member"], 0);
    let reply = send(&app, json_req("POST", "/admin/keys", Some(&member), "")).await;
    assert_problem(&reply, StatusCode::FORBIDDEN);
    let old_admin = signed_in_secs_ago(&app, "carol", &["admin"], 91);
    let reply = send(&app, json_req("POST", "/admin/keys", Some(&old_admin), "")).await;
    assert_problem(&reply, StatusCode::UNAUTHORIZED);
    assert!(
        reply.headers[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .ends_with("max_age=90")
    );
    let admin = signed_in_secs_ago(&app, "carol", &["admin"], 10);
    let reply = send(&app, json_req("POST", "/admin/keys", Some(&admin), "")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    // The policy table says it.
    let table = router().policies().to_string();
    assert!(table.contains("auth fresh(5m)"), "{table}");
    assert!(table.contains("auth roles(admin) fresh(90s)"), "{table}");
}

// ---------------------------------------------------------------------------------------------
// Assembly: wiring checked at start-up, raw routes only as UNPROTECTED rows, one budget per route

#[test]
fn auth_routes_without_an_authenticator_stop_assembly_with_the_fix() {
    let err = router().into_app(SecurityConfig::new()).unwrap_err();
    let message = err.to_string();
    for route in [
        "GET /me",
        "POST /notes",
        "DELETE /admin/purge",
        "GET /admin/stats",
    ] {
        assert!(message.contains(route), "{message}");
    }
    assert!(!message.contains("/health"), "{message}");
    assert!(
        message.contains("SecurityConfig::authenticator"),
        "{message}"
    );
    // Public routes alone need none.
    let public = SecureRouter::new().route("/health", get(health));
    assert!(public.into_app(SecurityConfig::new()).is_ok());
}

async fn webhook(body: String) -> String {
    format!("{} bytes", body.len())
}

#[tokio::test]
async fn unprotected_routes_are_rows_with_a_reason_and_still_get_the_outer_stack() {
    use axum::http::Method;
    let reason = "HMAC-signed webhook, verified before parsing";
    let routes = SecureRouter::new()
        .route("/health", get(health))
        .unprotected(Method::POST, "/webhook", webhook, reason);
    let table = routes.policies().to_string();
    assert!(table.contains(&format!("UNPROTECTED: {reason}")), "{table}");
    let app = routes.into_app(SecurityConfig::new()).unwrap();
    let reply = app
        .oneshot(
            Request::post("/webhook")
                .body(Body::from("{\"event\":\"paid\"}"))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    // Security headers and a request id, as on every route.
    assert!(reply.headers().contains_key("content-security-policy"));
    assert!(reply.headers().contains_key("x-request-id"));
    // A reason that says nothing stops assembly.
    let err = SecureRouter::new()
        .unprotected(Method::POST, "/webhook", webhook, "ok")
        .into_app(SecurityConfig::new())
        .unwrap_err();
    assert!(err.to_string().contains("POST /webhook"), "{err}");
}

#[tokio::test]
async fn one_handler_on_two_paths_has_two_budgets() {
    let key: [u8; 32] = rand::random();
    let app = SecureRouter::new()
        .route("/login", post(login))
        .route("/v2/login", post(login))
        .into_app(SecurityConfig::new().authenticator(Authenticator::new(tokens(key))))
        .unwrap();
    let table = app.policies().to_string();
    assert_eq!(table.matches("2/min per ip").count(), 2, "{table}");
    let call = |path: &'static str| {
        let app = app.clone();
        async move {
            app.oneshot(json_req("POST", path, None, ""))
                .await
                .unwrap()
                .status()
        }
    };
    for _ in 0..2 {
        assert_eq!(call("/login").await, StatusCode::OK);
    }
    assert_eq!(call("/login").await, StatusCode::TOO_MANY_REQUESTS);
    // The other path's budget is its own.
    assert_eq!(call("/v2/login").await, StatusCode::OK);
}
