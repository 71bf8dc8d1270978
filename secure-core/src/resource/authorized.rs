//! The extractors: one row by the id in the path, or a page of rows, through the scope.

use std::any::TypeId;
use std::fmt;
use std::marker::PhantomData;

use axum::extract::{FromRef, FromRequestParts, RawPathParams};
use axum::http::HeaderValue;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::filter::{Filter, NoFilter};
use super::statements::{Kind, ListShape, statement};
use super::{Action, ActionKind, Changes, Id, MAX_PAGE, Read, Resource, Scope, Write};
use crate::audit::{self, Outcome};
use crate::auth::Caller;
use crate::auth::Identity;
use crate::error::{ApiError, Problem};
use crate::extract::from_urlencoded;
use crate::policy::{ObjectAccess, SecureInput};
use crate::sql::{Database, Value};
use crate::validate::{FieldError, ValidationErrors};

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

impl<R: Resource, F> SecureInput for AuthorizedList<R, F> {
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

/// A page of the rows the caller may read, in the resource's order, at most
/// [`Resource::PAGE`] rows, filtered by `F` ([`NoFilter`] unless given): `?page=N` (from 0),
/// or `?after=<id>` for the rows after the row with that id (a keyset page: stable while rows
/// are added and removed, and as fast on the last page as on the first), plus `F`'s
/// parameters. A parameter the list does not take is 422 `unknown_field`; `page` and `after`
/// together, a malformed `after`, or a filter value failing its rules, 422; an `after` row
/// that is missing or not the caller's, 404.
pub struct AuthorizedList<R, F = NoFilter> {
    rows: Vec<R>,
    next: Option<String>,
    /// The filter's parameters as the request gave them (re-encoded), for the next link.
    query: String,
    filter: PhantomData<fn() -> F>,
}

/// Where a page starts.
pub enum PageStart<R> {
    /// Page `n` (from 0) of `PAGE` rows.
    Offset(u32),
    /// After the row with this id.
    After(Id<R>),
}

impl<R: Resource> fmt::Debug for PageStart<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PageStart::Offset(n) => write!(f, "Offset({n})"),
            PageStart::After(id) => write!(f, "After({id:?})"),
        }
    }
}

impl<R: fmt::Debug, F> fmt::Debug for AuthorizedList<R, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizedList")
            .field("rows", &self.rows)
            .field("more", &self.next.is_some())
            .finish()
    }
}

impl<R, F> AuthorizedList<R, F> {
    /// The rows.
    pub fn into_inner(self) -> Vec<R> {
        self.rows
    }

    /// The `after` of the next page (the last row's id) when this page is full, so there
    /// may be more: `None` on the last page.
    pub fn next_after(&self) -> Option<&str> {
        self.next.as_deref()
    }

    /// The `Link` header of the next page (RFC 8288: `<?title=x&after=ID>; rel="next"`,
    /// relative to the request's path, with the request's filter) when there may be one.
    pub fn next_link(&self) -> Option<HeaderValue> {
        let next = self.next.as_deref()?;
        let mut query = url::form_urlencoded::Serializer::new(self.query.clone());
        query.append_pair("after", next);
        // Percent-encoded: nothing a header value refuses.
        HeaderValue::from_str(&format!("<?{}>; rel=\"next\"", query.finish())).ok()
    }
}

impl<R, F> std::ops::Deref for AuthorizedList<R, F> {
    type Target = [R];

    fn deref(&self) -> &[R] {
        &self.rows
    }
}

