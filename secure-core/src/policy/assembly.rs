//! The wiring checks run when routes become an app: what a route needs that the
//! configuration lacks, and SQL that would skip the object check. Each failure names the
//! route and the fix ([`AssemblyError`]).

use super::route::Access;
use super::table::RouteEntry;
use crate::error::AssemblyError;

/// The first of `tables` that `sql` reads or changes (`FROM t`, `JOIN t`, `UPDATE t`); an
/// `INSERT INTO t` alone creates a row and is not a read.
fn touched_table<'t>(sql: &str, tables: &[&'t str]) -> Option<&'t str> {
    let words: Vec<String> = sql
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    words.windows(2).find_map(|pair| {
        let reads = matches!(pair[0].as_str(), "from" | "join" | "update");
        reads
            .then(|| {
                tables
                    .iter()
                    .find(|t| t.eq_ignore_ascii_case(&pair[1]))
                    .copied()
            })
            .flatten()
    })
}

/// The wiring checks of [`SecureRouter::into_app`](super::SecureRouter::into_app): the
/// routes' declared facts against each other and against the configuration.
pub(super) fn check(entries: &[&RouteEntry], has_authenticator: bool) -> Result<(), AssemblyError> {
    let row = |e: &RouteEntry| format!("{} {}", e.method, e.path);
    if !has_authenticator {
        let routes: Vec<String> = entries
            .iter()
            .filter(|e| matches!(e.policy.access, Access::Auth { .. }))
            .map(|e| row(e))
            .collect();
        if !routes.is_empty() {
            return Err(AssemblyError::NoAuthenticator { routes });
        }
    }
    let tables: Vec<&str> = entries
        .iter()
        .flat_map(|e| e.policy.objects.iter().map(|o| o.table))
        .collect();
    for entry in entries {
        // A route that declares raw input says why in the table; its SQL is the reviewer's.
        if !entry.policy.unvalidated.is_empty() {
            continue;
        }
        // Tables the route declared it reads (`reads(..)`), with a reason in the table.
        let undeclared: Vec<&str> = tables
            .iter()
            .copied()
            .filter(|t| {
                !entry
                    .policy
                    .reads
                    .iter()
                    .any(|r| r.table.eq_ignore_ascii_case(t))
            })
            .collect();
        if let Some(table) = entry
            .policy
            .sql
            .iter()
            .find_map(|sql| touched_table(sql, &undeclared))
        {
            return Err(AssemblyError::UncheckedObjectQuery {
                route: row(entry),
                table: table.to_owned(),
            });
        }
    }
    for entry in entries {
        if let Access::Unprotected { reason } = entry.policy.access
            && reason.trim().chars().count() < 10
        {
            return Err(AssemblyError::UnprotectedWithoutReason { route: row(entry) });
        }
    }
    Ok(())
}
