//! Object-level authorisation by construction (OWASP API1:2023, ASVS 4.0.3 4.2.1): with a
//! declared [`Resource`], a handler reaches one of its rows only through `Authorized` (one
//! row, by the id in the path) or `AuthorizedList` (a page of rows), and both load through
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

use serde::Serialize;

use crate::auth::Identity;
use crate::sql::Value;

#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod authorized;
mod db;
mod filter;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod statements;

#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use authorized::{Authorized, AuthorizedList, PageStart};
pub use db::ResourceRow;
#[doc(hidden)]
pub use filter::has_column;
pub use filter::{Filter, NoFilter};
/// `#[derive(Resource)]`: the names and id format from `#[resource(..)]`, the columns from
/// the fields.
pub use secure_macros::Resource;

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

    /// What an update may set: the derive makes `NoteChanges` for `Note`, one method per
    /// column but the id and the owner, each taking its field's type.
    type Changes: Into<Changes>;

    /// Whether `id` has the id's format (checked before any query).
    fn valid_id(id: &str) -> bool;

    /// Which rows `caller` may act on: ownership unless the app says otherwise (an admin
    /// reading every row, notes shared with named users).
    fn scope(caller: &Identity, action: ActionKind) -> Scope {
        let _ = (caller, action);
        Scope::Owner
    }
}

/// The columns an update sets, and their values (bound, never spliced). Made by a resource's
/// change set (`NoteChanges::new().title(..)`), whose methods are its columns: a misspelled
/// column does not compile.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    columns: Vec<(&'static str, Value)>,
}

impl Changes {
    /// Sets `column` (a field of the resource: the generated change sets call this);
    /// setting it again replaces the value.
    #[doc(hidden)]
    pub fn set(&mut self, column: &'static str, value: Value) {
        match self.columns.iter_mut().find(|(c, _)| *c == column) {
            Some(slot) => slot.1 = value,
            None => self.columns.push((column, value)),
        }
    }

    /// The columns set, in the order they were first set.
    pub fn columns(&self) -> &[(&'static str, Value)] {
        &self.columns
    }

    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }
}

/// Who may do what beyond ownership, for a resource derived with `#[resource(.., rules)]`:
/// an administrator reading every row, notes shared with named users.
pub trait Rules {
    /// Which rows `caller` may act on with `action`.
    fn scope(caller: &Identity, action: ActionKind) -> Scope;
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
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
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

/// A plain SQL identifier: letters, digits and `_`, not starting with a digit.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn identifier(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
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

    /// The id's text, for the one handler that must query by it outside a check (declared
    /// `unvalidated(param, reason = "...")`; the policy table shows it).
    pub fn as_str(&self) -> &str {
        &self.value
    }
}

/// Through [`Id::parse`]: a malformed id is refused like any malformed input.
impl<'de, R: Resource> serde::Deserialize<'de> for Id<R> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Id::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("not a {} id", R::NAME)))
    }
}

/// Never met: a resource's id in a handler's path is refused, by type, outside
/// `Authorized` (which loads the row through its check) or an `unvalidated(..)` declaration.
#[diagnostic::on_unimplemented(
    message = "a `{Self}` id in the path reaches the handler without an object check",
    label = "the row this id names would be loaded without asking whether the caller may",
    note = "take `Authorized<{Self}, Read>` (or `Write`): it reads the id from the path and loads the row through the scoped query, 404 for missing and foreign rows alike",
    note = "a handler that must query by the id alone: `unvalidated(param, reason = \"...\")`, shown in the policy table"
)]
pub trait LoadedThroughAuthorized {}

impl<R: Resource + LoadedThroughAuthorized> crate::policy::PathSegment for Id<R> {}

impl<R: Resource> fmt::Debug for Id<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id<{}>(..)", R::NAME)
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests;
