//! [`SecureApp`]: the routes sealed behind the security stack.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Request;
use axum::response::Response;

use tower::ServiceBuilder;

use super::PolicyTable;
use crate::config::SecurityConfig;
use crate::http::client::ClientAddresses;
use crate::http::connection::ConnectionLimits;
use crate::http::context::RequestContextLayer;
use crate::http::headers::SecurityHeadersLayer;
use crate::http::panic::CatchPanicLayer;
use crate::http::timeout::RequestTimeoutLayer;

/// The assembled service: a [`SecureRouter`]'s routes behind the security stack of a
/// [`SecurityConfig`] ([`SecureRouter::into_app`]). Serve it with
/// [`serve`](crate::serve::serve), which gives the stack client addresses and applies the
/// connection limits, or call it as a tower `Service` (`oneshot` in tests). It is sealed: it
/// takes no more routes, so nothing is served outside the stack. Assembling it checks the
/// wiring: a route that needs something the configuration lacks stops start-up with an
/// [`AssemblyError`] that names the routes and the fix, instead of answering 500 at run time.
/// Cheap to clone.
///
/// The stack, outermost first (each a tower layer; OWASP ASVS 14.4, 7.4.1, 4.1.1, 11.1.4):
///
/// | # | layer | what it does |
/// | --- | --- | --- |
/// | 1 | security headers | on every response, caught panics included |
/// | 2 | panic catcher | a panic in a layer becomes a generic 500 |
/// | 3 | CORS guard, CORS | when configured: preflights answered, unknown origins refused |
/// | 4 | request context | request id, the client address, the audit fields, problem+json for every error |
/// | 5 | request timeout | 408 after the configured time |
/// | 6 | handler panic catcher | a panic in a handler becomes a 500 with the request id |
/// | 7 | default rate limit | per client address, on every route |
/// | 8 | body and JSON depth limits | 413 / 400 before any parsing |
/// | 9 | your layers | [`SecureRouter::layer`], around the routes |
/// | 10 | the route's policy | authenticate, authorise (roles, MFA, `fresh`), route limit |
/// | 11 | the handler's adapter | extract and validate, run, audit |
///
/// [`SecureRouter`]: super::SecureRouter
/// [`SecureRouter::into_app`]: super::SecureRouter::into_app
/// [`SecureRouter::layer`]: super::SecureRouter::layer
/// [`AssemblyError`]: crate::error::AssemblyError
#[derive(Debug, Clone)]
pub struct SecureApp {
    pub(crate) router: Router,
    table: Arc<PolicyTable>,
    connections: ConnectionLimits,
    clients: Arc<ClientAddresses>,
}

impl SecureApp {
    /// The routes and their policies (as [`SecureRouter::policies`](super::SecureRouter::policies) printed them).
    pub fn policies(&self) -> &PolicyTable {
        &self.table
    }

    /// The connection limits [`serve`](crate::serve::serve) applies to this app.
    pub fn connection_limits(&self) -> ConnectionLimits {
        self.connections
    }

    /// The address a connection from `peer` counts under for the per-address cap (grouped
    /// as the rate limits group it), or `None` for a trusted proxy.
    pub(crate) fn connection_key(&self, peer: std::net::IpAddr) -> Option<std::net::IpAddr> {
        self.clients.connection_key(peer)
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

impl SecureApp {
    /// Seals `routes` (each already handed its policy's stack) behind the security stack of
    /// `config`: what [`SecureRouter::into_app`] ends
    /// with.
    pub(crate) fn seal(
        routes: Router,
        table: Arc<PolicyTable>,
        config: SecurityConfig,
    ) -> SecureApp {
        let limiter = config.rate_limiter;
        // One tower stack, applied to the routes once. axum boxes a route again for every
        // `Router::layer` call, and each middleware clones the service below it per request:
        // eleven separate layers cost about a hundred allocations a request, one stack a few.
        let cors = config.cors.map(|cors| (cors.layer(), Arc::new(cors)));
        let stack = ServiceBuilder::new()
            .layer(SecurityHeadersLayer::new(config.headers))
            .layer(CatchPanicLayer)
            // CORS sits outside the request context, whose 5xx rewrite would drop its headers
            // (a browser would then report a network error instead of the problem), and
            // outside authentication (browsers send no credentials with a preflight).
            .option_layer(cors.as_ref().map(|(_, guard)| {
                axum::middleware::from_fn_with_state(Arc::clone(guard), crate::http::cors::guard)
            }))
            .option_layer(cors.map(|(layer, _)| layer))
            .layer(RequestContextLayer::new(Arc::clone(&config.clients)))
            // Inside the request context, so a 408 carries the request id.
            .option_layer(config.request_timeout.map(RequestTimeoutLayer::new))
            // Handler panics are caught here, inside the request context and CORS, so their
            // 500 carries the request id and, for an allowed origin, the CORS headers (else the
            // browser reports a network error). The outer catcher guards the middlewares.
            .layer(CatchPanicLayer)
            // The default per-client-IP limit of every route.
            .layer(crate::ratelimit::DefaultLimitLayer::new(Arc::clone(
                &limiter,
            )))
            .layer(axum::Extension(crate::extract::JsonDepthLimit(
                config.json_max_depth,
            )))
            .layer(DefaultBodyLimit::max(config.body_limit));
        let router = routes
            .fallback(|| async { axum::http::StatusCode::NOT_FOUND })
            .layer(stack);
        SecureApp {
            router,
            table,
            connections: config.connections,
            clients: config.clients,
        }
    }
}
