//! A signup service whose handlers only ever see validated input.
//!
//! `cargo run -p signup-example`, then try the curl commands it prints. Listens on
//! 127.0.0.1:3000; set `SIGNUP_ADDR` (such as `0.0.0.0:8080`) to change that.
#![forbid(unsafe_code)]

use std::net::SocketAddr;

use secure_core::config::SecurityConfig;
use secure_core::policy::SecureRouter;
use secure_core::prelude::*;
use secure_core::routing::{get, post};
use secure_core::secure_handler;
use serde::{Deserialize, Serialize};

/// A signup request. Unknown keys (`"is_admin": true`) are rejected with 422 `unknown_field`.
#[derive(Debug, Deserialize, Validated)]
struct Signup {
    #[validate(trim, lowercase, length(min = 3, max = 32), pattern = "[a-z0-9_]+")]
    username: String,
    #[validate(trim, email)]
    email: String,
    #[validate(range(min = 13, max = 130))]
    age: u8,
    #[validate(one_of("free", "pro"))]
    plan: String,
    #[serde(default)]
    #[validate(length(max = 10), each(trim, length(min = 1, max = 20)))]
    interests: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Welcome {
    username: String,
    plan: String,
    interests: Vec<String>,
}

/// `POST /signup`: the body was parsed, sanitised (trimmed, lowercased) and validated before
/// this runs; a bad one never gets here. Ten signups per hour per client IP.
#[secure_handler(public, rate_limit("10/hour", key = ip), audit = "user.signup")]
async fn signup(body: Valid<Json<Signup>>) -> Json<Welcome> {
    let Signup {
        username,
        email: _,
        age: _,
        plan,
        interests,
    } = body.into_value();
    Json(Welcome {
        username,
        plan,
        interests,
    })
}

/// `GET /search?q=...&limit=...`.
#[derive(Debug, Deserialize, Validated)]
struct Search {
    #[validate(trim, length(min = 1, max = 64), no_control)]
    q: String,
    #[serde(default = "default_limit")]
    #[validate(range(min = 1, max = 50))]
    limit: u16,
}

fn default_limit() -> u16 {
    10
}

#[secure_handler(public, rate_limit("60/min", key = ip))]
async fn search(query: Valid<Query<Search>>) -> String {
    format!(
        "searching for {:?}, first {} results\n",
        query.q, query.limit
    )
}

fn routes() -> SecureRouter {
    SecureRouter::new()
        .route("/signup", post(signup))
        .route("/search", get(search))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    secure_core::serve::init_logging();
    let addr: SocketAddr = match std::env::var("SIGNUP_ADDR") {
        Ok(addr) => addr.parse().map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "SIGNUP_ADDR must be an address such as 127.0.0.1:3000",
            )
        })?,
        Err(_) => SocketAddr::from(([127, 0, 0, 1], 3000)),
    };
    let routes = routes();
    println!("{}", routes.policies());
    let app = routes
        .into_app(SecurityConfig::new())
        .map_err(std::io::Error::other)?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let base = format!("http://{}", listener.local_addr()?);
    println!(
        r#"signup example listening on {base}

  # 200: trimmed and lowercased before the handler sees it
  curl -i {base}/signup -H 'content-type: application/json' \
    -d '{{"username":"  Ada_L ","email":"ada@example.com","age":36,"plan":"pro","interests":[" math "]}}'

  # 422: every failed rule, with field, code and params (never the value)
  curl -i {base}/signup -H 'content-type: application/json' \
    -d '{{"username":"A!","email":"nope","age":7,"plan":"gold","interests":[""]}}'

  # 422 unknown_field: mass assignment is refused
  curl -i {base}/signup -H 'content-type: application/json' \
    -d '{{"username":"ada","email":"ada@example.com","age":36,"plan":"pro","is_admin":true}}'

  # 400 malformed JSON, 415 wrong content type
  curl -i {base}/signup -H 'content-type: application/json' -d '{{"username":'
  curl -i {base}/signup -d 'username=ada'

  # query strings too
  curl -i '{base}/search?q=rust&limit=5'
  curl -i '{base}/search?q=rust&limit=500'
"#
    );
    // With peer addresses (what `key = ip` limits count), until SIGTERM or Ctrl-C.
    secure_core::serve::serve(listener, app).await
}
