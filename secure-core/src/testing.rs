//! A cross-user test kit for object-level authorisation (feature `testing`): with a row that
//! one user owns, it calls every route of the policy table that names a row by path as a
//! second user, and reports each route it tried.
//!
//! ```no_run
//! # async fn demo(app: secure_core::policy::SecureApp, alice: &str, bob: &str) {
//! use secure_core::testing::CrossUser;
//!
//! CrossUser::new(&app, alice, bob)
//!     .create("Note", "/notes", r#"{"title": "t", "body": "b"}"#)
//!     .await
//!     .run()
//!     .await
//!     .assert_no_leaks();
//! # }
//! ```
//!
//! A row made otherwise is given by id: `.row("Note", &id)`.
//!
//! What each route must answer the second user:
//! - a route that loads the row through `Authorized<..>` (the OBJECT column): 404, or the
//!   same refusal as for a row that does not exist (a role the second user lacks);
//! - any other `auth` route with a parameter in its path (such as a handler that queries by
//!   the id alone, declared `unvalidated(..)`): no 2xx;
//! - a list (`AuthorizedList<..>`): a body without the row's id, while the owner's list holds
//!   it (the control that shows the probe could have failed), and no 2xx for the list after
//!   that row (`?after=<id>`: the row must not position the second user's list).
//!
//! `GET` routes are called as the owner first, as that control: a probe that the owner would
//! not pass either proves nothing, and is reported as such (a route the owner may not call at
//! all, 401 or 403, is reported as skipped).

use std::fmt;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use tower::ServiceExt;

use crate::policy::SecureApp;
use crate::policy::{Access, RouteEntry};

/// An id no row has, for the answer a route gives a row that does not exist.
const GHOST_ID: &str = "no-such-row-0000000000";

