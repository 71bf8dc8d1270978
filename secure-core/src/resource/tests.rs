//! Scoped loads on SQLite: another user's row is the same 404 as a missing one.

use super::authorized::list_query;
use super::*;
use crate::error::ApiError;
use crate::sql::{Database, Value};
use sqlx::sqlite::SqlitePoolOptions;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct Note {
    id: String,
    title: String,
}

impl Resource for Note {
    const NAME: &'static str = "Note";
    const TABLE: &'static str = "notes";
    const ID: &'static str = "id";
    const OWNER: &'static str = "owner_id";
    const COLUMNS: &'static str = "id, title";
    const ORDER: &'static str = "title, id";
    const PAGE: u32 = 2;
    type Changes = Changes;

    fn valid_id(id: &str) -> bool {
        id.len() == 4 && id.bytes().all(|b| b.is_ascii_alphanumeric())
    }

    fn scope(caller: &Identity, action: ActionKind) -> Scope {
        match (caller.roles.iter().any(|r| r == "admin"), action) {
            (true, ActionKind::Read) => Scope::All,
            (true, ActionKind::Write) => Scope::Nothing,
            (false, ActionKind::Read) => Scope::Where(
                "owner_id = $subject OR id IN (SELECT note_id FROM shares WHERE user_id = $subject)",
            ),
            (false, ActionKind::Write) => Scope::Owner,
        }
    }
}

/// A change set of the title alone.
fn title(value: &str) -> Changes {
    let mut changes = Changes::default();
    changes.set("title", crate::sql::Value::from(value));
    changes
}

