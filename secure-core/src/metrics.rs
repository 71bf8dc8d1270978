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
//! And at their sources, each label again from a closed set:
//!
//! | metric | labels | what |
//! | --- | --- | --- |
//! | `secure_input_rejected_total` | `route`, `extractor` (`json`, `form`, `query`, `path`), `status` (`400`, `413`, `415`, `422`) | input an extractor refused: with the request count of the route, the validation success rate |
//! | `secure_rate_limited_total` | `route`, `limit` (the route template, `default`, or the accounts' own limit names), `key` (`address`, `user`, `global`) | requests a rate limit refused |
//! | `secure_store_duration_seconds` | `store` (`accounts`, `refresh_tokens`, `sessions`, `rate_limits`), `operation` (the store's method) | every store call |
//! | `secure_store_errors_total` | `store`, `operation` | the calls that failed |
//! | `secure_password_hash_duration_seconds` | `operation` (`hash`, `verify`) | each Argon2id hash |
//! | `secure_password_hash_wait_seconds` | | the wait for a hashing slot, whether one came or the caller got `busy` |
//! | `secure_sign_in_duration_seconds` | `outcome` (`signed_in`, or the refusal's problem code: `invalid_credentials`, `mfa_required`, `busy`, ...; `rate_limited`) | the accounts module's sign-ins, request to answer |
//!
//! Per-account throttling, CSRF refusals, refresh-token reuse, authentication and
//! authorization refusals are audit events, so counted by `secure_security_events_total`
//! with their reason (`auth.throttle`, `auth.csrf`, `auth.refresh`/`refresh_reuse`,
//! `auth.token`, `access`, `authz.object`).
//!
//! [`SecureRouter::into_app`](crate::policy::SecureRouter::into_app) installs the recorder
//! (with the feature on), so nothing is missed before the first request. Serve it on a route
//! the policy declares (a role and a scope, or a listener on a private network), never
//! public by accident:
//!
//! ```
//! use secure_core::error::ApiError;
//! use secure_core::metrics::Metrics;
//! use secure_core::prelude::*;
//!
//! #[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
//! enum AppRole { Monitor }
//!
//! /// For the scraper's credential only.
//! #[secure_handler(auth, roles(AppRole::Monitor))]
//! async fn metrics() -> Result<Metrics, ApiError> {
//!     Ok(secure_core::metrics::install()?)
//! }
//! # let _ = SecureRouter::<()>::new().route("/metrics", get(metrics));
//! ```

use std::fmt;
use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// The name of the security-event counter.
pub const SECURITY_EVENTS: &str = "secure_security_events_total";
/// The name of the request-duration histogram.
pub const REQUEST_DURATION: &str = "secure_http_request_duration_seconds";
/// Input an extractor refused: `{route, extractor, status}`.
pub const INPUT_REJECTED: &str = "secure_input_rejected_total";
/// Requests a rate limit refused: `{route, limit, key}`.
pub const RATE_LIMITED: &str = "secure_rate_limited_total";
/// Store calls: `{store, operation}`.
pub const STORE_DURATION: &str = "secure_store_duration_seconds";
/// Store calls that failed: `{store, operation}`.
pub const STORE_ERRORS: &str = "secure_store_errors_total";
/// Argon2id hashes: `{operation}` (`hash`, `verify`).
pub const PASSWORD_HASH_DURATION: &str = "secure_password_hash_duration_seconds";
/// The wait for a hashing slot (the hasher's queue).
pub const PASSWORD_HASH_WAIT: &str = "secure_password_hash_wait_seconds";
/// Sign-ins of the accounts module, request to answer: `{outcome}`.
pub const SIGN_IN_DURATION: &str = "secure_sign_in_duration_seconds";

