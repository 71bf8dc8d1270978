//! [`SecureRouter`]: axum's router, accepting only handlers that declared their access.

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter};

use super::app::SecureApp;
use super::assembly;
use super::handler::SecureHandler;
pub(crate) use super::pipeline::Stack;
use super::pipeline::{self, RouteRuntime};
use super::route::RoutePolicy;
use super::table::{PolicyTable, RouteEntry};
use crate::config::SecurityConfig;
use crate::error::AssemblyError;

/// The `T` of `axum::handler::Handler<T, S>` in the seal the macro puts on every handler.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct SecureHandlerMarker;

/// Handlers for the methods of one path, each with its policy.
#[derive(Debug)]
pub struct SecureMethodRouter<S = ()> {
    routes: Vec<PendingRoute<S>>,
}

/// A handler waiting for its path: made into an axum handler once the route is added.
struct PendingRoute<S> {
    method: Method,
    policy: RoutePolicy,
    make: Box<dyn FnOnce(Arc<RouteRuntime>) -> MethodRouter<S> + Send>,
}

impl<S> std::fmt::Debug for PendingRoute<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingRoute")
            .field("method", &self.method)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
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

/// A `#[secure_handler]` as axum sees it once routed: every request goes through
/// [`pipeline::serve`]. A type rather than a closure taking `State` and `Request`, whose
/// future would hold the request and the pipeline's future side by side.
struct Adapter<H> {
    handler: H,
    route: Arc<RouteRuntime>,
}

impl<H: Clone> Clone for Adapter<H> {
    fn clone(&self) -> Self {
        Adapter {
            handler: self.handler.clone(),
            route: Arc::clone(&self.route),
        }
    }
}

/// The marker of [`Adapter`]'s `Handler` impl.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Adapted;

impl<H, S> axum::handler::Handler<Adapted, S> for Adapter<H>
where
    H: SecureHandler<S>,
    S: Clone + Send + Sync + 'static,
{
    type Future = std::pin::Pin<Box<dyn Future<Output = axum::response::Response> + Send>>;

    fn call(self, request: Request, state: S) -> Self::Future {
        Box::pin(pipeline::serve(self.handler, self.route, request, state))
    }
}

