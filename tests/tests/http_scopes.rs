//! Scoped credentials over HTTP: a caller whose identity carries scopes (as an API key's
//! will) reaches only the routes that declare one of them; a route that declares none refuses
//! it; a user's own token, which carries no scopes, is judged by its roles alone.

use std::future::Future;
use std::pin::Pin;

use axum::body::Body;
use axum::http::{Request, StatusCode, header, request::Parts};
use secure_core::SecretBox;
use secure_core::auth::jwt::{AccessTokenKey, AccessTokens};
use secure_core::auth::{AuthError, Authenticator, Identity, Role, Scope, SessionAuthenticator};
use secure_core::config::SecurityConfig;
use secure_core::policy::{SecureApp, SecureRouter};
use secure_core::ratelimit::RateLimiter;
use secure_core::routing::get;
use secure_core::secure_handler;
use tower::ServiceExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
enum AppRole {
    Admin,
    Member,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Scope)]
enum AppScope {
    #[scope(rename = "notes:read")]
    NotesRead,
    #[scope(rename = "notes:write")]
    NotesWrite,
}

#[secure_handler(auth, scopes(AppScope::NotesRead, AppScope::NotesWrite))]
async fn read_notes() -> &'static str {
    "notes"
}

#[secure_handler(auth, scopes(AppScope::NotesWrite))]
async fn write_notes() -> &'static str {
    "written"
}

#[secure_handler(auth)]
async fn account() -> &'static str {
    "account"
}

#[secure_handler(auth, roles(AppRole::Admin), scopes(AppScope::NotesRead))]
async fn all_notes() -> &'static str {
    "all notes"
}

/// Stands for the API-key source to come: `Cookie: key=<scopes>` is a credential of
/// `member-1` holding those scopes (comma-separated; empty: none).
struct Keys;

impl SessionAuthenticator for Keys {
    fn authenticate<'a>(
        &'a self,
        parts: &'a Parts,
    ) -> Pin<Box<dyn Future<Output = Result<Option<Identity>, AuthError>> + Send + 'a>> {
        Box::pin(async move {
            let Some(cookie) = parts.headers.get(header::COOKIE) else {
                return Ok(None);
            };
            let held = cookie.to_str().unwrap().strip_prefix("key=").unwrap();
            let scopes = held.split(',').filter(|s| !s.is_empty()).map(str::to_owned);
            Ok(Some(
                Identity::new("member-1", 0)
                    .with_roles(["member"])
                    .with_scopes(scopes),
            ))
        })
    }
}

fn tokens() -> AccessTokens {
    let key = AccessTokenKey::hs256(SecretBox::from(vec![5u8; 32])).unwrap();
    AccessTokens::builder(key, "https://i.test", "api")
        .build()
        .unwrap()
}

fn app() -> SecureApp {
    SecureRouter::new()
        .route("/notes", get(read_notes).post(write_notes))
        .route("/account", get(account))
        .route("/admin/notes", get(all_notes))
        .into_app(
            SecurityConfig::new()
                .authenticator(
                    Authenticator::new(tokens()).with_sessions(std::sync::Arc::new(Keys)),
                )
                .rate_limiter(RateLimiter::new().without_default_limit()),
        )
        .unwrap()
}

async fn status(
    app: &SecureApp,
    method: &str,
    path: &str,
    credential: (&str, String),
) -> StatusCode {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(credential.0, credential.1)
        .body(Body::empty())
        .unwrap();
    app.clone().oneshot(request).await.unwrap().status()
}

#[tokio::test]
async fn a_scoped_credential_reaches_only_routes_declaring_its_scopes() {
    let app = app();
    let key = |scopes: &str| (header::COOKIE.as_str(), format!("key={scopes}"));
    for (scopes, method, path, want) in [
        ("notes:read", "GET", "/notes", StatusCode::OK),
        ("notes:read", "POST", "/notes", StatusCode::FORBIDDEN),
        ("notes:write", "POST", "/notes", StatusCode::OK),
        ("notes:write", "GET", "/notes", StatusCode::OK),
        // No scopes declared: no scoped credential, whatever it holds.
        (
            "notes:read,notes:write",
            "GET",
            "/account",
            StatusCode::FORBIDDEN,
        ),
        ("", "GET", "/notes", StatusCode::FORBIDDEN),
        // Scopes do not stand in for roles.
        ("notes:read", "GET", "/admin/notes", StatusCode::FORBIDDEN),
    ] {
        assert_eq!(
            status(&app, method, path, key(scopes)).await,
            want,
            "{scopes} {method} {path}"
        );
    }
    // A user's own token carries no scopes: its roles decide.
    let bearer = |roles: &[&str]| {
        let token = tokens()
            .issue(&Identity::new("user-1", 0).with_roles(roles.iter().copied()))
            .unwrap();
        (header::AUTHORIZATION.as_str(), format!("Bearer {token}"))
    };
    assert_eq!(
        status(&app, "GET", "/account", bearer(&["member"])).await,
        StatusCode::OK
    );
    assert_eq!(
        status(&app, "POST", "/notes", bearer(&["member"])).await,
        StatusCode::OK
    );
    assert_eq!(
        status(&app, "GET", "/admin/notes", bearer(&["member"])).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(&app, "GET", "/admin/notes", bearer(&["admin"])).await,
        StatusCode::OK
    );
}

#[test]
fn the_policy_table_shows_the_scopes() {
    let table = SecureRouter::<()>::new()
        .route("/notes", get(read_notes))
        .policies()
        .to_string();
    assert!(
        table.contains("auth scopes(notes:read, notes:write)"),
        "{table}"
    );
}
