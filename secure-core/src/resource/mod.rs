//! Object-level authorisation by construction (OWASP API1:2023, ASVS 4.0.3 4.2.1): with a
//! declared [`Resource`], a handler reaches one of its rows only through [`Authorized`] (one
//! row, by the id in the path) or [`AuthorizedList`] (a page of rows), and both load through
//! a scoped query that always carries the access predicate: ownership by default, or the
//! [`Resource::scope`] the app wrote. A missing row and another user's row answer the same
//! 404 (a 403 would confirm that the row exists), with an `authz.object` audit event.
//!
//! The SQL is composed from the resource's `'static` names and the rule's `'static`
//! predicate; request data (the id, the caller) is only ever bound. `$n` placeholders, so the
//! same text runs on SQLite and PostgreSQL.
//!
//! What this does not stop: a raw `sqlx::query` on the resource's table elsewhere in the app.
//! Reviewers find those with `grep -rn "FROM notes\|UPDATE notes\|DELETE FROM notes"`, and
//! the policy table's OBJECT column lists the routes that go through a check.

use std::fmt;
use std::marker::PhantomData;

use axum::extract::{FromRef, FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::audit::{self, Outcome};
use crate::auth::Identity;
use crate::error::{ApiError, Problem};
use crate::policy::{Caller, ObjectAccess, SecureInput};

mod db;

pub use db::{Database, ResourceRow};

/// The most rows one page of a scoped list returns.
pub const MAX_PAGE: u32 = 100;

/// A table whose rows belong to someone: the names the scoped queries are made of, the id's
/// format, and who may do what.
///
/// Every name is a `'static` SQL identifier written by the app (never request data).
pub trait Resource: ResourceRow + Sized + Send + Sync + 'static {
    /// Its name in the policy table and audit events: `Note`.
    const NAME: &'static str;
    /// The table: `notes`.
    const TABLE: &'static str;
    /// The id column: `id`.
    const ID: &'static str;
    /// The owner column, compared with the caller's subject: `owner_id`.
    const OWNER: &'static str;
    /// The columns a row is read from: `id, title, body, created_at`.
    const COLUMNS: &'static str;
    /// A list's order, ending in a unique column so pages are stable: `created_at, id`.
    const ORDER: &'static str;
    /// The path parameter holding the id: `id` (as in `/notes/{id}`).
    const PATH_PARAM: &'static str = "id";
    /// Rows per page of a list, at most [`MAX_PAGE`].
    const PAGE: u32 = MAX_PAGE;

    /// Whether `id` has the id's format (checked before any query).
    fn valid_id(id: &str) -> bool;

    /// Which rows `caller` may act on: ownership unless the app says otherwise (an admin
    /// reading every row, notes shared with named users).
    fn scope(caller: &Identity, action: ActionKind) -> Scope {
        let _ = (caller, action);
        Scope::Owner
    }
}

/// What a handler does with a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Reading it.
    Read,
    /// Changing or deleting it.
    Write,
}

impl ActionKind {
    /// `read`, `write`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ActionKind::Read => "read",
            ActionKind::Write => "write",
        }
    }
}

/// An action as a type: `Authorized<Note, Read>`, `Authorized<Note, Write>`.
pub trait Action: Send + Sync + 'static {
    /// The action's value.
    const KIND: ActionKind;
}

/// Reading a row.
#[derive(Debug, Clone, Copy)]
pub struct Read;
/// Changing or deleting a row.
#[derive(Debug, Clone, Copy)]
pub struct Write;

impl Action for Read {
    const KIND: ActionKind = ActionKind::Read;
}
impl Action for Write {
    const KIND: ActionKind = ActionKind::Write;
}

/// The rows a caller may act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Rows whose owner column is the caller's subject.
    Owner,
    /// Every row (an administrator).
    All,
    /// Rows matching this `'static` predicate, in which `$subject` stands for the caller's
    /// subject (bound, never spliced): `owner_id = $subject OR id IN (SELECT note_id FROM
    /// shares WHERE user_id = $subject)`.
    Where(&'static str),
    /// No row: the action is refused to this caller.
    Nothing,
}