impl<S: Clone + Send + Sync + 'static> SecureMethodRouter<S> {
    fn new() -> Self {
        SecureMethodRouter { routes: Vec::new() }
    }

    fn on<H: SecureHandler<S>>(mut self, method: Method, handler: H) -> Self {
        let policy = handler.policy();
        let filter = filter_of(&method);
        let body_limit = policy.body_limit;
        let make = move |route: Arc<RouteRuntime>| {
            // The adapter between axum and the stack: the only way the handler runs.
            let serve = Adapter { handler, route };
            match body_limit {
                Some(limit) => {
                    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
                    MethodRouter::new().on(filter, serve.layer(DefaultBodyLimit::max(limit)))
                }
                None => MethodRouter::new().on(filter, serve),
            }
        };
        self.routes.push(PendingRoute {
            method,
            policy,
            make: Box::new(make),
        });
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
/// [`SecureRouter::into_app`].
///
/// [`policies`]: SecureRouter::policies
#[derive(Debug)]
pub struct SecureRouter<S = ()> {
    pub(crate) inner: Router<S>,
    /// Every row of the table; `None` for unprotected routes, which the stack does not run.
    pub(crate) routes: Vec<(RouteEntry, Option<Arc<RouteRuntime>>)>,
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

    /// Routes `path` (axum syntax: `/notes/{id}`) to the handlers of `methods`. Each method
    /// of each path is its own route: the same handler on two paths has two rate-limit
    /// budgets and two rows in the table.
    ///
    /// # Panics
    /// As axum does, when `path` is malformed or already routed: a programming error found
    /// at start-up.
    pub fn route(mut self, path: &str, methods: SecureMethodRouter<S>) -> Self {
        let mut method_router = MethodRouter::new();
        for pending in methods.routes {
            let runtime = Arc::new(RouteRuntime {
                policy: pending.policy.clone(),
                scope: OnceLock::new(),
                stack: OnceLock::new(),
            });
            method_router = method_router.merge((pending.make)(Arc::clone(&runtime)));
            self.routes.push((
                RouteEntry {
                    method: pending.method.to_string(),
                    path: path.to_owned(),
                    policy: pending.policy,
                },
                Some(runtime),
            ));
        }
        self.inner = self.inner.route(path, method_router);
        self
    }

    /// A raw axum route, added on purpose: `method` `path` served by a plain axum `handler`
    /// with no authentication, roles, route limit or validation from the framework. For what
    /// cannot declare a policy: a webhook that checks its own signature, static files. The
    /// table shows it as `UNPROTECTED` with `reason` (assembly refuses a reason under ten
    /// characters); it still gets the stack's outer layers (security headers, request id,
    /// problem+json, timeout, default per-IP limit).
    ///
    /// # Panics
    /// As axum does, when `path` is malformed or `method` is already routed there.
    pub fn unprotected<H, T>(
        mut self,
        method: Method,
        path: &str,
        handler: H,
        reason: &'static str,
    ) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        self.inner = self
            .inner
            .route(path, MethodRouter::new().on(filter_of(&method), handler));
        self.routes.push((
            RouteEntry {
                method: method.to_string(),
                path: path.to_owned(),
                policy: RoutePolicy {
                    handler: std::any::type_name::<H>(),
                    access: super::route::Access::Unprotected { reason },
                    rate_limit: None,
                    body_limit: None,
                    audit: None,
                    unvalidated: Vec::new(),
                    reads: Vec::new(),
                    objects: Vec::new(),
                    sql: Vec::new(),
                },
            },
            None,
        ));
        self
    }

    /// Mounts every route of `other` under `prefix`.
    pub fn nest(mut self, prefix: &str, other: SecureRouter<S>) -> Self {
        let prefix = prefix.trim_end_matches('/');
        for (mut entry, runtime) in other.routes {
            entry.path = format!("{prefix}{}", entry.path);
            self.routes.push((entry, runtime));
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

    /// Your own tower layer around the routes added so far, at the named point of the stack
    /// for it: inside every layer of the app (security headers, request context, timeout,
    /// default limit, body limits), outside each route's policy (authentication, roles, route
    /// limit) and handler. As axum's `Router::layer`, it wraps only routes already added.
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: tower::Layer<axum::routing::Route> + Clone + Send + Sync + 'static,
        L::Service: tower::Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as tower::Service<Request>>::Response: axum::response::IntoResponse + 'static,
        <L::Service as tower::Service<Request>>::Error: Into<std::convert::Infallible> + 'static,
        <L::Service as tower::Service<Request>>::Future: Send + 'static,
    {
        self.inner = self.inner.layer(layer);
        self
    }

    /// Every method, path and policy, sorted by path: print it at start-up, or serialise it.
    pub fn policies(&self) -> PolicyTable {
        PolicyTable::new(self.routes.iter().map(|(e, _)| e.clone()).collect())
    }

    /// Gives every route its name (`GET /notes/{id}`, what its rate limit counts under, one
    /// budget per method and path), registers its limiter, and hands it the app's stack.
    pub(crate) fn assemble(&self, stack: &Arc<Stack>) {
        for (entry, runtime) in &self.routes {
            let Some(runtime) = runtime else { continue };
            // One name per route for the life of the process (routes are few and fixed).
            let scope: &'static str =
                Box::leak(format!("{} {}", entry.method, entry.path).into_boxed_str());
            let _ = runtime.scope.set(scope);
            if let Some(limit) = entry.policy.rate_limit {
                stack.limiter.prepare(scope, limit);
            }
            let _ = runtime.stack.set(Arc::clone(stack));
        }
    }
}

impl SecureRouter<()> {
    /// The app: these routes behind the security stack of `config` (the table in the
    /// [`SecureApp`] docs). Refused, with the routes and the fix, when a route needs
    /// what `config` lacks: `auth` routes without an authenticator, an unprotected route
    /// without a reason. With the `metrics` feature, installs the Prometheus recorder
    /// (`secure_core::metrics::install`).
    pub fn into_app(self, mut config: SecurityConfig) -> Result<SecureApp, AssemblyError> {
        let entries: Vec<&RouteEntry> = self.routes.iter().map(|(e, _)| e).collect();
        assembly::check(&entries, config.authenticator.is_some())?;
        // Every event and request counted from the first (another recorder: it gets them).
        #[cfg(feature = "metrics")]
        if let Err(e) = crate::metrics::install() {
            tracing::warn!(target: "secure::metrics", error = %e, "Prometheus recorder not installed");
        }
        let table = Arc::new(self.policies());
        self.assemble(&Arc::new(Stack {
            authenticator: config.authenticator.take().map(Arc::new),
            limiter: Arc::clone(&config.rate_limiter),
        }));
        Ok(SecureApp::seal(self.inner, table, config))
    }
}
