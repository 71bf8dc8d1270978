//! [`SecureRouter`]: axum's router, accepting only handlers that declared their access.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter};

use super::route::RoutePolicy;
use super::table::{PolicyTable, RouteEntry};

/// The `T` of `axum::handler::Handler<T, S>` for handlers made by `#[secure_handler]`.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct SecureHandlerMarker;

/// A handler made by `#[secure_handler(...)]`: it declares who may call it.
///
/// Only the macro implements this; [`SecureRouter`] and the functions of
/// [`routing`](crate::routing) accept nothing else, so a route without a declared policy does
/// not compile.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a secure handler: it does not declare who may call it",
    label = "declare its access with #[secure_handler(...)]",
    note = "annotate the handler with `#[secure_handler(public)]` or `#[secure_handler(auth, roles(..))]`; SecureRouter routes nothing else"
)]
pub trait SecureHandler<S>: Handler<SecureHandlerMarker, S> {
    /// What the handler declared.
    fn policy(&self) -> RoutePolicy;
}

/// Handlers for the methods of one path, each with its policy.
#[derive(Debug)]
pub struct SecureMethodRouter<S = ()> {
    inner: MethodRouter<S>,
    policies: Vec<(Method, RoutePolicy)>,
}

fn filter_of(method: &Method) -> MethodFilter {
    match *method {
        Method::POST => MethodFilter::POST,
        Method::PUT => MethodFilter::PUT,
        Method::PATCH => MethodFilter::PATCH,
        Method::DELETE => MethodFilter::DELETE,
        _ => MethodFilter::GET,
    }
}

impl<S: Clone + Send + Sync + 'static> SecureMethodRouter<S> {
    fn new() -> Self {
        SecureMethodRouter {
            inner: MethodRouter::new(),
            policies: Vec::new(),
        }
    }

    fn on<H: SecureHandler<S>>(mut self, method: Method, handler: H) -> Self {
        let policy = handler.policy();
        self.inner = match policy.body_limit {
            Some(limit) => {
                let limit = usize::try_from(limit).unwrap_or(usize::MAX);
                self.inner.on(
                    filter_of(&method),
                    handler.layer(DefaultBodyLimit::max(limit)),
                )
            }
            None => self.inner.on(filter_of(&method), handler),
        };
        self.policies.push((method, policy));
        self
    }

    /// Adds a `GET` handler (which also answers `HEAD`).
    pub fn get<H: SecureHandler<S>>(self, handler: H) -> Self {
        self.on(Method::GET, handler)
    }

    /// Adds a `POST` handler.
    pub fn post<H: SecureHandler<S>>(self, handler: H) -> Self {
        self.on(Method::POST, handler)
    }

    /// Adds a `PUT` handler.
    pub fn put<H: SecureHandler<S>>(self, handler: H) -> Self {
        self.on(Method::PUT, handler)
    }

    /// Adds a `PATCH` handler.
    pub fn patch<H: SecureHandler<S>>(self, handler: H) -> Self {
        self.on(Method::PATCH, handler)
    }

    /// Adds a `DELETE` handler.
    pub fn delete<H: SecureHandler<S>>(self, handler: H) -> Self {
        self.on(Method::DELETE, handler)
    }
}

/// Routing functions that accept only `#[secure_handler]` handlers: `get(list_notes)` reads as
/// in axum, and a handler without a declared policy is a compile error.
pub mod routing {
    use super::{SecureHandler, SecureMethodRouter};

    /// Routes `GET` (and `HEAD`) to a secure handler.
    pub fn get<H, S>(handler: H) -> SecureMethodRouter<S>
    where
        H: SecureHandler<S>,
        S: Clone + Send + Sync + 'static,
    {
        SecureMethodRouter::new().get(handler)
    }

    /// Routes `POST` to a secure handler.
    pub fn post<H, S>(handler: H) -> SecureMethodRouter<S>
    where
        H: SecureHandler<S>,
        S: Clone + Send + Sync + 'static,
    {
        SecureMethodRouter::new().post(handler)
    }

    /// Routes `PUT` to a secure handler.
    pub fn put<H, S>(handler: H) -> SecureMethodRouter<S>
    where
        H: SecureHandler<S>,
        S: Clone + Send + Sync + 'static,
    {
        SecureMethodRouter::new().put(handler)
    }

    /// Routes `PATCH` to a secure handler.
    pub fn patch<H, S>(handler: H) -> SecureMethodRouter<S>
    where
        H: SecureHandler<S>,
        S: Clone + Send + Sync + 'static,
    {
        SecureMethodRouter::new().patch(handler)
    }

    /// Routes `DELETE` to a secure handler.
    pub fn delete<H, S>(handler: H) -> SecureMethodRouter<S>
    where
        H: SecureHandler<S>,
        S: Clone + Send + Sync + 'static,
    {
        SecureMethodRouter::new().delete(handler)
    }
}

