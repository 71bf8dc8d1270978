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
    /// Whether one row is in the scope: `$1` the subject, `$2` the id.
    Exists,
    /// A page of a list: `$1` the subject, then each given filter value, then the `after`
    /// id, then the offset.
    List(ListShape),
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
    let subject = if matches!(kind, Kind::Exists | Kind::List(_)) {
        1
    } else {
        2
    };
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
        Kind::Exists => format!(
            "SELECT 1 FROM {} WHERE {} = $2 AND {predicate}",
            R::TABLE,
            R::ID
        ),
        Kind::List(shape) => list::<R>(predicate, shape),
    };
    let mut cache = CACHE.write().unwrap_or_else(PoisonError::into_inner);
    Some(
        cache
            .entry(key)
            .or_insert_with(|| Box::leak(text.into_boxed_str())),
    )
}

/// Which list statement: the filter's columns that were given, and where the page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct ListShape {
    /// The filter type.
    pub(super) filter: TypeId,
    /// The filter's columns (its `COLUMNS`).
    pub(super) columns: &'static [&'static str],
    /// Bit `i`: column `i` is compared.
    pub(super) given: u64,
    /// `?after=`: a keyset page.
    pub(super) after: bool,
    /// `?page=` past the first: an offset page.
    pub(super) offset: bool,
}

/// A list's statement: the page size is in the text, as SQLite plans a bound `LIMIT` far
/// worse (notes-api's list took a third more CPU).
fn list<R: Resource>(predicate: String, shape: ListShape) -> String {
    let mut conditions = vec![predicate.clone()];
    let mut n = 1;
    for (i, column) in shape.columns.iter().enumerate() {
        if shape.given & (1 << i) != 0 {
            n += 1;
            conditions.push(format!("{column} = ${n}"));
        }
    }
    if shape.after {
        n += 1;
        conditions.push(keyset::<R>(&predicate, n));
    }
    let size = R::PAGE.clamp(1, super::MAX_PAGE);
    let mut text = format!(
        "SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT {size}",
        R::COLUMNS,
        R::TABLE,
        conditions.join(" AND "),
        R::ORDER
    );
    if shape.offset {
        text.push_str(&format!(" OFFSET ${}", n + 1));
    }
    text
}

/// Rows after the row whose id is `$n`, in the resource's order: for the order `a, b DESC, id`,
/// `(a > A) OR (a = A AND b < B) OR (a = A AND b = B AND id > $n)`, where `A` and `B` are the
/// cursor row's values, read by id through the same scope (a row the caller cannot see
/// positions nothing: every comparison is with `NULL`, and the page is empty).
fn keyset<R: Resource>(predicate: &str, n: usize) -> String {
    let terms: Vec<(&str, bool)> = R::ORDER
        .split(',')
        .filter_map(|term| {
            let mut words = term.split_whitespace();
            let column = words.next()?;
            let descending = words.next().is_some_and(|d| d.eq_ignore_ascii_case("desc"));
            Some((column, descending))
        })
        .collect();
    let value = |column: &str| {
        if column == R::ID {
            format!("${n}")
        } else {
            format!(
                "(SELECT {column} FROM {} WHERE {} = ${n} AND {predicate})",
                R::TABLE,
                R::ID
            )
        }
    };
    let alternatives: Vec<String> = (0..terms.len())
        .map(|k| {
            let mut parts: Vec<String> = terms[..k]
                .iter()
                .map(|(column, _)| format!("{column} = {}", value(column)))
                .collect();
            let (column, descending) = terms[k];
            let op = if descending { "<" } else { ">" };
            parts.push(format!("{column} {op} {}", value(column)));
            format!("({})", parts.join(" AND "))
        })
        .collect();
    format!("({})", alternatives.join(" OR "))
}