impl Scope {
    /// The predicate, with the subject as `$n`; `None` for [`Scope::Nothing`].
    fn predicate<R: Resource>(self, n: usize) -> Option<String> {
        let subject = format!("${n}");
        match self {
            Scope::Owner => Some(format!("{} = {subject}", R::OWNER)),
            Scope::All => Some(format!("({subject} IS NOT NULL)")),
            Scope::Where(text) => Some(format!("({})", text.replace("$subject", &subject))),
            Scope::Nothing => None,
        }
    }
}

/// A row's id as it came in the path, in the id's format. No constructor from request data
/// but that parse; `Debug` shows its resource, never the value.
pub struct Id<R> {
    value: String,
    resource: PhantomData<fn() -> R>,
}

impl<R: Resource> Id<R> {
    /// The id, when `segment` has the id's format.
    pub fn parse(segment: &str) -> Option<Self> {
        R::valid_id(segment).then(|| Id {
            value: segment.to_owned(),
            resource: PhantomData,
        })
    }

    fn as_str(&self) -> &str {
        &self.value
    }
}

impl<R: Resource> fmt::Debug for Id<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id<{}>(..)", R::NAME)
    }
}

/// One row the caller may act on with `A`: loaded through the scoped query, by the id in the
/// path. Missing and not permitted are the same 404.
pub struct Authorized<R, A = Read> {
    row: R,
    id: Id<R>,
    subject: String,
    action: PhantomData<fn() -> A>,
}

impl<R: Resource + fmt::Debug, A: Action> fmt::Debug for Authorized<R, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorized")
            .field("action", &A::KIND)
            .field("row", &self.row)
            .finish_non_exhaustive()
    }
}

impl<R, A> std::ops::Deref for Authorized<R, A> {
    type Target = R;

    fn deref(&self) -> &R {
        &self.row
    }
}

impl<R: Resource, A: Action> Authorized<R, A> {
    /// The row.
    pub fn into_inner(self) -> R {
        self.row
    }

    /// Loads the row `id` names if `caller` may act on it with `A`; the extractor does this.
    pub async fn load(db: &Database, caller: &Identity, id: &str) -> Result<Self, ApiError> {
        let Some(id) = Id::<R>::parse(id) else {
            return Err(refuse::<R>(A::KIND, &caller.subject, "malformed_id"));
        };
        let Some(predicate) = R::scope(caller, A::KIND).predicate::<R>(2) else {
            return Err(refuse::<R>(A::KIND, &caller.subject, "not_permitted"));
        };
        let sql = format!(
            "SELECT {} FROM {} WHERE {} = $1 AND {predicate}",
            R::COLUMNS,
            R::TABLE,
            R::ID
        );
        match db
            .fetch_optional::<R>(&sql, id.as_str(), &caller.subject)
            .await
        {
            Ok(Some(row)) => Ok(Authorized {
                row,
                id,
                subject: caller.subject.clone(),
                action: PhantomData,
            }),
            Ok(None) => Err(refuse::<R>(
                A::KIND,
                &caller.subject,
                "not_found_or_not_permitted",
            )),
            Err(e) => Err(ApiError::internal(e)),
        }
    }
}

impl<R: Resource> Authorized<R, Write> {
    /// Deletes the row, through the same scope it was loaded through (a row whose owner
    /// changed in between is not deleted: `Ok(false)`).
    pub async fn delete(self, db: &Database) -> Result<bool, ApiError> {
        let caller = Identity::new(self.subject.clone(), 0);
        let Some(predicate) = R::scope(&caller, ActionKind::Write).predicate::<R>(2) else {
            return Ok(false);
        };
        let sql = format!(
            "DELETE FROM {} WHERE {} = $1 AND {predicate}",
            R::TABLE,
            R::ID
        );
        db.execute(&sql, self.id.as_str(), &self.subject)
            .await
            .map(|n| n > 0)
            .map_err(ApiError::internal)
    }
}

impl<R: Resource, A: Action> SecureInput for Authorized<R, A> {
    const OBJECT: Option<ObjectAccess> = Some(ObjectAccess {
        resource: R::NAME,
        action: A::KIND.as_str(),
    });
}

