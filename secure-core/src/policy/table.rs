//! The route policy table: every method, path and policy of a router, for reviewers.

use std::fmt;

use serde::Serialize;

use super::route::RoutePolicy;

/// One row: a method and path and what protects it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteEntry {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The route template, such as `/notes/{id}`.
    pub path: String,
    /// What the handler declared.
    pub policy: RoutePolicy,
}

/// Every route of a [`SecureRouter`](super::SecureRouter), sorted by path then method.
///
/// `Display` renders an aligned text table (printed by services at start-up); `Serialize`
/// renders JSON for tooling.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct PolicyTable {
    entries: Vec<RouteEntry>,
}

impl PolicyTable {
    pub(crate) fn new(mut entries: Vec<RouteEntry>) -> Self {
        entries.sort_by(|a, b| a.path.cmp(&b.path).then_with(|| a.method.cmp(&b.method)));
        PolicyTable { entries }
    }

    /// The rows.
    pub fn entries(&self) -> &[RouteEntry] {
        &self.entries
    }

    /// The table as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "[]".to_owned())
    }
}

fn limit_text(p: &RoutePolicy) -> String {
    p.rate_limit
        .map_or_else(|| "-".to_owned(), |limit| limit.to_string())
}

impl fmt::Display for PolicyTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header = [
            "METHOD",
            "PATH",
            "ACCESS",
            "OBJECT",
            "RATE LIMIT",
            "BODY",
            "AUDIT",
            "HANDLER",
            "READS",
            "UNVALIDATED",
        ];
        let rows: Vec<[String; 10]> = self
            .entries
            .iter()
            .map(|e| {
                let p = &e.policy;
                [
                    e.method.clone(),
                    e.path.clone(),
                    p.access_summary(),
                    if p.objects.is_empty() {
                        "-".to_owned()
                    } else {
                        p.objects
                            .iter()
                            .map(|o| format!("{}: {}", o.resource, o.action))
                            .collect::<Vec<_>>()
                            .join(", ")
                    },
                    limit_text(p),
                    p.body_limit
                        .map_or_else(|| "default".to_owned(), |b| format!("{b} B")),
                    p.audit.unwrap_or("-").to_owned(),
                    p.handler.to_owned(),
                    if p.reads.is_empty() {
                        "-".to_owned()
                    } else {
                        p.reads
                            .iter()
                            .map(|r| format!("{}: {}", r.table, r.reason))
                            .collect::<Vec<_>>()
                            .join("; ")
                    },
                    if p.unvalidated.is_empty() {
                        "-".to_owned()
                    } else {
                        p.unvalidated
                            .iter()
                            .map(|u| format!("{}: {}", u.param, u.reason))
                            .collect::<Vec<_>>()
                            .join("; ")
                    },
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |f: &mut fmt::Formatter<'_>, cells: &[&str]| -> fmt::Result {
            let last = cells.len() - 1;
            for (i, cell) in cells.iter().enumerate() {
                if i == last {
                    writeln!(f, "{cell}")?;
                } else {
                    write!(f, "{cell:<width$}  ", width = widths[i])?;
                }
            }
            Ok(())
        };
        line(f, &header)?;
        for row in &rows {
            line(f, &row.iter().map(String::as_str).collect::<Vec<_>>())?;
        }
        Ok(())
    }
}