/// The kit: an app, the owner's and the other user's bearer tokens, and the rows to probe.
#[derive(Debug)]
pub struct CrossUser<'a> {
    app: &'a SecureApp,
    owner: String,
    other: String,
    rows: Vec<(&'static str, String)>,
    skipped: Vec<(String, &'static str)>,
}

/// What the kit found on one route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The other user was refused as the route's kind requires.
    Refused,
    /// The other user reached the owner's row.
    Leak,
    /// The owner's control request failed too, so the probe proves nothing.
    NoControl,
    /// Not probed, for the reason given.
    Skipped(&'static str),
}

/// One route the kit tried.
#[derive(Debug, Clone)]
pub struct Probe {
    /// `GET /notes/{id}`.
    pub route: String,
    /// What the owner's control request answered, when one was made.
    pub control: Option<StatusCode>,
    /// What the other user got.
    pub other: Option<StatusCode>,
    /// The finding.
    pub verdict: Verdict,
}

/// Every route the kit tried, in the policy table's order.
#[derive(Debug, Clone)]
pub struct Report {
    /// The probes.
    pub probes: Vec<Probe>,
}

impl<'a> CrossUser<'a> {
    /// `owner` and `other` are access tokens of two users (sent as `Bearer`).
    pub fn new(app: &'a SecureApp, owner: &str, other: &str) -> Self {
        CrossUser {
            app,
            owner: format!("Bearer {owner}"),
            other: format!("Bearer {other}"),
            rows: Vec::new(),
            skipped: Vec::new(),
        }
    }

    /// A row of `resource` (its `Resource::NAME`) that the owner holds, by id.
    pub fn row(mut self, resource: &'static str, id: &str) -> Self {
        self.rows.push((resource, id.to_owned()));
        self
    }

    /// Creates a row of `resource` as the owner: `POST path` with the JSON `body`, the new
    /// row's id read from the answer's `id` member. Panics when the owner cannot create it,
    /// as a test step that fails.
    pub fn create(
        mut self,
        resource: &'static str,
        path: &str,
        body: &str,
    ) -> impl Future<Output = Self> + use<'a> {
        let (path, body) = (path.to_owned(), body.to_owned());
        async move {
            let (status, answer) = self.send(&Method::POST, &path, &self.owner, &body).await;
            let id = serde_json::from_str::<serde_json::Value>(&answer)
                .ok()
                .and_then(|v| v.get("id").and_then(|id| id.as_str().map(str::to_owned)));
            match (status.is_success(), id) {
                (true, Some(id)) => self.rows.push((resource, id)),
                _ => panic!(
                    "the owner could not create a {resource} with POST {path}: {status} {answer}"
                ),
            }
            self
        }
    }

    /// Leaves `route` (`GET /users/{name}`) out, with the reason (reported).
    pub fn skip(mut self, route: &str, reason: &'static str) -> Self {
        self.skipped.push((route.to_owned(), reason));
        self
    }

    /// Probes every route of the table that names a row by path, and every list.
    pub async fn run(&self) -> Report {
        let mut probes = Vec::new();
        for entry in self.app.policies().entries() {
            if let Some(probe) = self.probe(entry).await {
                probes.push(probe);
            }
        }
        Report { probes }
    }

    async fn probe(&self, entry: &RouteEntry) -> Option<Probe> {
        let route = format!("{} {}", entry.method, entry.path);
        let policy = &entry.policy;
        let lists = policy.objects.iter().any(|o| o.action == "list");
        let by_path = entry.path.contains('{');
        if !matches!(policy.access, Access::Auth { .. }) || !(by_path || lists) {
            return None;
        }
        if let Some((_, reason)) = self.skipped.iter().find(|(r, _)| *r == route) {
            return Some(Probe {
                route,
                control: None,
                other: None,
                verdict: Verdict::Skipped(reason),
            });
        }
        let resource = policy.objects.first().map(|o| o.resource);
        let id = match resource {
            Some(name) => self.rows.iter().find(|(r, _)| *r == name),
            None => self.rows.first(),
        };
        let Some((_, id)) = id else {
            return Some(Probe {
                route,
                control: None,
                other: None,
                verdict: Verdict::Skipped("no row of its resource was given"),
            });
        };
        let method = Method::from_bytes(entry.method.as_bytes()).unwrap_or(Method::GET);
        let path = fill(&entry.path, id);
        let control = if method == Method::GET {
            Some(self.send(&method, &path, &self.owner, "{}").await)
        } else {
            None
        };
        if let Some((owner, _)) = &control
            && matches!(*owner, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
        {
            // A route the owner may not call (another role, a second factor): nothing to
            // compare the other user's answer with.
            return Some(Probe {
                route,
                control: Some(*owner),
                other: None,
                verdict: Verdict::Skipped("the owner may not call it (a role or a second factor)"),
            });
        }
        let (status, body) = self.send(&method, &path, &self.other, "{}").await;
        let control_passed = match &control {
            None => true,
            Some((owner, owner_body)) if lists => {
                owner.is_success() && owner_body.contains(id.as_str())
            }
            Some((owner, _)) => owner.is_success(),
        };
        let verdict = if !control_passed {
            Verdict::NoControl
        } else if lists {
            // Nor may the row position the second user's list (`?after=`): that would say it
            // exists, and where it stands in the order.
            let after = format!("{path}?after={id}");
            let (positioned, _) = self.send(&method, &after, &self.other, "{}").await;
            if body.contains(id.as_str()) || positioned.is_success() {
                Verdict::Leak
            } else {
                Verdict::Refused
            }
        } else if !policy.objects.is_empty() {
            // The answer for a row that does not exist, and nothing else: a 403 for this row
            // alone would confirm that it exists. (A 403 the route gives every id, for a role
            // the second user lacks, says nothing about the row.)
            let ghost = fill(&entry.path, GHOST_ID);
            let (absent, _) = self.send(&method, &ghost, &self.other, "{}").await;
            if status == StatusCode::NOT_FOUND || (status == absent && !status.is_success()) {
                Verdict::Refused
            } else {
                Verdict::Leak
            }
        } else if status.is_success() {
            Verdict::Leak
        } else {
            Verdict::Refused
        };
        Some(Probe {
            route,
            control: control.map(|(s, _)| s),
            other: Some(status),
            verdict,
        })
    }

    /// One request; `json` is the body of a `POST`, `PUT` or `PATCH`.
    async fn send(
        &self,
        method: &Method,
        path: &str,
        bearer: &str,
        json: &str,
    ) -> (StatusCode, String) {
        let mut request = Request::builder()
            .method(method.clone())
            .uri(path)
            .header(header::AUTHORIZATION, bearer);
        let body = if matches!(*method, Method::POST | Method::PUT | Method::PATCH) {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(json.to_owned())
        } else {
            Body::empty()
        };
        let Ok(request) = request.body(body) else {
            return (StatusCode::BAD_REQUEST, String::new());
        };
        let Ok(response) = self.app.clone().oneshot(request).await;
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap_or_default();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// The path with every `{param}` replaced by `id`.
fn fill(template: &str, id: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        match rest[start..].find('}') {
            Some(end) => {
                out.push_str(id);
                rest = &rest[start + end + 1..];
            }
            None => {
                rest = &rest[start..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

impl Report {
    /// The probes that found a leak, or that proved nothing.
    pub fn failures(&self) -> Vec<&Probe> {
        self.probes
            .iter()
            .filter(|p| matches!(p.verdict, Verdict::Leak | Verdict::NoControl))
            .collect()
    }

    /// Panics with the report when a probe found a leak or proved nothing, or when nothing
    /// was probed at all.
    #[track_caller]
    pub fn assert_no_leaks(&self) {
        let probed = self.probes.iter().any(|p| p.verdict == Verdict::Refused);
        assert!(
            probed && self.failures().is_empty(),
            "cross-user probes failed:\n{self}"
        );
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.probes.is_empty() {
            return writeln!(f, "no route names a row by path or lists rows");
        }
        for p in &self.probes {
            let status = |s: Option<StatusCode>| {
                s.map_or_else(|| "-".to_owned(), |s| s.as_u16().to_string())
            };
            let verdict = match &p.verdict {
                Verdict::Refused => "refused".to_owned(),
                Verdict::Leak => "LEAK".to_owned(),
                Verdict::NoControl => "NO CONTROL (the owner was refused too)".to_owned(),
                Verdict::Skipped(reason) => format!("skipped: {reason}"),
            };
            writeln!(
                f,
                "{:<32} owner {:>3}  other {:>3}  {verdict}",
                p.route,
                status(p.control),
                status(p.other)
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::fill;

    #[test]
    fn paths_are_filled_with_the_id() {
        assert_eq!(fill("/notes/{id}", "n1"), "/notes/n1");
        assert_eq!(fill("/a/{x}/b/{y}", "n1"), "/a/n1/b/n1");
        assert_eq!(fill("/notes", "n1"), "/notes");
        assert_eq!(fill("/broken/{id", "n1"), "/broken/{id");
    }
}