/// Request and store buckets, in seconds: 1 ms to 10 s (stores from 0.1 ms).
const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
const STORE_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];
/// Argon2id and the sign-ins around it: 10 ms to 10 s.
const HASH_BUCKETS: &[f64] = &[
    0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// The hasher's queue: none to its wait (1 s by default) and beyond.
const WAIT_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's Prometheus recorder: what [`install`] returns. Cheap to clone.
#[derive(Clone)]
pub struct Metrics(PrometheusHandle);

/// Another `metrics` recorder is installed in this process: the facade takes one.
#[derive(Debug, Clone, Copy, thiserror::Error, PartialEq, Eq)]
#[error("another metrics recorder is installed in this process")]
pub struct RecorderTaken;

/// Installs the Prometheus recorder as the process's `metrics` recorder, once; later calls
/// give the same handle (what a `/metrics` handler serves). `into_app` calls it; until it is
/// installed, counting costs nothing.
pub fn install() -> Result<Metrics, RecorderTaken> {
    // Once per process, and concurrent first calls wait for it: the facade's recorder can be
    // set once, so the answer (installed, or taken by another) never changes.
    static INSTALLED: OnceLock<Result<(), RecorderTaken>> = OnceLock::new();
    (*INSTALLED.get_or_init(set_recorder))?;
    HANDLE.get().cloned().map(Metrics).ok_or(RecorderTaken)
}

fn set_recorder() -> Result<(), RecorderTaken> {
    let mut builder = PrometheusBuilder::new();
    for (name, buckets) in [
        (REQUEST_DURATION, DURATION_BUCKETS),
        (STORE_DURATION, STORE_BUCKETS),
        (PASSWORD_HASH_DURATION, HASH_BUCKETS),
        (SIGN_IN_DURATION, HASH_BUCKETS),
        (PASSWORD_HASH_WAIT, WAIT_BUCKETS),
    ] {
        builder = builder
            .set_buckets_for_metric(
                metrics_exporter_prometheus::Matcher::Full(name.to_owned()),
                buckets,
            )
            .map_err(|_| RecorderTaken)?;
    }
    let recorder = builder.build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).map_err(|_| RecorderTaken)?;
    let _ = HANDLE.set(handle.clone());
    upkeep(handle);
    Ok(())
}

/// How often the histograms' recorded samples are folded into their buckets.
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// The exporter keeps each histogram sample until it is folded into the buckets, which a
/// scrape does; without scrapes the samples would pile up for ever. A thread folds them
/// every few seconds (a thread, not a task: `install` needs no runtime).
fn upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new()
        .name("secure-metrics-upkeep".to_owned())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_EVERY);
                handle.run_upkeep();
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(target: "secure::metrics", error = %e, "histogram upkeep not started");
    }
}

impl Metrics {
    /// Every metric in the Prometheus text format.
    pub fn render(&self) -> String {
        self.0.render()
    }
}

/// The Prometheus text exposition (`text/plain; version=0.0.4`): a `/metrics` handler
/// returns it.
impl axum::response::IntoResponse for Metrics {
    fn into_response(self) -> axum::response::Response {
        (
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            self.render(),
        )
            .into_response()
    }
}

/// `?` in a `/metrics` handler: another recorder holds the process's facade, a server fault
/// (500, logged; the body says nothing).
impl From<RecorderTaken> for crate::error::ApiError {
    fn from(taken: RecorderTaken) -> Self {
        crate::error::ApiError::Internal(Box::new(taken))
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

/// The route template of the request being served (`-` outside one).
fn route() -> String {
    crate::audit::current().map_or_else(|| "-".to_owned(), |c| c.route().to_owned())
}

pub(crate) fn input_rejected(extractor: &'static str, status: u16) {
    metrics::counter!(
        INPUT_REJECTED,
        "route" => route(),
        "extractor" => extractor,
        "status" => status.to_string(),
    )
    .increment(1);
}

pub(crate) fn rate_limited(limit: &'static str, key: &'static str) {
    metrics::counter!(RATE_LIMITED, "route" => route(), "limit" => limit, "key" => key)
        .increment(1);
}

pub(crate) fn store_call(
    store: &'static str,
    operation: &'static str,
    took: std::time::Duration,
    ok: bool,
) {
    metrics::histogram!(STORE_DURATION, "store" => store, "operation" => operation)
        .record(took.as_secs_f64());
    if !ok {
        metrics::counter!(STORE_ERRORS, "store" => store, "operation" => operation).increment(1);
    }
}

pub(crate) fn password_hash(operation: &'static str, took: std::time::Duration) {
    metrics::histogram!(PASSWORD_HASH_DURATION, "operation" => operation)
        .record(took.as_secs_f64());
}

pub(crate) fn password_hash_wait(took: std::time::Duration) {
    metrics::histogram!(PASSWORD_HASH_WAIT).record(took.as_secs_f64());
}

pub(crate) fn sign_in(outcome: &'static str, took: std::time::Duration) {
    metrics::histogram!(SIGN_IN_DURATION, "outcome" => outcome).record(took.as_secs_f64());
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
