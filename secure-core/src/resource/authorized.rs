//! The extractors: one row by the id in the path, or a page of rows, through the scope.

use std::fmt;
use std::marker::PhantomData;

use axum::extract::{FromRef, FromRequestParts, Query, RawPathParams};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::statements::{Kind, statement};
use super::{Action, ActionKind, Changes, Id, MAX_PAGE, Read, Resource, Scope, Write};
use crate::audit::{self, Outcome};
use crate::auth::Caller;
use crate::auth::Identity;
use crate::error::{ApiError, Problem};
use crate::policy::{ObjectAccess, SecureInput};
use crate::sql::Database;
use crate::validate::{FieldPath, Valid, Validate, ValidationErrors};

/// One row the caller may act on with `A`: loaded through the scoped query, by the id in the
/// path. Missing and not permitted are the same 404.
pub struct Authorized<R, A = Read> {
    row: R,
    id: Id<R>,
    subject: String,
    /// The caller's scope for `A`, as the row was loaded: writes go through the same one.
    scope: Scope,
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
        let scope = R::scope(caller, A::KIND);
        let Some(sql) = statement::<R>(Kind::Select, scope) else {
            return Err(refuse::<R>(A::KIND, &caller.subject, "not_permitted"));
        };
        match db
            .fetch_optional::<R>(sql, id.as_str(), &caller.subject)
            .await
        {
            Ok(Some(row)) => Ok(Authorized {
                row,
                id,
                subject: caller.subject.clone(),
                scope,
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
    /// Sets the columns of `changes` (`NoteChanges::new().title(..).body(..)`) on the row,
    /// through the scope it was loaded through, and returns the row as stored:
    /// `ApiError::NotFound` when it is no longer in the caller's scope. Nothing set: the row as
    /// loaded, unchanged.
    pub async fn update(self, db: &Database, changes: R::Changes) -> Result<R, ApiError> {
        let changes: Changes = changes.into();
        if changes.is_empty() {
            return Ok(self.row);
        }
        let Some(predicate) = self.scope.predicate::<R>(2) else {
            return Err(ApiError::NotFound);
        };
        let columns = changes.columns();
        // Names come from the resource's fields, checked by its derive; checked again here,
        // as the statement is made of them.
        if columns.iter().any(|(c, _)| !super::identifier(c)) {
            return Err(ApiError::internal(std::io::Error::other(
                "a change set column that is not a plain identifier",
            )));
        }
        let set = columns
            .iter()
            .enumerate()
            .map(|(i, (c, _))| format!("{c} = ${}", i + 3))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "UPDATE {} SET {set} WHERE {} = $1 AND {predicate} RETURNING {}",
            R::TABLE,
            R::ID,
            R::COLUMNS
        );
        match db
            .update_returning::<R>(&sql, self.id.as_str(), &self.subject, columns)
            .await
        {
            Ok(Some(row)) => Ok(row),
            Ok(None) => Err(ApiError::NotFound),
            Err(e) => Err(ApiError::internal(e)),
        }
    }

    /// Deletes the row, through the same scope it was loaded through (a row whose owner
    /// changed in between is not deleted: `Ok(false)`).
    pub async fn delete(self, db: &Database) -> Result<bool, ApiError> {
        let Some(sql) = statement::<R>(Kind::Delete, self.scope) else {
            return Ok(false);
        };
        db.execute(sql, self.id.as_str(), &self.subject)
            .await
            .map(|n| n > 0)
            .map_err(ApiError::internal)
    }
}

impl<R: Resource, A: Action> SecureInput for Authorized<R, A> {
    const OBJECT: Option<ObjectAccess> = Some(ObjectAccess {
        resource: R::NAME,
        action: A::KIND.as_str(),
        table: R::TABLE,
    });
}

impl<R: Resource> SecureInput for AuthorizedList<R> {
    const OBJECT: Option<ObjectAccess> = Some(ObjectAccess {
        resource: R::NAME,
        action: "list",
        table: R::TABLE,
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
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound.into_response())?;
        let caller = caller(parts)?;
        let id = params
            .iter()
            .find(|(name, _)| *name == R::PATH_PARAM)
            .map(|(_, value)| value);
        let Some(id) = id else {
            // A route without the parameter: a wiring mistake, not the client's.
            tracing::error!(target: "secure::resource", resource = R::NAME, param = R::PATH_PARAM, "route has no such path parameter");
            return Err(Problem::internal().into_response());
        };
        let db = Database::from_ref(state);
        Self::load(&db, &caller.identity, id)
            .await
            .map_err(IntoResponse::into_response)
    }
}

/// The caller the stack put in the request for routes that take resources.
// The error is the response to send.
#[allow(clippy::result_large_err)]
fn caller(parts: &Parts) -> Result<&Caller, Response> {
    parts.extensions.get::<Caller>().ok_or_else(|| {
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
        let kind = if page == 0 {
            Kind::List
        } else {
            Kind::ListFrom
        };
        let Some(sql) = statement::<R>(kind, R::scope(caller, ActionKind::Read)) else {
            return Ok(AuthorizedList { rows: Vec::new() });
        };
        let size = R::PAGE.clamp(1, MAX_PAGE);
        let offset = (page > 0).then(|| i64::from(page) * i64::from(size));
        db.fetch_all::<R>(sql, &caller.subject, offset)
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
        // The query string as any `Valid<Query<..>>` reads it: percent-decoded, and a
        // parameter the list does not take (`?owner_id=..`, `?limit=1000`) refused with 422
        // `unknown_field`, as a body's unknown field is.
        let params =
            <Valid<Query<ListParams>> as FromRequestParts<S>>::from_request_parts(parts, state)
                .await
                .map_err(IntoResponse::into_response)?;
        let caller = caller(parts)?;
        let db = Database::from_ref(state);
        Self::load(&db, &caller.identity, params.page)
            .await
            .map_err(IntoResponse::into_response)
    }
}

/// What a list route takes in its query string: the page, from 0.
#[derive(Debug, serde::Deserialize)]
struct ListParams {
    #[serde(default)]
    page: u32,
}

/// Any page number is valid; past the last page is an empty page.
impl Validate for ListParams {
    fn validate_into(&self, _: &FieldPath<'_>, _: &mut ValidationErrors) {}
}
