//! Panics in a layer or a handler become a generic 500 problem (the panic's text is logged,
//! never sent). tower-http's `CatchPanic` does this too, but boxes every response's body
//! (and the stack then boxes it back into axum's `Body`): two catchers cost four allocations
//! on every request. This one passes the response through as it is.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use crate::audit;
use crate::error::Problem;

/// The layer: a panic while the inner service is called or its future polled is answered
/// with a 500 problem.
#[derive(Debug, Clone, Copy, Default)]
pub struct CatchPanicLayer;

impl<S> Layer<S> for CatchPanicLayer {
    type Service = CatchPanic<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CatchPanic { inner }
    }
}

/// The service of [`CatchPanicLayer`].
#[derive(Debug, Clone)]
pub struct CatchPanic<S> {
    inner: S,
}

impl<S, E> Service<Request> for CatchPanic<S>
where
    S: Service<Request, Response = Response, Error = E>,
{
    type Response = Response;
    type Error = E;
    type Future = CatchPanicFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        match catch_unwind(AssertUnwindSafe(|| self.inner.call(request))) {
            Ok(inner) => CatchPanicFuture {
                inner: Some(inner),
                panicked: None,
            },
            Err(panic) => CatchPanicFuture {
                inner: None,
                panicked: Some(panic_response(panic)),
            },
        }
    }
}

pin_project! {
    /// The future of [`CatchPanic`].
    pub struct CatchPanicFuture<F> {
        #[pin]
        inner: Option<F>,
        // The answer to a panic in `call`.
        panicked: Option<Response>,
    }
}

impl<F, E> Future for CatchPanicFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let Some(inner) = this.inner.as_mut().as_pin_mut() else {
            // A panic in `call`, or polled again after a panic.
            let response = this
                .panicked
                .take()
                .unwrap_or_else(|| Problem::internal().into_response());
            return Poll::Ready(Ok(response));
        };
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(poll) => poll,
            Err(panic) => {
                // What panicked is not polled again.
                this.inner.set(None);
                Poll::Ready(Ok(panic_response(panic)))
            }
        }
    }
}

/// A panic: a 500 problem with no panic text (the text is logged, its control characters
/// escaped).
pub(crate) fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(target: "secure::http", panic = %audit::escape_control(&message), "handler panicked");
    Problem::internal().into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::StatusCode;
    use tower::ServiceExt;

    #[tokio::test]
    async fn panics_in_call_and_in_the_future_become_a_500_and_answers_pass_through() {
        let in_future = CatchPanicLayer.layer(tower::service_fn(|_: Request| async {
            if true {
                panic!("secret detail");
            }
            Ok::<Response, std::convert::Infallible>(().into_response())
        }));
        let response = in_future
            .oneshot(Request::new(Body::empty()))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        assert!(!String::from_utf8_lossy(&body).contains("secret detail"));

        #[derive(Clone)]
        struct PanicsInCall;
        impl Service<Request> for PanicsInCall {
            type Response = Response;
            type Error = std::convert::Infallible;
            type Future = std::future::Ready<Result<Response, Self::Error>>;
            fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
                Poll::Ready(Ok(()))
            }
            fn call(&mut self, _: Request) -> Self::Future {
                panic!("in call")
            }
        }
        let in_call = CatchPanicLayer.layer(PanicsInCall);
        let response = in_call.oneshot(Request::new(Body::empty())).await.unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);

        let fine = CatchPanicLayer.layer(tower::service_fn(|_: Request| async {
            Ok::<Response, std::convert::Infallible>((StatusCode::CREATED, "made").into_response())
        }));
        let response = fine.oneshot(Request::new(Body::empty())).await.unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
    }
}
