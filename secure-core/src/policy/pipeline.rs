//! The per-request path of every `#[secure_handler]` route, as ordinary code that reads the
//! route's [`RoutePolicy`]: authenticate, authorise (roles, MFA, freshness), rate-limit, then
//! the handler's own adapter (which extracts and validates its arguments and runs it), then
//! the `RateLimit` fields and the success audit event. Each refusal is answered and audited
//! here, before any extractor has read the body.
//!
//! The macro emits nothing of this: only the policy value and the adapter
//! ([`SecureHandler::call`]). What a route needs from the app (the authenticator, the
//! limiter) is the [`Stack`], set once when the app is assembled.

use std::sync::{Arc, OnceLock};

use axum::extract::Request;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::guard::{audit_success, forbidden, require_fresh};
use super::handler::SecureHandler;
use super::route::{Access, RoutePolicy};
use crate::audit::{self, Outcome};
use crate::auth::{AuthError, Authenticator, Caller};
use crate::error::Problem;
use crate::ratelimit::{RateLimitHeaders, RateLimiter};

/// What every route of an app shares: set once, when the app is assembled.
#[derive(Debug)]
pub(crate) struct Stack {
    pub(crate) authenticator: Option<Arc<Authenticator>>,
    pub(crate) limiter: Arc<RateLimiter>,
}

/// One route: its policy (read once, when it was added), and, set when its app is assembled,
/// the name its rate limit counts under (`GET /notes/{id}`) and the app's stack.
#[derive(Debug)]
pub(crate) struct RouteRuntime {
    pub(crate) policy: RoutePolicy,
    pub(crate) scope: OnceLock<&'static str>,
    pub(crate) stack: OnceLock<Arc<Stack>>,
}

/// Serves one request of a `#[secure_handler]` route. Not an `async fn`: its arguments would
/// stay in the future beside what is made of them, and the request is split first.
pub(crate) fn serve<H, S>(
    handler: H,
    route: Arc<RouteRuntime>,
    request: Request,
    state: S,
) -> impl Future<Output = Response> + Send
where
    H: SecureHandler<S>,
    S: Clone + Send + Sync + 'static,
{
    let (parts, body) = request.into_parts();
    async move {
        let (Some(stack), Some(scope)) = (route.stack.get(), route.scope.get()) else {
            // Routes are only reachable through an assembled app, which sets both.
            tracing::error!(target: "secure::policy", handler = route.policy.handler, "route served before its app was assembled");
            return Problem::internal().into_response();
        };
        let caller = match admit(stack, &route.policy, &parts).await {
            Ok(caller) => caller,
            Err(refused) => return refused,
        };
        let caller_subject = caller.as_ref().map(|c| c.identity.subject.as_str());
        let rate_headers = match limit(stack, &route.policy, scope, &parts, caller_subject).await {
            Ok(headers) => headers,
            Err(refused) => return refused,
        };
        // Kept past the handler only for the route's audit event.
        let subject = route.policy.audit.and(caller_subject).map(str::to_owned);
        let mut parts = parts;
        if let Some(caller) = caller {
            // The one way the caller reaches the handler: `Principal<R>` and `Authorized<..>`
            // read it here.
            parts.extensions.insert(caller);
        }
        let response = handler.call(parts, body, state).await;
        let response = match rate_headers {
            Some(headers) => headers.apply(response),
            None => response,
        };
        if let Some(event) = route.policy.audit {
            audit_success(event, &response, subject.as_deref());
        }
        response
    }
}

/// Authentication and authorisation: who is calling, and whether they may. `None` for
/// public routes.
// The error is the response to send.
#[allow(clippy::result_large_err)]
async fn admit(
    stack: &Stack,
    policy: &RoutePolicy,
    parts: &Parts,
) -> Result<Option<Caller>, Response> {
    let Access::Auth {
        roles,
        scopes,
        mfa,
        fresh,
    } = &policy.access
    else {
        return Ok(None);
    };
    let Some(authenticator) = &stack.authenticator else {
        // Assembly refuses `auth` routes without an authenticator; fail closed regardless.
        audit::emit(
            "auth.token",
            Outcome::Failure,
            None,
            AuthError::NotConfigured.reason(),
        );
        return Err(AuthError::NotConfigured.into_response());
    };
    let (identity, carrier) = authenticator
        .authenticate(parts)
        .await
        .map_err(IntoResponse::into_response)?;
    if !roles.is_empty() && !roles.iter().any(|r| identity.roles.iter().any(|h| h == r)) {
        return Err(forbidden(&identity.subject, "missing_role"));
    }
    // A scoped credential reaches only a route that declares one of its scopes.
    if let Some(held) = &identity.scopes
        && !scopes.iter().any(|s| held.iter().any(|h| h == s))
    {
        return Err(forbidden(&identity.subject, "insufficient_scope"));
    }
    if *mfa && !identity.amr.iter().any(|a| a.is_second_factor()) {
        return Err(forbidden(&identity.subject, "mfa_required"));
    }
    if let Some(max_age) = fresh {
        require_fresh(identity.auth_time, carrier, &identity.subject, *max_age)?;
    }
    Ok(Some(Caller { identity, carrier }))
}

