//! Serving an assembled [`SecureApp`]: with every connection's peer address (the per-IP limits
//! and the audit events need it) and a graceful shutdown on SIGTERM or Ctrl-C (requests in
//! flight finish; no new ones are accepted), plus a one-call log set-up so that audit events
//! (`security::audit`) and the causes of 500s are visible from the first run.
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

use std::future::Future;
use std::net::SocketAddr;

use tokio::net::TcpListener;

use crate::app::SecureApp;

/// Serves `app` on `listener` until SIGTERM or Ctrl-C ([`shutdown_signal`]), with peer
/// addresses; requests in flight finish first.
pub async fn serve(listener: TcpListener, app: SecureApp) -> std::io::Result<()> {
    serve_until(listener, app, shutdown_signal()).await
}

/// [`serve`], stopping gracefully when `shutdown` completes instead of on a signal.
pub async fn serve_until(
    listener: TcpListener,
    app: SecureApp,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
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
mod tests {
    use super::*;
    use crate::config::SecurityConfig;
    use crate::policy::SecureRouter;

    #[tokio::test]
    async fn serves_until_told_to_stop() {
        let app = SecureRouter::new()
            .into_app(SecurityConfig::new())
            .expect("an empty app assembles");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve_until(listener, app, async {
            let _ = stopped.await;
        }));
        // A request is answered (404 for an empty app), with the stack's headers.
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        stream
            .write_all(b"GET /nothing HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
        assert!(answer.contains("x-request-id"), "{answer}");
        let _ = stop.send(());
        server.await.unwrap().unwrap();
    }
}
