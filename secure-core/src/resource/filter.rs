//! List filters: a validated type whose fields each compare one column of the resource with
//! a bound value. The statement is made of the resource's `'static` names and the filter's
//! `'static` columns; what the client sent is only ever bound.
//!
//! ```text
//! #[derive(Debug, Deserialize, Validated, Filter)]
//! #[filter(resource = Note)]
//! struct NoteFilter {
//!     #[validate(length(min = 1, max = 200))]
//!     title: Option<String>,        // ?title=Groceries  ->  AND title = $2
//! }
//!
//! async fn list(notes: AuthorizedList<Note, NoteFilter>) -> Json<Vec<Note>> { .. }
//! ```

use serde::Deserialize;

use super::Resource;
use crate::sql::Value;
use crate::validate::{FieldPath, Validate, ValidationErrors};

/// `#[derive(Filter)]`: one equality per field, each field an `Option` (absent: not
/// compared), each column checked against the resource's columns when it compiles.
pub use secure_macros::Filter;

/// A list's filter for `R`: its query parameters (validated like any input) and the column
/// each compares. Derive it; `page` and `after` are the list's own parameters.
pub trait Filter<R: Resource>:
    serde::de::DeserializeOwned + Validate + Send + Sync + 'static
{
    /// The column each field compares, in field order: plain identifiers of `R`'s columns.
    const COLUMNS: &'static [&'static str];

    /// Each field's value in [`COLUMNS`](Self::COLUMNS) order, `None` when it was not given.
    fn values(&self) -> Vec<Option<Value>>;
}

/// No filter: the list takes `page` or `after` and nothing else (any other parameter is 422
/// `unknown_field`).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct NoFilter {}

#[diagnostic::do_not_recommend]
impl Validate for NoFilter {
    fn validate_into(&self, _: &FieldPath<'_>, _: &mut ValidationErrors) {}
}

impl<R: Resource> Filter<R> for NoFilter {
    const COLUMNS: &'static [&'static str] = &[];

    fn values(&self) -> Vec<Option<Value>> {
        Vec::new()
    }
}

/// Whether `name` is one of `columns` (`"id, title, body"`): the derive's compile-time check
/// that a filter compares a column the resource has.
#[doc(hidden)]
pub const fn has_column(columns: &str, name: &str) -> bool {
    let columns = columns.as_bytes();
    let name = name.as_bytes();
    let mut start = 0;
    while start < columns.len() {
        // Skip separators, then read one column.
        while start < columns.len() && (columns[start] == b',' || columns[start] == b' ') {
            start += 1;
        }
        let mut end = start;
        while end < columns.len() && columns[end] != b',' && columns[end] != b' ' {
            end += 1;
        }
        if end - start == name.len() {
            let mut i = 0;
            while i < name.len() && columns[start + i] == name[i] {
                i += 1;
            }
            if i == name.len() && !name.is_empty() {
                return true;
            }
        }
        start = end;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::has_column;

    #[test]
    fn columns_are_matched_whole() {
        assert!(has_column("id, title, body", "title"));
        assert!(has_column("id, title, body", "id"));
        assert!(has_column("id, title, body", "body"));
        assert!(!has_column("id, title, body", "titl"));
        assert!(!has_column("id, title, body", "itle"));
        assert!(!has_column("id, title, body", "title, body"));
        assert!(!has_column("id, title, body", ""));
        assert!(!has_column("", "id"));
    }
}