/// The route's own rate limit, if it declares one.
// The error is the response to send.
#[allow(clippy::result_large_err)]
async fn limit(
    stack: &Stack,
    policy: &RoutePolicy,
    scope: &'static str,
    parts: &Parts,
    subject: Option<&str>,
) -> Result<Option<RateLimitHeaders>, Response> {
    let Some(limit) = policy.rate_limit else {
        return Ok(None);
    };
    let key = stack.limiter.key_for(parts, limit.key, subject);
    stack
        .limiter
        .decide(scope, limit, &key)
        .await
        .into_result(subject)
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::jwt::{AccessTokenKey, AccessTokens};
    use crate::auth::{Amr, Identity};
    use crate::policy::route::Access;
    use crate::ratelimit::{RateKey, RateLimit};
    use axum::body::Body;
    use axum::http::{StatusCode, header};
    use secrecy::SecretBox;

    /// A handler whose adapter answers who it was given.
    #[derive(Debug, Clone, Copy)]
    struct Echo;

    impl SecureHandler<()> for Echo {
        fn policy(&self) -> RoutePolicy {
            unreachable!("the tests give the route its policy")
        }

        async fn call(self, parts: Parts, _body: Body, _state: ()) -> Response {
            parts
                .extensions
                .get::<Caller>()
                .map_or_else(|| "anonymous".to_owned(), |c| c.identity.subject.clone())
                .into_response()
        }
    }

    fn tokens() -> AccessTokens {
        let key = AccessTokenKey::hs256(SecretBox::from(vec![7u8; 32])).unwrap();
        AccessTokens::builder(key, "https://t.test", "t")
            .build()
            .unwrap()
    }

    fn route(access: Access, rate_limit: Option<RateLimit>) -> Arc<RouteRuntime> {
        let stack = OnceLock::new();
        let _ = stack.set(Arc::new(Stack {
            authenticator: Some(Arc::new(Authenticator::new(tokens()))),
            limiter: Arc::new(RateLimiter::new()),
        }));
        let scope = OnceLock::new();
        let _ = scope.set("GET /echo");
        Arc::new(RouteRuntime {
            policy: RoutePolicy {
                handler: "echo",
                access,
                rate_limit,
                body_limit: None,
                audit: None,
                unvalidated: Vec::new(),
                reads: Vec::new(),
                objects: Vec::new(),
                sql: Vec::new(),
            },
            scope,
            stack,
        })
    }

    fn auth(roles: &[&'static str], mfa: bool, fresh: Option<u64>) -> Access {
        Access::Auth {
            roles: roles.to_vec(),
            scopes: Vec::new(),
            mfa,
            fresh,
        }
    }

    fn request(identity: Option<Identity>) -> Request {
        let mut r = Request::get("/echo");
        if let Some(identity) = identity {
            let token = tokens().issue(&identity).unwrap();
            r = r.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        r.body(Body::empty()).unwrap()
    }

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    }

    async fn status(route: &Arc<RouteRuntime>, identity: Option<Identity>) -> StatusCode {
        serve(Echo, Arc::clone(route), request(identity), ())
            .await
            .status()
    }

    #[tokio::test]
    async fn public_routes_serve_anyone_and_auth_routes_want_a_token() {
        let public = route(Access::Public, None);
        assert_eq!(status(&public, None).await, StatusCode::OK);
        let private = route(auth(&[], false, None), None);
        assert_eq!(status(&private, None).await, StatusCode::UNAUTHORIZED);
        let ada = Identity::new("ada", now());
        assert_eq!(status(&private, Some(ada)).await, StatusCode::OK);
    }

    #[tokio::test]
    async fn roles_mfa_and_freshness_are_checked_in_that_order() {
        let admin_mfa_fresh = route(auth(&["admin"], true, Some(300)), None);
        let member = Identity::new("m", now() - 3600).with_roles(["member"]);
        assert_eq!(
            status(&admin_mfa_fresh, Some(member)).await,
            StatusCode::FORBIDDEN
        );
        let admin = Identity::new("a", now() - 3600)
            .with_roles(["admin"])
            .with_amr([Amr::Pwd]);
        assert_eq!(
            status(&admin_mfa_fresh, Some(admin)).await,
            StatusCode::FORBIDDEN
        );
        let stale = Identity::new("a", now() - 3600)
            .with_roles(["admin"])
            .with_amr([Amr::Pwd, Amr::Otp]);
        assert_eq!(
            status(&admin_mfa_fresh, Some(stale)).await,
            StatusCode::UNAUTHORIZED
        );
        let fresh = Identity::new("a", now())
            .with_roles(["admin"])
            .with_amr([Amr::Pwd, Amr::Otp]);
        assert_eq!(status(&admin_mfa_fresh, Some(fresh)).await, StatusCode::OK);
    }

    #[tokio::test]
    async fn the_rate_limit_counts_after_authentication_and_names_the_route() {
        let limited = route(
            auth(&[], false, None),
            Some(RateLimit {
                rate: crate::ratelimit::Rate {
                    count: 2,
                    period_secs: 60,
                },
                key: RateKey::User,
            }),
        );
        // Refused callers are not counted: two 401s leave the budget whole.
        for _ in 0..2 {
            assert_eq!(status(&limited, None).await, StatusCode::UNAUTHORIZED);
        }
        let ada = || Some(Identity::new("ada", now()));
        let first = serve(Echo, Arc::clone(&limited), request(ada()), ()).await;
        assert!(first.headers().contains_key("ratelimit"));
        assert_eq!(status(&limited, ada()).await, StatusCode::OK);
        assert_eq!(status(&limited, ada()).await, StatusCode::TOO_MANY_REQUESTS);
        // Another user has a budget of their own.
        let bob = Some(Identity::new("bob", now()));
        assert_eq!(status(&limited, bob).await, StatusCode::OK);
    }

    #[tokio::test]
    async fn a_route_without_its_stack_fails_closed() {
        let orphan = Arc::new(RouteRuntime {
            policy: route(Access::Public, None).policy.clone(),
            scope: OnceLock::new(),
            stack: OnceLock::new(),
        });
        assert_eq!(
            status(&orphan, None).await,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