/// axum's [`Router`], holding only routes whose handlers declared their access, and the
/// table of those declarations.
///
/// Build it like an axum router with the functions of [`routing`], print [`policies`] for
/// reviewers, and turn it into an axum router with the security stack using
/// [`SecureRouter::into_router`].
///
/// [`policies`]: SecureRouter::policies
#[derive(Debug)]
pub struct SecureRouter<S = ()> {
    pub(crate) inner: Router<S>,
    pub(crate) routes: Vec<RouteEntry>,
}

impl<S: Clone + Send + Sync + 'static> Default for SecureRouter<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Clone + Send + Sync + 'static> SecureRouter<S> {
    /// An empty router.
    pub fn new() -> Self {
        SecureRouter {
            inner: Router::new(),
            routes: Vec::new(),
        }
    }

    /// Routes `path` (axum syntax: `/notes/{id}`) to the handlers of `methods`.
    ///
    /// # Panics
    /// As axum does, when `path` is malformed or already routed: a programming error found
    /// at start-up.
    pub fn route(mut self, path: &str, methods: SecureMethodRouter<S>) -> Self {
        for (method, policy) in methods.policies {
            self.routes.push(RouteEntry {
                method: method.to_string(),
                path: path.to_owned(),
                policy,
            });
        }
        self.inner = self.inner.route(path, methods.inner);
        self
    }

    /// Mounts every route of `other` under `prefix`.
    pub fn nest(mut self, prefix: &str, other: SecureRouter<S>) -> Self {
        let prefix = prefix.trim_end_matches('/');
        for mut entry in other.routes {
            entry.path = format!("{prefix}{}", entry.path);
            self.routes.push(entry);
        }
        self.inner = self.inner.nest(prefix, other.inner);
        self
    }

    /// Adds every route of `other`.
    pub fn merge(mut self, other: SecureRouter<S>) -> Self {
        self.routes.extend(other.routes);
        self.inner = self.inner.merge(other.inner);
        self
    }

    /// Provides the state, as axum's `Router::with_state`.
    pub fn with_state<S2>(self, state: S) -> SecureRouter<S2> {
        SecureRouter {
            inner: self.inner.with_state(state),
            routes: self.routes,
        }
    }

    /// Every method, path and policy, sorted by path: print it at start-up, or serialise it.
    pub fn policies(&self) -> PolicyTable {
        PolicyTable::new(self.routes.clone())
    }
}

impl SecureRouter<()> {
    /// The axum router with the security stack around every route: security headers on every
    /// response, request ids and audit context, problem+json for every error (a generic body
    /// for 5xx), panics caught as a generic 500, CORS when configured, the default body limit,
    /// the authenticator and the rate limiter.
    ///
    /// Outermost first: security headers, panic catcher, CORS guard, CORS, request context,
    /// request timeout, handler panic catcher, authenticator, rate limiter, body and JSON
    /// depth limits, routes. Headers sit
    /// outside everything so every answer gets them, caught panics included. CORS sits outside
    /// the request context, whose 5xx rewrite would drop its headers (a browser would then
    /// report a network error instead of the problem), and outside authentication (browsers
    /// send no credentials with a preflight); preflights therefore carry no request id.
    pub fn into_router(self, config: crate::config::SecurityConfig) -> Router {
        use std::sync::Arc;

        let mut router = self
            .inner
            .fallback(|| async { axum::http::StatusCode::NOT_FOUND })
            .layer(DefaultBodyLimit::max(config.body_limit))
            .layer(axum::Extension(crate::extract::JsonDepthLimit(
                config.json_max_depth,
            )))
            // The default per-client-IP limit of every route; inside the limiter's extension.
            .layer(axum::middleware::from_fn(
                crate::ratelimit::enforce_default_limit,
            ))
            .layer(axum::Extension(Arc::new(config.rate_limiter)));
        if let Some(authenticator) = config.authenticator {
            router = router.layer(authenticator.layer());
        }
        // Handler panics are caught here, inside the request context and CORS, so their 500
        // carries the request id and, for an allowed origin, the CORS headers (else the
        // browser reports a network error). The outer catcher guards the middlewares.
        router = router.layer(tower_http::catch_panic::CatchPanicLayer::custom(
            crate::http::context::panic_response,
        ));
        // Inside the request context, so a 408 carries the request id.
        if let Some(limit) = config.request_timeout {
            router = router.layer(axum::middleware::from_fn_with_state(
                limit,
                crate::http::timeout::middleware,
            ));
        }
        router = router.layer(axum::middleware::from_fn(crate::http::context::middleware));
        if let Some(cors) = config.cors {
            let layer = cors.layer();
            router = router
                .layer(layer)
                .layer(axum::middleware::from_fn_with_state(
                    Arc::new(cors),
                    crate::http::cors::guard,
                ));
        }
        router
            .layer(tower_http::catch_panic::CatchPanicLayer::custom(
                crate::http::context::panic_response,
            ))
            .layer(axum::middleware::from_fn_with_state(
                Arc::new(config.headers),
                crate::http::headers::middleware,
            ))
    }
}
