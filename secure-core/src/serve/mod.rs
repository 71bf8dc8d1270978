//! Serving an assembled [`SecureApp`] over HTTP/1.1: with every connection's peer address (the
//! per-IP limits and the audit events need it), the connection limits of its configuration
//! (header read and idle timeouts, connections per address and in all, below the open-file
//! limit: [`ConnectionLimits`](crate::http::connection::ConnectionLimits); OWASP API4:2023),
//! and a graceful shutdown on SIGTERM or Ctrl-C (requests in flight finish; no new ones are
//! accepted), plus a one-call log set-up so that audit events (`security::audit`) and the
//! causes of 500s are visible from the first run.
//!
//! Connections refused or closed by the limits are audit events (`conn.refused`,
//! `conn.closed`, `conn.accept`), logged as one summary per reason and 10 s, never a line per
//! socket. There is no HTTP/2 and no protocol upgrade: terminate HTTP/2 and TLS at a proxy.
//!
//! ```no_run
//! use secure_core::config::SecurityConfig;
//! use secure_core::policy::SecureRouter;
//! use secure_core::routing::get;
//! use secure_core::secure_handler;
//!
//! #[secure_handler(public)]
//! async fn health() -> &'static str {
//!     "ok"
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     secure_core::serve::init_logging();
//!     let app = SecureRouter::new()
//!         .route("/health", get(health))
//!         .into_app(SecurityConfig::from_env()?)?;
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//!     secure_core::serve::serve(listener, app).await?;
//!     Ok(())
//! }
//! ```

mod connection;
mod events;
mod table;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::http::connection::file_limit;
use crate::policy::SecureApp;
use connection::Shared;
use events::{ConnectionEvent, ConnectionEvents, SUMMARY_INTERVAL};
use table::ConnectionTable;

/// How long the listener waits after `accept` failed for want of resources ("too many open
/// files"): long enough not to spin, short enough that the backlog is soon read again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serves `app` on `listener` until SIGTERM or Ctrl-C ([`shutdown_signal`]), with peer
/// addresses and the connection limits of its configuration
/// ([`ConnectionLimits`](crate::http::connection::ConnectionLimits)); requests in flight
/// finish first.
pub async fn serve(listener: TcpListener, app: SecureApp) -> io::Result<()> {
    serve_until(listener, app, shutdown_signal()).await
}

/// [`serve`], stopping gracefully when `shutdown` completes instead of on a signal.
pub async fn serve_until(
    listener: TcpListener,
    app: SecureApp,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let server = Server::new(&app);
    server.run(listener, app, shutdown).await;
    Ok(())
}

/// The accept loop's state: which connections are open, and what was refused.
struct Server {
    table: Arc<ConnectionTable>,
    events: Arc<ConnectionEvents>,
}

impl Server {
    fn new(app: &SecureApp) -> Self {
        let limits = app.connection_limits();
        let files = file_limit();
        let table = ConnectionTable::new(limits.per_address_limit(), limits.max_for(files));
        tracing::info!(
            target: "secure::serve",
            max_connections = table.max(),
            file_limit = files.map_or_else(|| "unlimited".to_owned(), |l| l.to_string()),
            per_address = limits.per_address_limit().map_or_else(|| "off".to_owned(), |n| n.to_string()),
            header_read_timeout = ?limits.header_read(),
            idle_timeout = ?limits.idle(),
            "HTTP/1.1 with connection limits"
        );
        Server {
            table: Arc::new(table),
            events: Arc::new(ConnectionEvents::default()),
        }
    }

    async fn run(
        &self,
        listener: TcpListener,
        app: SecureApp,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) {
        let (stop, stopped) = watch::channel(false);
        let shared = Shared {
            router: app.router.clone(),
            limits: app.connection_limits(),
            events: Arc::clone(&self.events),
            shutdown: stopped,
        };
        let mut shutdown = std::pin::pin!(shutdown);
        let mut summary = tokio::time::interval(SUMMARY_INTERVAL);
        summary.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = summary.tick() => {
                    self.events.flush();
                    continue;
                }
                () = &mut shutdown => break,
            };
            match accepted {
                Ok((stream, peer)) => self.admit(stream, peer, &app, &shared),
                Err(error) if is_connection_error(&error) => {}
                Err(error) => self.accept_failed(&error).await,
            }
        }
        drop(listener);
        let _ = stop.send(true);
        // Each connection task holds a receiver: wait for the last to end.
        drop(shared);
        stop.closed().await;
        self.events.flush();
    }

    /// `accept` failed for the listener, not for one connection: out of descriptors (or
    /// memory). Makes room if it can, waits a moment, and goes on; the listener never stops.
    async fn accept_failed(&self, error: &io::Error) {
        self.events.record(ConnectionEvent::AcceptError, None);
        let (lowered, closing) = if is_out_of_files(error) {
            self.table.out_of_files()
        } else {
            (None, false)
        };
        if let Some(max) = lowered {
            tracing::warn!(
                target: "secure::serve",
                max_connections = max,
                "out of file descriptors below the connection cap: the cap is now the connections open; \
                 raise the open-file limit (ulimit -n) or lower SECURE_MAX_CONNECTIONS"
            );
        }
        tracing::debug!(target: "secure::serve", %error, "accept failed");
        // A closing connection frees a descriptor within a moment; otherwise wait longer
        // rather than spin.
        let wait = if closing {
            Duration::from_millis(1)
        } else {
            ACCEPT_BACKOFF
        };
        tokio::time::sleep(wait).await;
    }

    fn admit(
        &self,
        stream: tokio::net::TcpStream,
        peer: SocketAddr,
        app: &SecureApp,
        shared: &Shared,
    ) {
        let address = app.connection_key(peer.ip());
        match self.table.admit(address) {
            Ok(slot) => {
                tokio::spawn(connection::run(stream, peer, slot, address, shared.clone()));
            }
            // Closed at once, before a byte is read.
            Err(event) => {
                self.events.record(event, address);
                drop(stream);
            }
        }
    }
}

/// "Too many open files", for the process (`EMFILE`) or the system (`ENFILE`).
fn is_out_of_files(error: &io::Error) -> bool {
    #[cfg(unix)]
    {
        use rustix::io::Errno;
        matches!(
            Errno::from_io_error(error),
            Some(Errno::MFILE | Errno::NFILE)
        )
    }
    #[cfg(not(unix))]
    {
        let _ = error;
        false
    }
}

/// Errors of one connection that `accept` reports, not of the listener.
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Completes on Ctrl-C or, on Unix, SIGTERM (what container runtimes send to stop a service).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!(target: "secure::serve", "shutting down: finishing the requests in flight");
}

/// Logs to standard error, at INFO and above, with each event's target (`security::audit`
/// for audit events, `secure::*` for the framework's own lines): what a service prints unless
/// it sets up `tracing` itself. `false` when a global subscriber was already installed.
pub fn init_logging() -> bool {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(true)
        .with_max_level(tracing::Level::INFO)
        .try_init()
        .is_ok()
}

#[cfg(test)]
mod tests;
