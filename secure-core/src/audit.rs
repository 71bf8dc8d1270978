//! Security events on `tracing`, target `security::audit` (OWASP ASVS 7.1, 7.2: log security
//! relevant events, never secrets; ASVS 7.3.1: encode log output against injection).
//!
//! Every event has the same fixed fields, so a log pipeline can alert on them:
//! `event` (such as `auth.login`), `outcome` (`success`, `failure`, `denied`), `subject` (the
//! user id, or `anonymous`), `reason` (a fixed code such as `bad_password`), and the request's
//! `client_ip`, `method`, `route` (the template, `/notes/{id}`, never the raw path) and
//! `request_id` (`-` outside a request served by `SecureRouter::into_app`). Control
//! characters in any field (CR, LF, ...) are escaped, so a subject cannot forge a second log
//! line.
//!
//! ```
//! use secure_core::audit::{self, Outcome};
//!
//! audit::emit("auth.login", Outcome::Failure, Some("user-42"), "bad_password");
//! ```

use std::borrow::Cow;
use std::fmt;

/// The result an audit event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The action was allowed and done.
    Success,
    /// The action failed (wrong password, bad token, ...).
    Failure,
    /// The action was refused by a policy (role, rate limit, CSRF, ...).
    Denied,
}

impl Outcome {
    /// The field value: `success`, `failure` or `denied`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Denied => "denied",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The tracing target of every audit event.
pub const TARGET: &str = "security::audit";

/// What audit events record about the request they happen in. Made once per request from
/// values it already holds (cheap clones: no text is formatted until an event is emitted).
#[derive(Debug, Clone)]
pub struct RequestContext {
    request_id: axum::http::HeaderValue,
    method: axum::http::Method,
    route: Option<axum::extract::MatchedPath>,
    client_ip: Option<std::net::IpAddr>,
}

impl RequestContext {
    /// The context of one request: its id (printable ASCII: a well-formed `X-Request-Id` or
    /// a generated one), method, route template if it matched one, and client address if
    /// known.
    pub fn new(
        request_id: axum::http::HeaderValue,
        method: axum::http::Method,
        route: Option<axum::extract::MatchedPath>,
        client_ip: Option<std::net::IpAddr>,
    ) -> Self {
        RequestContext {
            request_id,
            method,
            route,
            client_ip,
        }
    }

    /// The request id.
    pub fn request_id(&self) -> &str {
        self.request_id.to_str().unwrap_or("-")
    }

    /// The method.
    pub fn method(&self) -> &str {
        self.method.as_str()
    }

    /// The route template (`/notes/{id}`), never the raw path; `-` when none matched.
    pub fn route(&self) -> &str {
        self.route.as_ref().map_or("-", |r| r.as_str())
    }

    /// The client's address, if known.
    pub fn client_ip(&self) -> Option<std::net::IpAddr> {
        self.client_ip
    }
}

tokio::task_local! {
    static CONTEXT: RequestContext;
}

/// The context of the request being served on this task, if any.
pub fn current() -> Option<RequestContext> {
    CONTEXT.try_with(Clone::clone).ok()
}

/// `fut` run with a request context as the current one.
#[cfg(feature = "edge")]
pub(crate) type Scoped<F> = tokio::task::futures::TaskLocalFuture<RequestContext, F>;

/// Runs `fut` with `context` as the current request context (the request-context layer does).
#[cfg(feature = "edge")]
pub(crate) fn scoped<F: std::future::Future>(context: RequestContext, fut: F) -> Scoped<F> {
    CONTEXT.scope(context, fut)
}

/// Runs `f` with `context` as the current request context: for work moved off the request's
/// task (`spawn_blocking`), so its audit events keep the request's fields.
#[cfg(feature = "identity")]
pub(crate) fn with_context<R>(context: Option<RequestContext>, f: impl FnOnce() -> R) -> R {
    match context {
        Some(context) => CONTEXT.sync_scope(context, f),
        None => f(),
    }
}

/// Emits one audit event. `subject` is an identifier (never a credential); `None` is logged
/// as `anonymous`. `reason` is a fixed code chosen by the caller, not user input.
pub fn emit(event: &'static str, outcome: Outcome, subject: Option<&str>, reason: &'static str) {
    let subject = escape_control(subject.unwrap_or("anonymous"));
    let context = current();
    let field = |f: fn(&RequestContext) -> &str| -> String {
        context
            .as_ref()
            .map_or_else(|| "-".to_owned(), |c| escape_control(f(c)).into_owned())
    };
    let (method, route, request_id) = (
        field(RequestContext::method),
        field(RequestContext::route),
        field(RequestContext::request_id),
    );
    let client_ip = match &context {
        None => "-".to_owned(),
        Some(c) => c
            .client_ip()
            .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string()),
    };
    #[cfg(feature = "metrics")]
    crate::metrics::security_events(event, outcome.as_str(), reason, route.clone(), 1);
    match outcome {
        Outcome::Success => tracing::info!(
            target: "security::audit",
            event,
            outcome = outcome.as_str(),
            subject = %subject,
            reason,
            client_ip = %client_ip,
            method = %method,
            route = %route,
            request_id = %request_id,
        ),
        Outcome::Failure | Outcome::Denied => tracing::warn!(
            target: "security::audit",
            event,
            outcome = outcome.as_str(),
            subject = %subject,
            reason,
            client_ip = %client_ip,
            method = %method,
            route = %route,
            request_id = %request_id,
        ),
    }
}

/// Emits one event that stands for `count` alike, outside any request (connections refused
/// before a request exists): the same fields as [`emit`], plus `count`; `client_ip` is the
/// address with the most of them. Floods are logged as one line per interval, not one per
/// event.
#[cfg(feature = "edge")]
pub(crate) fn emit_summary(
    event: &'static str,
    outcome: Outcome,
    reason: &'static str,
    count: u64,
    client_ip: Option<std::net::IpAddr>,
) {
    let client_ip = client_ip.map_or_else(|| "-".to_owned(), |ip| ip.to_string());
    #[cfg(feature = "metrics")]
    crate::metrics::security_events(event, outcome.as_str(), reason, "-".to_owned(), count);
    match outcome {
        Outcome::Success => tracing::info!(
            target: "security::audit",
            event,
            outcome = outcome.as_str(),
            subject = "anonymous",
            reason,
            client_ip = %client_ip,
            method = "-",
            route = "-",
            request_id = "-",
            count,
        ),
        Outcome::Failure | Outcome::Denied => tracing::warn!(
            target: "security::audit",
            event,
            outcome = outcome.as_str(),
            subject = "anonymous",
            reason,
            client_ip = %client_ip,
            method = "-",
            route = "-",
            request_id = "-",
            count,
        ),
    }
}

/// Escapes control characters (`\n` -> `\u{a}`) so a field cannot start a new log line or
/// hide text from a terminal. Returns the input untouched when there is nothing to escape.
pub fn escape_control(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_line_breaks_and_other_controls() {
        assert_eq!(escape_control("alice"), "alice");
        assert_eq!(
            escape_control("alice\r\nevent=auth.login outcome=success"),
            "alice\\u{d}\\u{a}event=auth.login outcome=success"
        );
        assert_eq!(escape_control("\u{1b}[31mred"), "\\u{1b}[31mred");
    }
}
