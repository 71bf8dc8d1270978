//! Assembly: a [`SecureRouter`] and a [`SecurityConfig`] become a [`SecureApp`], the service a
//! server runs. It is sealed (it takes no more routes, so nothing is served outside the
//! stack), and assembling it checks the wiring: a route that needs something the
//! configuration lacks stops start-up with an [`AssemblyError`] that names the routes and the
//! fix, instead of answering 500 at run time.
//!
//! The stack, outermost first (each a tower layer; OWASP ASVS 14.4, 7.4.1, 4.1.1, 11.1.4):
//!
//! | # | layer | what it does |
//! | --- | --- | --- |
//! | 1 | security headers | on every response, caught panics included |
//! | 2 | panic catcher | a panic in a layer becomes a generic 500 |
//! | 3 | CORS guard, CORS | when configured: preflights answered, unknown origins refused |
//! | 4 | request context | request id, the audit fields, problem+json for every error |
//! | 5 | request timeout | 408 after the configured time |
//! | 6 | handler panic catcher | a panic in a handler becomes a 500 with the request id |
//! | 7 | default rate limit | per client address, on every route |
//! | 8 | body and JSON depth limits | 413 / 400 before any parsing |
//! | 9 | your layers | [`SecureRouter::layer`], around the routes |
//! | 10 | the route's policy | authenticate, authorise (roles, MFA, `fresh`), route limit |
//! | 11 | the handler's adapter | extract and validate, run, audit |

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Request;
use axum::response::Response;

use axum::body::{Body, Bytes};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;

use crate::config::SecurityConfig;
use crate::http::connection::ConnectionLimits;
use crate::http::context::RequestContextLayer;
use crate::http::headers::SecurityHeadersLayer;
use crate::http::timeout::RequestTimeoutLayer;
use crate::policy::route::Access;
use crate::policy::router::Stack;
use crate::policy::{PolicyTable, SecureRouter};
use crate::ratelimit::RateLimiter;

/// The assembled service: every route behind the whole stack. Serve it with
/// [`serve`](crate::serve::serve), which gives the stack client addresses and applies the
/// connection limits, or call it as a tower `Service` (`oneshot` in tests). It cannot take
/// more routes. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SecureApp {
    pub(crate) router: Router,
    table: Arc<PolicyTable>,
    connections: ConnectionLimits,
    limiter: Arc<RateLimiter>,
}

impl SecureApp {
    /// The routes and their policies (as [`SecureRouter::policies`] printed them).
    pub fn policies(&self) -> &PolicyTable {
        &self.table
    }

    /// The connection limits [`serve`](crate::serve::serve) applies to this app.
    pub fn connection_limits(&self) -> ConnectionLimits {
        self.connections
    }

    /// The address a connection from `peer` counts under for the per-address cap (the
    /// rate limiter's grouping), or `None` for a trusted proxy.
    pub(crate) fn connection_key(&self, peer: std::net::IpAddr) -> Option<std::net::IpAddr> {
        self.limiter.connection_key(peer)
    }
}

impl<B> tower::Service<Request<B>> for SecureApp
where
    B: axum::body::HttpBody<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = <Router as tower::Service<Request<B>>>::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        <Router as tower::Service<Request<B>>>::poll_ready(&mut self.router, cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        self.router.call(request)
    }
}

/// Why an app could not be assembled: each names the routes at fault and the fix, in
/// `Debug` as in `Display` (what `main` prints when it returns the error).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AssemblyError {
    /// `auth` routes, and no authenticator in the configuration.
    NoAuthenticator {
        /// `GET /notes`, ...
        routes: Vec<String>,
    },
    /// An unprotected route whose reason says nothing.
    UnprotectedWithoutReason {
        /// `POST /webhook`
        route: String,
    },
    /// A handler whose own SQL reads or changes the table of a resource other routes load
    /// through `Authorized<..>`: a query that may skip the object check.
    UncheckedObjectQuery {
        /// `GET /leaky/{id}`
        route: String,
        /// `notes`
        table: String,
    },
}

impl fmt::Display for AssemblyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AssemblyError::NoAuthenticator { routes } => write!(
                f,
                "{} need an authenticator and the configuration has none: add one with \
                 `SecurityConfig::authenticator(Authenticator::new(tokens))` (access tokens \
                 from `AccessTokens::builder(keys.access_token_key(), issuer, audience)`)",
                routes.join(", ")
            ),
            AssemblyError::UnprotectedWithoutReason { route } => write!(
                f,
                "{route} is unprotected without a reason: write why it is safe (10 characters \
                 or more), such as \"HMAC-signed webhook, verified before parsing\""
            ),
            AssemblyError::UncheckedObjectQuery { route, table } => write!(
                f,
                "{route} reads or changes `{table}` with its own SQL, outside the object check: \
                 take `Authorized<..>` or `AuthorizedList<..>` (the resource's scoped queries), or, \
                 when the query is not one caller's rows on purpose (a count, a report), declare it \
                 with `reads({table}, reason = \"...\")` so the policy table says why"
            ),
        }
    }
}

impl std::error::Error for AssemblyError {}

crate::error::debug_as_display!(AssemblyError);

