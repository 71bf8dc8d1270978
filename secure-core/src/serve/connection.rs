//! One connection: HTTP/1.1 through hyper, the app's stack for each request, and a watchdog
//! that closes the connection when its head or its idle time runs past the limits, when the
//! table evicts it, or after its last response once the server shuts down.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{Request, Response};
use axum::routing::future::RouteFuture;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tower::Service as _;

use super::events::{ConnectionEvent, ConnectionEvents};
use super::table::{Activity, Expired, Slot};
use crate::http::connection::ConnectionLimits;

/// The largest request head hyper buffers (request line and headers; more is answered 431):
/// what a slow client can make the server hold per connection.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// What a connection task needs besides its socket.
#[derive(Debug, Clone)]
pub(crate) struct Shared {
    pub(crate) router: Router,
    pub(crate) limits: ConnectionLimits,
    pub(crate) events: Arc<ConnectionEvents>,
    /// Becomes `true` when the server shuts down.
    pub(crate) shutdown: watch::Receiver<bool>,
}

/// Serves one admitted connection until it closes, expires, is evicted, or finishes its
/// request after shutdown began. `address` is what the per-address cap counted it under.
pub(crate) async fn run(
    stream: TcpStream,
    peer: SocketAddr,
    slot: Slot,
    address: Option<IpAddr>,
    shared: Shared,
) {
    // Answers are small and written whole: do not hold them back for Nagle's algorithm.
    let _ = stream.set_nodelay(true);
    let activity = Arc::clone(slot.activity());
    let io = TokioIo::new(Tracked {
        inner: stream,
        activity: Arc::clone(&activity),
    });
    let service = ConnectionService {
        router: shared.router.clone(),
        peer,
        activity: Arc::clone(&activity),
    };
    let connection = hyper::server::conn::http1::Builder::new()
        .max_buf_size(MAX_HEAD_BYTES)
        .serve_connection(io, service);
    let mut connection = std::pin::pin!(connection);
    let (header_read, idle) = (shared.limits.header_read(), shared.limits.idle());
    let first = activity
        .check(header_read, idle)
        .unwrap_or_else(|_| tokio::time::Instant::now());
    let watchdog = tokio::time::sleep_until(first);
    let mut watchdog = std::pin::pin!(watchdog);
    let mut shutting_down = *shared.shutdown.borrow();
    if shutting_down {
        connection.as_mut().graceful_shutdown();
    }
    // Made once and polled by reference: a fresh waiter each time the connection wakes would
    // lock the eviction and shutdown notifiers twice per request.
    let mut evicted = std::pin::pin!(activity.evicted());
    let mut shutdown = shared.shutdown.clone();
    let mut stopping = std::pin::pin!(async move { shutdown.changed().await.is_ok() });
    loop {
        tokio::select! {
            _ = connection.as_mut() => break,
            () = watchdog.as_mut() => match activity.check(header_read, idle) {
                Ok(next) => watchdog.as_mut().reset(next),
                Err(Expired::Head) => {
                    shared.events.record(ConnectionEvent::HeaderTimeout, address);
                    break;
                }
                Err(Expired::Idle) => break,
            },
            () = evicted.as_mut() => {
                shared.events.record(ConnectionEvent::Evicted, address);
                break;
            }
            changed = stopping.as_mut(), if !shutting_down => {
                // Idle connections close now, busy ones after their response.
                shutting_down = true;
                if changed {
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
    // Dropping the connection closes the socket; dropping the slot gives its place back.
    drop(slot);
}

/// The socket, telling the activity when bytes arrive (a new request's head has begun).
struct Tracked {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = ready!(Pin::new(&mut self.inner).poll_read(cx, buf));
        if buf.filled().len() > before {
            self.activity.bytes_read();
        }
        Poll::Ready(result)
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Each request of the connection through the app, with the peer address the stack reads
/// (`ConnectInfo<SocketAddr>`).
struct ConnectionService {
    router: Router,
    peer: SocketAddr,
    activity: Arc<Activity>,
}

impl hyper::service::Service<Request<Incoming>> for ConnectionService {
    type Response = Response<TrackedBody>;
    type Error = Infallible;
    type Future = TrackedResponse;

    fn call(&self, mut request: Request<Incoming>) -> Self::Future {
        self.activity.request_started();
        request.extensions_mut().insert(ConnectInfo(self.peer));
        TrackedResponse {
            future: self.router.clone().call(request),
            activity: Some(Arc::clone(&self.activity)),
        }
    }
}

pin_project! {
    /// The app's answer, its body wrapped to say when it has been written.
    struct TrackedResponse {
        #[pin]
        future: RouteFuture<Infallible>,
        activity: Option<Arc<Activity>>,
    }
}

impl Future for TrackedResponse {
    type Output = Result<Response<TrackedBody>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Ok(response) = ready!(this.future.poll(cx));
        let activity = this.activity.take();
        Poll::Ready(Ok(response.map(|body| TrackedBody { body, activity })))
    }
}

pin_project! {
    /// A response body that marks the connection idle when hyper drops it: written whole, or
    /// abandoned with the connection.
    struct TrackedBody {
        #[pin]
        body: Body,
        activity: Option<Arc<Activity>>,
    }

    impl PinnedDrop for TrackedBody {
        fn drop(this: Pin<&mut Self>) {
            if let Some(activity) = this.project().activity.take() {
                activity.response_done();
            }
        }
    }
}

impl http_body::Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        self.project().body.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}
