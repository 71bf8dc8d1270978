//! The default per-client-IP limit as a tower layer. In memory the decision is made before the
//! request goes inward, so nothing is cloned or boxed; with a store, the decision is awaited
//! first, which needs the inner service afterwards (one clone, one boxed future).

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use axum::extract::Request;
use axum::response::Response;
use pin_project_lite::pin_project;
use tower::{Layer, Service, ServiceExt};

use super::headers::RateLimitHeaders;
use super::{DefaultCounted, RateLimiter, Verdict};
use crate::http::client::ClientAddr;

/// The default per-IP limit of every route (`RateLimiter::default_limit`): a 429
/// (problem+json, `Retry-After`, `RateLimit`) over the limit; otherwise the response gets the
/// `"default"` items of `RateLimit` and `RateLimit-Policy`. A request already counted passes
/// through. With a store, the decision is the store's; when it cannot answer, a 503 (or, with
/// [`RateLimiter::fail_open`], the request passes without the fields).
#[derive(Debug, Clone)]
pub struct DefaultLimitLayer {
    limiter: Arc<RateLimiter>,
}

impl DefaultLimitLayer {
    /// The layer of `limiter`'s default limit.
    pub fn new(limiter: Arc<RateLimiter>) -> Self {
        DefaultLimitLayer { limiter }
    }
}

impl<S> Layer<S> for DefaultLimitLayer {
    type Service = DefaultLimitService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        DefaultLimitService {
            inner,
            limiter: Arc::clone(&self.limiter),
        }
    }
}

/// The service of [`DefaultLimitLayer`].
#[derive(Debug, Clone)]
pub struct DefaultLimitService<S> {
    inner: S,
    limiter: Arc<RateLimiter>,
}

type Stored = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl<S> Service<Request> for DefaultLimitService<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = DefaultLimitFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        if request.extensions().get::<DefaultCounted>().is_some() {
            return DefaultLimitFuture::Inward {
                inner: self.inner.call(request),
                headers: None,
            };
        }
        let ip = ClientAddr::of(request.extensions()).key();
        if !self.limiter.has_store() {
            let Some(decision) = self.limiter.check_default(ip) else {
                return DefaultLimitFuture::Inward {
                    inner: self.inner.call(request),
                    headers: None,
                };
            };
            return match Verdict::Decided(decision).into_result(None) {
                Ok(headers) => {
                    request.extensions_mut().insert(DefaultCounted);
                    DefaultLimitFuture::Inward {
                        inner: self.inner.call(request),
                        headers: Some(headers),
                    }
                }
                Err(refused) => DefaultLimitFuture::Refused {
                    response: Some(refused),
                },
            };
        }
        // The store's answer comes first: this service must be ready again for the next
        // request, so the one that was made ready goes with this one.
        let ready = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, ready);
        let limiter = Arc::clone(&self.limiter);
        DefaultLimitFuture::Stored {
            future: Box::pin(async move {
                let Some(verdict) = limiter.decide_default(ip).await else {
                    return inner.oneshot(request).await;
                };
                match verdict.into_result(None) {
                    Ok(headers) => {
                        request.extensions_mut().insert(DefaultCounted);
                        let Ok(response) = inner.oneshot(request).await;
                        Ok(headers.apply(response))
                    }
                    Err(refused) => Ok(refused),
                }
            }),
        }
    }
}

pin_project! {
    /// The future of [`DefaultLimitService`].
    #[project = Projected]
    pub enum DefaultLimitFuture<F> {
        /// Allowed (or not limited): the inner service's future, then the fields.
        Inward { #[pin] inner: F, headers: Option<RateLimitHeaders> },
        /// Refused in memory.
        Refused { response: Option<Response> },
        /// Decided by the store.
        Stored { future: Stored },
    }
}

impl<F> Future for DefaultLimitFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            Projected::Inward { inner, headers } => {
                let Ok(response) = ready!(inner.poll(cx));
                Poll::Ready(Ok(match headers.take() {
                    Some(headers) => headers.apply(response),
                    None => response,
                }))
            }
            // Polled again after it answered: a bug in the caller, answered without a panic.
            Projected::Refused { response } => {
                Poll::Ready(Ok(response.take().unwrap_or_else(|| {
                    axum::response::IntoResponse::into_response(crate::error::Problem::internal())
                })))
            }
            Projected::Stored { future } => future.as_mut().poll(cx),
        }
    }
}