impl SecureRouter<()> {
    /// The app: these routes behind the security stack of `config` (the table in the
    /// [module docs](crate::app)). Refused, with the routes and the fix, when a route needs
    /// what `config` lacks: `auth` routes without an authenticator, an unprotected route
    /// without a reason.
    pub fn into_app(self, config: SecurityConfig) -> Result<SecureApp, AssemblyError> {
        check(&self, &config)?;
        let table = Arc::new(self.policies());
        let limiter = config.rate_limiter;
        let authenticator = config.authenticator.map(Arc::new);
        self.assemble(&Arc::new(Stack {
            authenticator,
            limiter: Arc::clone(&limiter),
        }));
        // One tower stack, applied to the routes once. axum boxes a route again for every
        // `Router::layer` call, and each middleware clones the service below it per request:
        // eleven separate layers cost about a hundred allocations a request, one stack a few.
        let cors = config.cors.map(|cors| (cors.layer(), Arc::new(cors)));
        let stack = ServiceBuilder::new()
            .layer(SecurityHeadersLayer::new(config.headers))
            .layer(CatchPanicLayer::custom(
                crate::http::context::panic_response,
            ))
            .map_response(one_body)
            // CORS sits outside the request context, whose 5xx rewrite would drop its headers
            // (a browser would then report a network error instead of the problem), and
            // outside authentication (browsers send no credentials with a preflight).
            .option_layer(cors.as_ref().map(|(_, guard)| {
                axum::middleware::from_fn_with_state(Arc::clone(guard), crate::http::cors::guard)
            }))
            .option_layer(cors.map(|(layer, _)| layer))
            .layer(RequestContextLayer::new(Arc::clone(&limiter)))
            // Inside the request context, so a 408 carries the request id.
            .option_layer(config.request_timeout.map(RequestTimeoutLayer::new))
            .map_response(one_body)
            // Handler panics are caught here, inside the request context and CORS, so their
            // 500 carries the request id and, for an allowed origin, the CORS headers (else the
            // browser reports a network error). The outer catcher guards the middlewares.
            .layer(CatchPanicLayer::custom(
                crate::http::context::panic_response,
            ))
            // The default per-client-IP limit of every route.
            .layer(crate::ratelimit::DefaultLimitLayer::new(Arc::clone(
                &limiter,
            )))
            .layer(axum::Extension(crate::extract::JsonDepthLimit(
                config.json_max_depth,
            )))
            .layer(DefaultBodyLimit::max(config.body_limit));
        let router = self
            .inner
            .fallback(|| async { axum::http::StatusCode::NOT_FOUND })
            .layer(stack);
        Ok(SecureApp {
            router,
            table,
            connections: config.connections,
            limiter,
        })
    }
}

/// A response with axum's body type, whatever body the layer below made (the panic catcher
/// boxes its own): every optional layer of the stack then wraps services of one type.
fn one_body<B>(response: axum::http::Response<B>) -> Response
where
    B: axum::body::HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    response.map(Body::new)
}

/// The first of `tables` that `sql` reads or changes (`FROM t`, `JOIN t`, `UPDATE t`); an
/// `INSERT INTO t` alone creates a row and is not a read.
fn touched_table<'t>(sql: &str, tables: &[&'t str]) -> Option<&'t str> {
    let words: Vec<String> = sql
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    words.windows(2).find_map(|pair| {
        let reads = matches!(pair[0].as_str(), "from" | "join" | "update");
        reads
            .then(|| {
                tables
                    .iter()
                    .find(|t| t.eq_ignore_ascii_case(&pair[1]))
                    .copied()
            })
            .flatten()
    })
}

/// The wiring checks of [`SecureRouter::into_app`].
fn check(router: &SecureRouter, config: &SecurityConfig) -> Result<(), AssemblyError> {
    let row = |e: &crate::policy::RouteEntry| format!("{} {}", e.method, e.path);
    if config.authenticator.is_none() {
        let routes: Vec<String> = router
            .routes
            .iter()
            .filter(|(e, _)| matches!(e.policy.access, Access::Auth { .. }))
            .map(|(e, _)| row(e))
            .collect();
        if !routes.is_empty() {
            return Err(AssemblyError::NoAuthenticator { routes });
        }
    }
    let tables: Vec<&str> = router
        .routes
        .iter()
        .flat_map(|(e, _)| e.policy.objects.iter().map(|o| o.table))
        .collect();
    for (entry, _) in &router.routes {
        // A route that declares raw input says why in the table; its SQL is the reviewer's.
        if !entry.policy.unvalidated.is_empty() {
            continue;
        }
        // Tables the route declared it reads (`reads(..)`), with a reason in the table.
        let undeclared: Vec<&str> = tables
            .iter()
            .copied()
            .filter(|t| {
                !entry
                    .policy
                    .reads
                    .iter()
                    .any(|r| r.table.eq_ignore_ascii_case(t))
            })
            .collect();
        if let Some(table) = entry
            .policy
            .sql
            .iter()
            .find_map(|sql| touched_table(sql, &undeclared))
        {
            return Err(AssemblyError::UncheckedObjectQuery {
                route: row(entry),
                table: table.to_owned(),
            });
        }
    }
    for (entry, _) in &router.routes {
        if let Access::Unprotected { reason } = entry.policy.access
            && reason.trim().chars().count() < 10
        {
            return Err(AssemblyError::UnprotectedWithoutReason { route: row(entry) });
        }
    }
    Ok(())
}
