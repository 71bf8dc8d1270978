//! Per-request context: a well-formed request id on every request and response, the fields
//! audit events carry, and problem+json for every error answer (ASVS 7.1.1, 7.4.1: no internal
//! detail in responses; one id to join a response to its log lines).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use axum::extract::{MatchedPath, Request};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use crate::audit::{self, RequestContext};
use crate::error::{FixedCode, Problem};
use crate::http::client::ClientAddresses;
use crate::observe::RequestTiming;

/// The longest request target (path and query) answered: 8 KiB, as nginx's header buffers.
/// Longer: 414 problem+json.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// The most header bytes (names, values and their separators) answered: 32 KiB, as nginx's
/// `large_client_header_buffers`. More: 431 problem+json. (A head over 64 KiB in all is
/// closed by the server before it reaches the stack, with a bare 431.)
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// The status a head too large for [`MAX_URI_BYTES`] or [`MAX_HEADER_BYTES`] gets.
fn oversized_head(request: &Request) -> Option<StatusCode> {
    let target = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    if target > MAX_URI_BYTES {
        return Some(StatusCode::URI_TOO_LONG);
    }
    let headers: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    (headers > MAX_HEADER_BYTES).then_some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
}

/// The request id header, kept from the client when well formed, else generated.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Whether a client's request id may be kept: 1 to 64 of `[A-Za-z0-9_-]`.
pub fn is_valid_request_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// 16 random bytes as 32 lowercase hex digits, in one allocation that its clones (the
/// request's header, the audit context, the response's header) share.
fn new_request_id() -> HeaderValue {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes: [u8; 16] = rand::random();
    let mut id = [0u8; 32];
    for (i, b) in bytes.into_iter().enumerate() {
        id[2 * i] = HEX[usize::from(b >> 4)];
        id[2 * i + 1] = HEX[usize::from(b & 0xf)];
    }
    // Hex digits are always a valid header value.
    HeaderValue::from_maybe_shared(bytes::Bytes::from_owner(id))
        .unwrap_or_else(|_| HeaderValue::from_static("-"))
}

/// The request-context layer: resolves the client address once (proxy-aware; the limits,
/// the handlers and the audit events then see the same client), sets the
/// context, runs the request inside it, tags the response with the request id, and turns any
/// error answer that is not problem+json into one. It neither clones the service it wraps
/// nor boxes its future, unlike `from_fn`.
#[derive(Debug, Clone)]
pub struct RequestContextLayer {
    clients: Arc<ClientAddresses>,
}

impl RequestContextLayer {
    /// The layer; `clients` says which proxies are trusted for the client address.
    pub fn new(clients: Arc<ClientAddresses>) -> Self {
        RequestContextLayer { clients }
    }
}

impl<S> Layer<S> for RequestContextLayer {
    type Service = RequestContextService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestContextService {
            inner,
            clients: Arc::clone(&self.clients),
        }
    }
}

/// The service of [`RequestContextLayer`].
#[derive(Debug, Clone)]
pub struct RequestContextService<S> {
    inner: S,
    clients: Arc<ClientAddresses>,
}

impl<S> Service<Request> for RequestContextService<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = RequestContextFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let client = self
            .clients
            .resolve(request.headers(), request.extensions());
        request.extensions_mut().insert(client);
        // A client's id is kept when well formed (a clone shares its bytes), else one is made.
        let request_id = request
            .headers()
            .get(&REQUEST_ID)
            .filter(|v| v.to_str().is_ok_and(is_valid_request_id))
            .cloned()
            .unwrap_or_else(new_request_id);
        request
            .headers_mut()
            .insert(REQUEST_ID.clone(), request_id.clone());
        let route = request.extensions().get::<MatchedPath>().cloned();
        let timing = RequestTiming::start(request.method(), route.as_ref());
        // One span per request, for an OpenTelemetry layer or a log that wants it: the route
        // template (never the raw path), the request id, and the status once answered. At
        // DEBUG, as tower-http's `TraceLayer`: a subscriber at INFO pays nothing for it.
        let span = tracing::debug_span!(
            target: "secure::request",
            "request",
            method = %request.method(),
            route = route.as_ref().map_or("-", MatchedPath::as_str),
            request_id = request_id.to_str().unwrap_or("-"),
            status = tracing::field::Empty,
        );
        let context = RequestContext::new(
            request_id.clone(),
            request.method().clone(),
            route,
            (!client.is_unknown()).then_some(client.ip()),
        );
        if let Some(status) = oversized_head(&request) {
            let reason = if status == StatusCode::URI_TOO_LONG {
                "uri_too_long"
            } else {
                "headers_too_large"
            };
            audit::with_context(Some(context), || {
                audit::emit("request", audit::Outcome::Denied, None, reason);
            });
            let detail = if status == StatusCode::URI_TOO_LONG {
                "The request target is longer than this service accepts."
            } else {
                "The request headers are larger than this service accepts."
            };
            return RequestContextFuture {
                inner: None,
                refused: Some(Problem::new(status, detail).into_response()),
                request_id,
                timing,
            };
        }
        RequestContextFuture {
            inner: Some(tracing::Instrument::instrument(
                audit::scoped(context, self.inner.call(request)),
                span,
            )),
            refused: None,
            request_id,
            timing,
        }
    }
}

