//! What a `#[secure_handler]` is to the stack: the trait the macro implements.

use axum::body::Body;
use axum::http::request::Parts;

use super::route::RoutePolicy;

/// A handler made by `#[secure_handler(...)]`: it declares who may call it.
///
/// Only the macro implements this; [`SecureRouter`](super::SecureRouter) and the functions of
/// [`routing`](crate::routing) accept nothing else, so a route without a declared policy does
/// not compile. The type does not implement axum's `Handler` (its impl there needs a bound
/// nothing meets, [`RoutedBySecureRouter`]), so no other router can serve it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a secure handler: it does not declare who may call it",
    label = "declare its access with #[secure_handler(...)]",
    note = "annotate the handler with `#[secure_handler(public)]` or `#[secure_handler(auth, roles(..))]`; SecureRouter routes nothing else"
)]
pub trait SecureHandler<S>: Clone + Send + Sync + Sized + 'static {
    /// What the handler declared. Read once, when the route is added: the table, the body
    /// limit, the rate limiter and every request of the route use that one value.
    fn policy(&self) -> RoutePolicy;

    /// The adapter the macro writes: extracts (and validates) the handler's arguments from
    /// `parts` and `body` (a `Principal` from the caller the stack put in the extensions),
    /// and runs it. Called by the stack once the request is authenticated, authorised and
    /// within its rate limit.
    #[doc(hidden)]
    /// The future is part of the route's own (axum boxes each request's future once).
    fn call(
        self,
        parts: Parts,
        body: Body,
        state: S,
    ) -> impl Future<Output = axum::response::Response> + Send;
}

/// The bound on axum's `Handler` for `#[secure_handler]` types that nothing meets: routing
/// one with axum's own router is a compile error that says what to do instead.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{H}` is a #[secure_handler]: route it with `SecureRouter` (`secure_core::routing::get`, `post`, ...), not with axum's router",
    label = "axum's router cannot serve a secure handler",
    note = "SecureRouter puts the security stack (authentication, roles, rate limits, validation, audit) in front of every handler; outside it the handler would run unprotected"
)]
pub trait RoutedBySecureRouter<H> {}