impl<R: Resource> SecureInput for AuthorizedList<R> {
    const OBJECT: Option<ObjectAccess> = Some(ObjectAccess {
        resource: R::NAME,
        action: "list",
    });
}

/// The 404 of a refused or missing row, audited.
fn refuse<R: Resource>(action: ActionKind, subject: &str, reason: &'static str) -> ApiError {
    audit::emit("authz.object", Outcome::Denied, Some(subject), reason);
    tracing::debug!(target: "secure::resource", resource = R::NAME, action = action.as_str(), "object refused");
    ApiError::NotFound
}

impl<R, A, S> FromRequestParts<S> for Authorized<R, A>
where
    R: Resource,
    A: Action,
    Database: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let caller = caller(parts)?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound.into_response())?;
        let id = params
            .iter()
            .find(|(name, _)| *name == R::PATH_PARAM)
            .map(|(_, value)| value.to_owned());
        let Some(id) = id else {
            // A route without the parameter: a wiring mistake, not the client's.
            tracing::error!(target: "secure::resource", resource = R::NAME, param = R::PATH_PARAM, "route has no such path parameter");
            return Err(Problem::internal().into_response());
        };
        let db = Database::from_ref(state);
        Self::load(&db, &caller.identity, &id)
            .await
            .map_err(IntoResponse::into_response)
    }
}

/// The caller the stack put in the request for routes that take resources.
// The error is the response to send.
#[allow(clippy::result_large_err)]
fn caller(parts: &Parts) -> Result<Caller, Response> {
    parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
        tracing::error!(target: "secure::resource", "Authorized on a route without an authenticated caller");
        Problem::internal().into_response()
    })
}

/// A page of the rows the caller may read, in the resource's order: `?page=N` (from 0), at
/// most [`Resource::PAGE`] rows.
pub struct AuthorizedList<R> {
    rows: Vec<R>,
}

impl<R: fmt::Debug> fmt::Debug for AuthorizedList<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizedList")
            .field("rows", &self.rows)
            .finish()
    }
}

impl<R> AuthorizedList<R> {
    /// The rows.
    pub fn into_inner(self) -> Vec<R> {
        self.rows
    }
}

impl<R> std::ops::Deref for AuthorizedList<R> {
    type Target = [R];

    fn deref(&self) -> &[R] {
        &self.rows
    }
}

impl<R: Resource> AuthorizedList<R> {
    /// Page `page` (from 0) of the rows `caller` may read.
    pub async fn load(db: &Database, caller: &Identity, page: u32) -> Result<Self, ApiError> {
        let Some(predicate) = R::scope(caller, ActionKind::Read).predicate::<R>(1) else {
            return Ok(AuthorizedList { rows: Vec::new() });
        };
        let size = R::PAGE.clamp(1, MAX_PAGE);
        let offset = u64::from(page) * u64::from(size);
        let sql = format!(
            "SELECT {} FROM {} WHERE {predicate} ORDER BY {} LIMIT {size} OFFSET {offset}",
            R::COLUMNS,
            R::TABLE,
            R::ORDER
        );
        db.fetch_all::<R>(&sql, &caller.subject)
            .await
            .map(|rows| AuthorizedList { rows })
            .map_err(ApiError::internal)
    }
}

impl<R, S> FromRequestParts<S> for AuthorizedList<R>
where
    R: Resource,
    Database: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let caller = caller(parts)?;
        let page = page(parts.uri.query()).ok_or_else(|| {
            Problem::new(
                axum::http::StatusCode::BAD_REQUEST,
                "`page` must be a whole number from 0.",
            )
            .into_response()
        })?;
        let db = Database::from_ref(state);
        Self::load(&db, &caller.identity, page)
            .await
            .map_err(IntoResponse::into_response)
    }
}

/// `page` of a query string: 0 when absent; `None` when malformed or given twice.
fn page(query: Option<&str>) -> Option<u32> {
    let mut found = None;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if name == "page" {
            if found.is_some() || value.is_empty() || value.len() > 9 {
                return None;
            }
            found = Some(value.parse::<u32>().ok()?);
        }
    }
    Some(found.unwrap_or(0))
}

#[cfg(test)]
mod tests;
