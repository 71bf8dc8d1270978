//! The statements of the scoped queries: composed once per resource, kind and scope from
//! their `'static` parts, then reused (a lookup instead of formatting on every request). The
//! set is finite: resources, kinds and `'static` predicates are all fixed in the program.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{LazyLock, PoisonError, RwLock};

use super::{Resource, Scope};

/// Which statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Kind {
    /// One row: `$1` the id, `$2` the subject.
    Select,
    /// Delete one row: `$1` the id, `$2` the subject.
    Delete,
    /// The first page: `$1` the subject. The page size is in the text: SQLite plans a bound
    /// `LIMIT` far worse (notes-api's list took a third more CPU).
    List,
    /// A later page: `$1` the subject, `$2` the offset.
    ListFrom,
}

/// The resource, the kind, the scope's variant and, for `Where`, its text's address and length.
type Key = (TypeId, Kind, u8, usize, usize);

static CACHE: LazyLock<RwLock<HashMap<Key, &'static str>>> = LazyLock::new(Default::default);

/// The statement of `kind` for `R` under `scope`; `None` for [`Scope::Nothing`].
pub(super) fn statement<R: Resource>(kind: Kind, scope: Scope) -> Option<&'static str> {
    let (tag, addr, len) = match scope {
        Scope::Owner => (0, 0, 0),
        Scope::All => (1, 0, 0),
        Scope::Where(text) => (2, text.as_ptr().addr(), text.len()),
        Scope::Nothing => return None,
    };
    let key = (TypeId::of::<R>(), kind, tag, addr, len);
    if let Some(text) = CACHE
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
    {
        return Some(text);
    }
    let subject = if matches!(kind, Kind::List | Kind::ListFrom) {
        1
    } else {
        2
    };
    let size = R::PAGE.clamp(1, super::MAX_PAGE);
    let predicate = scope.predicate::<R>(subject)?;
    let text = match kind {
        Kind::Select => format!(
            "SELECT {} FROM {} WHERE {} = $1 AND {predicate}",
            R::COLUMNS,
            R::TABLE,
            R::ID
        ),
        Kind::Delete => format!(
            "DELETE FROM {} WHERE {} = $1 AND {predicate}",
            R::TABLE,
            R::ID
        ),
        Kind::List => format!(
            "SELECT {} FROM {} WHERE {predicate} ORDER BY {} LIMIT {size}",
            R::COLUMNS,
            R::TABLE,
            R::ORDER
        ),
        Kind::ListFrom => format!(
            "SELECT {} FROM {} WHERE {predicate} ORDER BY {} LIMIT {size} OFFSET $2",
            R::COLUMNS,
            R::TABLE,
            R::ORDER
        ),
    };
    let mut cache = CACHE.write().unwrap_or_else(PoisonError::into_inner);
    Some(
        cache
            .entry(key)
            .or_insert_with(|| Box::leak(text.into_boxed_str())),
    )
}