impl<R: Resource, F: Filter<R>> AuthorizedList<R, F> {
    /// The page of the rows `caller` may read that `filter` keeps, from `start`.
    pub async fn load(
        db: &Database,
        caller: &Identity,
        filter: &F,
        start: &PageStart<R>,
    ) -> Result<Self, ApiError> {
        let scope = R::scope(caller, ActionKind::Read);
        let values = filter.values();
        let mut given = 0u64;
        let mut args = Vec::with_capacity(values.len() + 3);
        args.push(Value::from(caller.subject.as_str()));
        for (i, value) in values.into_iter().enumerate().take(64) {
            if let Some(value) = value {
                given |= 1 << i;
                args.push(value);
            }
        }
        let (after, offset) = match start {
            PageStart::Offset(0) => (None, None),
            PageStart::Offset(page) => {
                let size = R::PAGE.clamp(1, MAX_PAGE);
                (None, Some(i64::from(*page) * i64::from(size)))
            }
            PageStart::After(id) => (Some(id.as_str()), None),
        };
        let shape = ListShape {
            filter: TypeId::of::<F>(),
            columns: F::COLUMNS,
            given,
            after: after.is_some(),
            offset: offset.is_some(),
        };
        let Some(sql) = statement::<R>(Kind::List(shape), scope) else {
            return Ok(AuthorizedList::empty());
        };
        args.extend(after.map(Value::from));
        args.extend(offset.map(Value::from));
        let (rows, last) = db
            .fetch_page::<R>(sql, args, R::ID)
            .await
            .map_err(ApiError::internal)?;
        if rows.is_empty()
            && let Some(after) = after
        {
            // Empty after a row: the end of the list, or a row the caller cannot see.
            let exists = match statement::<R>(Kind::Exists, scope) {
                Some(sql) => db
                    .exists(sql, &caller.subject, after)
                    .await
                    .map_err(ApiError::internal)?,
                None => false,
            };
            if !exists {
                return Err(refuse::<R>(
                    ActionKind::Read,
                    &caller.subject,
                    "not_found_or_not_permitted",
                ));
            }
        }
        let full = rows.len() >= R::PAGE.clamp(1, MAX_PAGE) as usize;
        Ok(AuthorizedList {
            rows,
            next: if full { last } else { None },
            query: String::new(),
            filter: PhantomData,
        })
    }

    fn empty() -> Self {
        AuthorizedList {
            rows: Vec::new(),
            next: None,
            query: String::new(),
            filter: PhantomData,
        }
    }
}

impl<R, F, S> FromRequestParts<S> for AuthorizedList<R, F>
where
    R: Resource,
    F: Filter<R>,
    Database: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let (filter, start, query) = list_query::<R, F>(parts.uri.query().unwrap_or_default())
            .map_err(IntoResponse::into_response)?;
        let caller = caller(parts)?;
        let db = Database::from_ref(state);
        let mut list = Self::load(&db, &caller.identity, &filter, &start)
            .await
            .map_err(IntoResponse::into_response)?;
        list.query = query;
        Ok(list)
    }
}

/// The list's own parameters (`page`, `after`) and the filter's, from the query string: the
/// rest is read as `F`, the way any `Valid<Query<..>>` reads it (percent-decoded; unknown
/// parameters 422 `unknown_field`; then sanitised and validated).
/// Also gives the filter's parameters, re-encoded.
pub(super) fn list_query<R: Resource, F: Filter<R>>(
    query: &str,
) -> Result<(F, PageStart<R>, String), Problem> {
    let invalid = |field: &str, code: &'static str| {
        let mut errors = ValidationErrors::new();
        errors.push(FieldError::new(field, code));
        Problem::validation(errors)
    };
    let mut page: Option<u32> = None;
    let mut after: Option<Id<R>> = None;
    let mut rest = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match &*name {
            "page" if page.is_some() => return Err(invalid("page", "duplicate_field")),
            "page" => {
                page = Some(value.parse().map_err(|_| invalid("page", "invalid_type"))?);
            }
            "after" if after.is_some() => return Err(invalid("after", "duplicate_field")),
            "after" => {
                after = Some(Id::parse(&value).ok_or_else(|| invalid("after", "invalid_value"))?);
            }
            _ => {
                rest.append_pair(&name, &value);
            }
        }
    }
    let rest = rest.finish();
    let filter = from_urlencoded::<F>(rest.as_bytes())?;
    let start = match (page, after) {
        (Some(_), Some(_)) => return Err(invalid("after", "page_or_after")),
        (_, Some(after)) => PageStart::After(after),
        (page, None) => PageStart::Offset(page.unwrap_or(0)),
    };
    Ok((filter, start, rest))
}