pin_project! {
    /// The future of [`RequestContextService`].
    pub struct RequestContextFuture<F> {
        #[pin]
        inner: Option<tracing::instrument::Instrumented<audit::Scoped<F>>>,
        // A head too large: answered without calling the routes.
        refused: Option<Response>,
        request_id: HeaderValue,
        // When the request began, and its labels (feature `metrics`; else nothing).
        timing: RequestTiming,
    }
}

impl<F, E> Future for RequestContextFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = match (this.inner.as_pin_mut(), this.refused.take()) {
            (Some(mut inner), _) => {
                let response = ready!(inner.as_mut().poll(cx))?;
                Pin::get_ref(inner.as_ref())
                    .span()
                    .record("status", response.status().as_u16());
                response
            }
            (None, Some(refused)) => refused,
            // Polled again after it finished.
            (None, None) => Problem::internal().into_response(),
        };
        let mut response = to_problem(response, this.request_id);
        response
            .headers_mut()
            .insert(REQUEST_ID.clone(), this.request_id.clone());
        this.timing.finish(response.status());
        Poll::Ready(Ok(response))
    }
}

fn is_problem(response: &Response) -> bool {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/problem+json"))
}

/// Error answers become problem+json. A 5xx body is always replaced by a generic one holding
/// only the request id (and the fixed `code` of a `Problem`, such as `busy`): whatever detail
/// the handler wrote stays out of the response.
fn to_problem(response: Response, request_id: &HeaderValue) -> Response {
    let request_id = request_id.to_str().unwrap_or("-");
    let status = response.status();
    if status.is_server_error() {
        // A code a `Problem` set (`busy`) is a fixed string, not the handler's text: kept.
        let mut problem = Problem::new(status, "").with_request_id(request_id);
        if let Some(FixedCode(code)) = response.extensions().get::<FixedCode>() {
            problem = problem.with_code(code);
        }
        let mut fresh = problem.into_response();
        for name in ["retry-after", "www-authenticate"] {
            if let Some(v) = response.headers().get(name) {
                fresh.headers_mut().insert(name, v.clone());
            }
        }
        return fresh;
    }
    if status.is_client_error() && !is_problem(&response) {
        let detail = match status {
            StatusCode::NOT_FOUND => "There is nothing at this address.",
            StatusCode::METHOD_NOT_ALLOWED => "This method is not allowed here.",
            _ => "The request was not accepted.",
        };
        let (parts, _) = response.into_parts();
        let mut fresh = Problem::new(status, detail).into_response();
        for (name, value) in &parts.headers {
            if name != CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
                fresh.headers_mut().insert(name.clone(), value.clone());
            }
        }
        return fresh;
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_kept_only_when_well_formed() {
        assert!(is_valid_request_id("abc-DEF_123"));
        assert!(!is_valid_request_id(""));
        assert!(!is_valid_request_id(&"a".repeat(65)));
        assert!(!is_valid_request_id("a b"));
        assert!(!is_valid_request_id("a\r\nSet-Cookie: x"));
        assert!(!is_valid_request_id("ü"));
        assert_eq!(new_request_id().len(), 32);
    }
}
