//! Security metrics in the Prometheus format, through the `metrics` facade and
//! `metrics-exporter-prometheus` (feature `metrics`).
//!
//! Every audit event ([`audit::emit`](crate::audit::emit)) is also counted:
//! `secure_security_events_total{event, outcome, reason, route}`. Every label comes from a
//! closed set: the event and reason codes are constants of the code, the outcome one of three,
//! the route the template a request matched (`/notes/{id}`, never the raw path; `-` outside a
//! matched route). The subject, the client address and the request id are never labels, so the
//! number of series does not grow with users, clients or paths.
//!
//! ```
//! use secure_core::audit::{self, Outcome};
//!
//! let metrics = secure_core::metrics::install().expect("the process's recorder");
//! audit::emit("auth.login", Outcome::Failure, Some("user-42"), "bad_password");
//! let text = metrics.render();
//! assert!(text.contains(r#"secure_security_events_total{event="auth.login",outcome="failure",reason="bad_password",route="-"}"#));
//! assert!(!text.contains("user-42"));
//! ```
//!
//! Serve [`Metrics::render`] on a route the policy declares (a role, or a listener on a
//! private network): never public by accident.

use std::fmt;
use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// The name of the security-event counter.
pub const SECURITY_EVENTS: &str = "secure_security_events_total";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's Prometheus recorder: what [`install`] returns. Cheap to clone.
#[derive(Clone)]
pub struct Metrics(PrometheusHandle);

/// Another `metrics` recorder is installed in this process: the facade takes one.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("another metrics recorder is installed in this process")]
pub struct RecorderTaken;

/// Installs the Prometheus recorder as the process's `metrics` recorder, once; later calls
/// give the same handle. Until it is installed, counting costs nothing.
pub fn install() -> Result<Metrics, RecorderTaken> {
    if let Some(handle) = HANDLE.get() {
        return Ok(Metrics(handle.clone()));
    }
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    // Two first calls at once: one installs, the other finds it installed.
    match metrics::set_global_recorder(recorder) {
        Ok(()) => {
            let _ = HANDLE.set(handle);
        }
        Err(_) if HANDLE.get().is_some() => {}
        Err(_) => return Err(RecorderTaken),
    }
    HANDLE.get().cloned().map(Metrics).ok_or(RecorderTaken)
}

impl Metrics {
    /// Every metric in the Prometheus text format.
    pub fn render(&self) -> String {
        self.0.render()
    }
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// Counts `count` audit events alike.
pub(crate) fn security_events(
    event: &'static str,
    outcome: &'static str,
    reason: &'static str,
    route: String,
    count: u64,
) {
    metrics::counter!(
        SECURITY_EVENTS,
        "event" => event,
        "outcome" => outcome,
        "reason" => reason,
        "route" => route,
    )
    .increment(count);
}