async fn database() -> Database {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .unwrap();
    for sql in [
        "CREATE TABLE notes (id TEXT PRIMARY KEY, owner_id TEXT NOT NULL, title TEXT NOT NULL)",
        "CREATE TABLE shares (note_id TEXT NOT NULL, user_id TEXT NOT NULL)",
        "INSERT INTO notes VALUES ('aaa1', 'alice', 'a1'), ('aaa2', 'alice', 'a2'), \
         ('aaa3', 'alice', 'a3'), ('bbb1', 'bob', 'b1')",
        "INSERT INTO shares VALUES ('aaa3', 'bob')",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    Database::Sqlite(pool)
}

fn user(name: &str) -> Identity {
    Identity::new(name, 0)
}

async fn read(db: &Database, who: &Identity, id: &str) -> Result<String, ApiError> {
    Authorized::<Note, Read>::load(db, who, id)
        .await
        .map(|n| n.title.clone())
}

#[tokio::test]
async fn owners_read_their_rows_and_others_get_the_same_404_as_for_a_missing_one() {
    let db = database().await;
    let (alice, bob) = (user("alice"), user("bob"));
    assert_eq!(read(&db, &alice, "aaa1").await.unwrap(), "a1");
    assert_eq!(read(&db, &bob, "bbb1").await.unwrap(), "b1");
    for (who, id) in [
        (&bob, "aaa1"),
        (&alice, "bbb1"),
        (&alice, "zzz9"),
        (&alice, "a'--"),
    ] {
        assert!(
            matches!(read(&db, who, id).await, Err(ApiError::NotFound)),
            "{} reading {id}",
            who.subject
        );
    }
}

#[tokio::test]
async fn rules_widen_reads_without_widening_writes() {
    let db = database().await;
    let bob = user("bob");
    // Shared with bob: readable, not writable.
    assert_eq!(read(&db, &bob, "aaa3").await.unwrap(), "a3");
    assert!(matches!(
        Authorized::<Note, Write>::load(&db, &bob, "aaa3").await,
        Err(ApiError::NotFound)
    ));
    // An admin reads every row and writes none.
    let admin = Identity::new("root", 0).with_roles(["admin"]);
    assert_eq!(read(&db, &admin, "bbb1").await.unwrap(), "b1");
    assert!(matches!(
        Authorized::<Note, Write>::load(&db, &admin, "bbb1").await,
        Err(ApiError::NotFound)
    ));
}

#[tokio::test]
async fn deletes_go_through_the_scope() {
    let db = database().await;
    let alice = user("alice");
    let note = Authorized::<Note, Write>::load(&db, &alice, "aaa1")
        .await
        .unwrap();
    assert!(note.delete(&db).await.unwrap());
    assert!(matches!(
        read(&db, &alice, "aaa1").await,
        Err(ApiError::NotFound)
    ));
    assert_eq!(read(&db, &user("bob"), "bbb1").await.unwrap(), "b1");
}

fn titles<F>(list: AuthorizedList<Note, F>) -> Vec<String> {
    list.into_inner().into_iter().map(|n| n.title).collect()
}

async fn page<F: Filter<Note>>(
    db: &Database,
    who: &Identity,
    filter: &F,
    start: PageStart<Note>,
) -> Result<AuthorizedList<Note, F>, ApiError> {
    AuthorizedList::<Note, F>::load(db, who, filter, &start).await
}

fn after(id: &str) -> PageStart<Note> {
    PageStart::After(Id::parse(id).unwrap())
}

#[tokio::test]
async fn lists_hold_only_permitted_rows_in_stable_pages() {
    let db = database().await;
    let alice = user("alice");
    let first = page(&db, &alice, &NoFilter {}, PageStart::Offset(0)).await;
    let second = page(&db, &alice, &NoFilter {}, PageStart::Offset(1)).await;
    assert_eq!(titles(first.unwrap()), ["a1", "a2"]);
    assert_eq!(titles(second.unwrap()), ["a3"]);
    let bob = page(&db, &user("bob"), &NoFilter {}, PageStart::Offset(0)).await;
    assert_eq!(titles(bob.unwrap()), ["a3", "b1"]);
    let admin = Identity::new("root", 0).with_roles(["admin"]);
    let all = page(&db, &admin, &NoFilter {}, PageStart::Offset(0)).await;
    assert_eq!(all.unwrap().len(), 2, "a page holds at most PAGE rows");
}

#[tokio::test]
async fn keyset_pages_follow_the_order_and_stay_in_the_scope() {
    let db = database().await;
    // A title equal to another's: the id breaks the tie, so no row is skipped or repeated.
    sqlx::query("INSERT INTO notes VALUES ('aaa0', 'alice', 'a2'), ('aaa9', 'alice', 'a2')")
        .execute(match &db {
            Database::Sqlite(pool) => pool,
            #[allow(unreachable_patterns)]
            _ => unreachable!(),
        })
        .await
        .unwrap();
    let alice = user("alice");
    let first = page(&db, &alice, &NoFilter {}, PageStart::Offset(0))
        .await
        .unwrap();
    assert_eq!(first.next_link().unwrap(), "<?after=aaa0>; rel=\"next\"");
    let mut seen = Vec::new();
    let mut start = PageStart::Offset(0);
    loop {
        let list = page(&db, &alice, &NoFilter {}, start).await.unwrap();
        let next = list.next_after().map(str::to_owned);
        seen.extend(list.into_inner().into_iter().map(|n| n.id));
        match next {
            Some(id) => start = after(&id),
            None => break,
        }
    }
    assert_eq!(seen, ["aaa1", "aaa0", "aaa2", "aaa9", "aaa3"]);
    // The last row: an empty page, not an error.
    let end = page(&db, &alice, &NoFilter {}, after("aaa3"))
        .await
        .unwrap();
    assert!(end.is_empty() && end.next_after().is_none());
    // After a row the caller cannot see, or that does not exist: 404, as for the row itself.
    for hidden in ["bbb1", "zzz9"] {
        let refused = page(&db, &alice, &NoFilter {}, after(hidden)).await;
        assert!(matches!(refused, Err(ApiError::NotFound)), "{hidden}");
    }
    // Bob sees aaa3 (shared with him): it positions his list.
    let bob = page(&db, &user("bob"), &NoFilter {}, after("aaa3")).await;
    assert_eq!(titles(bob.unwrap()), ["b1"]);
}

#[tokio::test]
async fn a_descending_order_pages_backwards() {
    let db = database().await;
    let alice = user("alice");
    let first = AuthorizedList::<Newest>::load(&db, &alice, &NoFilter {}, &PageStart::Offset(0))
        .await
        .unwrap();
    let ids: Vec<&str> = first.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["aaa3", "aaa2"]);
    let next = PageStart::After(Id::parse(first.next_after().unwrap()).unwrap());
    let rest = AuthorizedList::<Newest>::load(&db, &alice, &NoFilter {}, &next)
        .await
        .unwrap();
    assert_eq!(
        rest.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(),
        ["aaa1"]
    );
}

/// `?title=`: one equality, its value bound.
#[derive(Debug, serde::Deserialize)]
struct ByTitle {
    title: Option<String>,
}

impl crate::validate::Validate for ByTitle {
    fn validate_into(
        &self,
        _: &crate::validate::FieldPath<'_>,
        _: &mut crate::validate::ValidationErrors,
    ) {
    }
}

impl Filter<Note> for ByTitle {
    const COLUMNS: &'static [&'static str] = &["title"];

    fn values(&self) -> Vec<Option<Value>> {
        vec![self.title.clone().map(Value::from)]
    }
}

#[tokio::test]
async fn filters_compare_bound_values_within_the_scope() {
    let db = database().await;
    let alice = user("alice");
    let only = |title: &str| ByTitle {
        title: Some(title.to_owned()),
    };
    let a2 = page(&db, &alice, &only("a2"), PageStart::Offset(0)).await;
    assert_eq!(titles(a2.unwrap()), ["a2"]);
    // Another user's row matches the filter, not the scope.
    let b1 = page(&db, &alice, &only("b1"), PageStart::Offset(0)).await;
    assert!(b1.unwrap().is_empty());
    // A value that would change the statement if it were spliced is only a value.
    let injected = page(&db, &alice, &only("x' OR '1'='1"), PageStart::Offset(0)).await;
    assert!(injected.unwrap().is_empty());
    // Not given: not compared.
    let all = page(&db, &alice, &ByTitle { title: None }, PageStart::Offset(0)).await;
    assert_eq!(titles(all.unwrap()), ["a1", "a2"]);
    // With a keyset page.
    let after_a1 = page(&db, &alice, &only("a3"), after("aaa1")).await;
    assert_eq!(titles(after_a1.unwrap()), ["a3"]);
}

