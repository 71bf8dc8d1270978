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
//! Every request served by the stack is timed:
//! `secure_http_request_duration_seconds{route, method, status}`, the route template (or
//! `unmatched`), the method (the nine of RFC 9110 and PATCH, else `other`), the status class
//! (`2xx` .. `5xx`).
//!
//! Serve [`Metrics::render`] on a route the policy declares (a role, or a listener on a
//! private network): never public by accident.

use std::fmt;
use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// The name of the security-event counter.
pub const SECURITY_EVENTS: &str = "secure_security_events_total";
/// The name of the request-duration histogram.
pub const REQUEST_DURATION: &str = "secure_http_request_duration_seconds";
/// Its buckets, in seconds: 1 ms to 10 s.
const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

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
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Full(REQUEST_DURATION.to_owned()),
            DURATION_BUCKETS,
        )
        .map_err(|_| RecorderTaken)?
        .build_recorder();
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

/// A request's start and labels, until its answer is known.
#[derive(Debug)]
pub(crate) struct RequestTiming {
    start: std::time::Instant,
    method: &'static str,
    route: Option<axum::extract::MatchedPath>,
}

impl RequestTiming {
    pub(crate) fn start(
        method: &axum::http::Method,
        route: Option<&axum::extract::MatchedPath>,
    ) -> Self {
        use axum::http::Method;
        let method = match *method {
            Method::GET => "GET",
            Method::HEAD => "HEAD",
            Method::POST => "POST",
            Method::PUT => "PUT",
            Method::DELETE => "DELETE",
            Method::CONNECT => "CONNECT",
            Method::OPTIONS => "OPTIONS",
            Method::TRACE => "TRACE",
            Method::PATCH => "PATCH",
            _ => "other",
        };
        RequestTiming {
            start: std::time::Instant::now(),
            method,
            route: route.cloned(),
        }
    }

    pub(crate) fn finish(&self, status: axum::http::StatusCode) {
        let class = match status.as_u16() {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        let route = self.route.as_ref().map_or("unmatched", |r| r.as_str());
        histogram(route, self.method, class).record(self.start.elapsed().as_secs_f64());
    }
}

/// The histograms registered so far, by route template, then method and status class: the
/// recorder is asked (labels hashed, the route copied) once per series, not per request.
/// Bounded as the labels are: route templates, ten methods, five classes.
type Handles =
    std::collections::HashMap<String, Vec<(&'static str, &'static str, metrics::Histogram)>>;

static HANDLES: OnceLock<std::sync::RwLock<Handles>> = OnceLock::new();

fn histogram(route: &str, method: &'static str, class: &'static str) -> metrics::Histogram {
    // Until the recorder is installed, handles are the facade's no-ops: not kept.
    if HANDLE.get().is_none() {
        return metrics::Histogram::noop();
    }
    let handles = HANDLES.get_or_init(Default::default);
    let found = handles.read().ok().and_then(|map| {
        map.get(route)?
            .iter()
            .find(|(m, c, _)| *m == method && *c == class)
            .map(|(_, _, h)| h.clone())
    });
    if let Some(handle) = found {
        return handle;
    }
    let handle = metrics::histogram!(
        REQUEST_DURATION,
        "route" => route.to_owned(),
        "method" => method,
        "status" => class,
    );
    if let Ok(mut map) = handles.write() {
        map.entry(route.to_owned())
            .or_default()
            .push((method, class, handle.clone()));
    }
    handle
}
