//! The handler fixture shared by the criterion bench (`handler.rs`) and the instruction
//! counts (`instructions.rs`): one app with the secure routes and their hand-written twins.

pub(crate) use crate::oneshot::send;

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use secure_core::auth::jwt::{AccessTokenKey, AccessTokens};
use secure_core::auth::{Amr, Authenticator, Identity, Principal, Role};
use secure_core::config::SecurityConfig;
use secure_core::policy::SecureApp;
use secure_core::policy::SecureRouter;
use secure_core::prelude::*;
use secure_core::ratelimit::RateLimiter;
use secure_core::{SecretBox, secure_handler};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
pub(crate) enum AppRole {
    Admin,
    Member,
}

#[derive(Debug, Deserialize, Validated)]
pub(crate) struct NewNote {
    #[validate(trim, length(min = 1, max = 80))]
    title: String,
    #[validate(length(max = 2000))]
    body: String,
    #[validate(range(min = 0, max = 5))]
    priority: u8,
}

#[derive(Serialize)]
struct Created<'a> {
    author: &'a str,
    title: &'a str,
    priority: u8,
}

/// The answer of every path: 201 and the same JSON.
fn created(author: &str, note: &NewNote) -> Response {
    (
        StatusCode::CREATED,
        Json(Created {
            author,
            title: &note.title,
            priority: note.priority,
        }),
    )
        .into_response()
}

#[secure_handler(auth, roles(Admin))]
async fn create(user: Principal<AppRole>, body: Valid<Json<NewNote>>) -> Response {
    created(user.subject(), &body)
}

/// What a careful hand-written axum handler does: verifies the bearer token itself with the
/// same verifier, checks the role, validates the body with the same extractor.
async fn manual(
    tokens: &AccessTokens,
    headers: &axum::http::HeaderMap,
    body: Valid<Json<NewNote>>,
) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(claims) = bearer.and_then(|token| tokens.verify(token).ok()) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    if !claims.roles.iter().any(|r| r == AppRole::Admin.as_str()) {
        return StatusCode::FORBIDDEN.into_response();
    }
    created(&claims.sub, &body)
}

#[secure_handler(public)]
async fn public_secure(body: Valid<Json<NewNote>>) -> Response {
    created("anonymous", &body)
}

async fn public_plain(body: Valid<Json<NewNote>>) -> Response {
    created("anonymous", &body)
}

pub(crate) const BODY: &str = r#"{"title":"  Quarterly report  ","body":"Numbers are up; see the attached sheet for the details.","priority":3}"#;

/// The four paths, in bench order.
pub(crate) const PATHS: [(&str, &str, &str); 4] = [
    ("auth", "secure", "/secure"),
    ("auth", "manual", "/manual"),
    ("public", "secure", "/public/secure"),
    ("public", "plain", "/public/plain"),
];

pub(crate) struct Fixture {
    pub(crate) router: SecureApp,
    pub(crate) admin: HeaderValue,
    pub(crate) member: HeaderValue,
    json: HeaderValue,
}

pub(crate) fn fixture() -> Fixture {
    let secret: [u8; 32] = rand::random();
    let tokens = AccessTokens::builder(
        AccessTokenKey::hs256(SecretBox::from(secret.to_vec())).expect("key"),
        "https://auth.example",
        "notes-api",
    )
    .build()
    .expect("config");
    let bearer = |roles: &[&str]| {
        let identity = Identity::new("user-1234567", 1_700_000_000)
            .with_roles(roles.iter().copied())
            .with_amr([Amr::Pwd]);
        let token = tokens.issue(&identity).expect("token");
        HeaderValue::from_str(&format!("Bearer {token}")).expect("header")
    };
    let (admin, member) = (bearer(&["admin", "member"]), bearer(&["member"]));
    // One app, one stack, for both kinds: the hand-written handlers are unprotected rows, so
    // only what the declared policy adds (or saves) differs between the pairs.
    let verifier = tokens.clone();
    let manual = move |headers: axum::http::HeaderMap, body: Valid<Json<NewNote>>| {
        let tokens = verifier.clone();
        async move { manual(&tokens, &headers, body).await }
    };
    let config = SecurityConfig::new()
        .authenticator(Authenticator::new(tokens))
        .rate_limiter(RateLimiter::new().without_default_limit());
    let router = SecureRouter::new()
        .route("/secure", secure_core::routing::post(create))
        .unprotected(
            Method::POST,
            "/manual",
            manual,
            "the hand-written baseline of the benchmark",
        )
        .route("/public/secure", secure_core::routing::post(public_secure))
        .unprotected(
            Method::POST,
            "/public/plain",
            public_plain,
            "the hand-written baseline of the benchmark",
        )
        .into_app(config)
        .expect("the app assembles");
    Fixture {
        router,
        admin,
        member,
        json: HeaderValue::from_static("application/json"),
    }
}

pub(crate) fn request(f: &Fixture, path: &str, bearer: &HeaderValue) -> Request<Body> {
    Request::post(path)
        .header(header::AUTHORIZATION, bearer.clone())
        .header(header::CONTENT_TYPE, f.json.clone())
        .body(Body::from(BODY))
        .expect("request")
}