#[test]
fn list_queries_are_read_strictly() {
    let parsed =
        |q: &str| list_query::<Note, ByTitle>(q).map(|(f, s, _)| (f.title, format!("{s:?}")));
    assert_eq!(parsed("").unwrap(), (None, "Offset(0)".to_owned()));
    assert_eq!(
        parsed("title=a%20b&page=%31").unwrap(),
        (Some("a b".to_owned()), "Offset(1)".to_owned())
    );
    assert_eq!(
        parsed("after=aaa1").unwrap(),
        (None, "After(Id<Note>(..))".to_owned())
    );
    for bad in [
        "page=x",
        "page=1&page=2",
        "after=nope!",
        "after=aaa1&after=aaa2",
        "after=aaa1&page=1",
        "owner_id=bob",
        "limit=1000",
    ] {
        let problem = parsed(bad).unwrap_err();
        assert_eq!(
            problem.status(),
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}"
        );
    }
}

#[test]
fn ids_parse_only_in_their_format_and_never_print() {
    assert!(Id::<Note>::parse("aaa1").is_some());
    for bad in ["", "aaa", "aaa12", "a a1", "1 OR 1=1"] {
        assert!(Id::<Note>::parse(bad).is_none(), "{bad:?}");
    }
    let id = Id::<Note>::parse("aaa1").unwrap();
    assert_eq!(format!("{id:?}"), "Id<Note>(..)");
}

#[tokio::test]
async fn updates_go_through_the_scope_and_return_the_stored_row() {
    let db = database().await;
    let alice = user("alice");
    let note = Authorized::<Note, Write>::load(&db, &alice, "aaa2")
        .await
        .unwrap();
    let stored = note.update(&db, title("renamed")).await.unwrap();
    assert_eq!(stored.title, "renamed");
    assert_eq!(read(&db, &alice, "aaa2").await.unwrap(), "renamed");
    let note = Authorized::<Note, Write>::load(&db, &alice, "aaa2")
        .await
        .unwrap();
    // A hand-made change set naming something that is not a column is refused, not run.
    let mut injected = Changes::default();
    injected.set("title = 'x', owner_id", crate::sql::Value::from("bob"));
    let refused = note.update(&db, injected);
    assert!(matches!(refused.await, Err(ApiError::Internal(_))));
    assert_eq!(read(&db, &alice, "aaa2").await.unwrap(), "renamed");
    // Nothing set: the row as it is, no statement.
    let note = Authorized::<Note, Write>::load(&db, &alice, "aaa2")
        .await
        .unwrap();
    assert_eq!(
        note.update(&db, Changes::default()).await.unwrap().title,
        "renamed"
    );
}

/// Notes a moderator may change, whoever owns them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct Moderated {
    id: String,
    title: String,
}

impl Resource for Moderated {
    const NAME: &'static str = "Moderated";
    const TABLE: &'static str = "notes";
    const ID: &'static str = "id";
    const OWNER: &'static str = "owner_id";
    const COLUMNS: &'static str = "id, title";
    const ORDER: &'static str = "title, id";
    type Changes = Changes;

    fn valid_id(id: &str) -> bool {
        Note::valid_id(id)
    }

    fn scope(caller: &Identity, _action: ActionKind) -> Scope {
        if caller.roles.iter().any(|r| r == "moderator") {
            Scope::All
        } else {
            Scope::Owner
        }
    }
}

#[tokio::test]
async fn writes_keep_the_scope_the_row_was_loaded_through() {
    let db = database().await;
    let moderator = Identity::new("mod", 0).with_roles(["moderator"]);
    let note = Authorized::<Moderated, Write>::load(&db, &moderator, "bbb1")
        .await
        .unwrap();
    let stored = note.update(&db, title("moderated")).await.unwrap();
    assert_eq!(stored.title, "moderated");
    let note = Authorized::<Moderated, Write>::load(&db, &moderator, "bbb1")
        .await
        .unwrap();
    assert!(note.delete(&db).await.unwrap());
    assert!(matches!(
        read(&db, &user("bob"), "bbb1").await,
        Err(ApiError::NotFound)
    ));
}

/// The same notes, newest title first.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct Newest {
    id: String,
    title: String,
}

impl Resource for Newest {
    const NAME: &'static str = "Newest";
    const TABLE: &'static str = "notes";
    const ID: &'static str = "id";
    const OWNER: &'static str = "owner_id";
    const COLUMNS: &'static str = "id, title";
    const ORDER: &'static str = "title DESC, id";
    const PAGE: u32 = 2;
    type Changes = Changes;

    fn valid_id(id: &str) -> bool {
        Note::valid_id(id)
    }
}
