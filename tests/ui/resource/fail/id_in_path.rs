// A resource's id taken from the path outside `Authorized<..>`: the row it names would be
// loaded without the object check.
use axum::extract::Path;
use secure_core::resource::{Id, Resource};
use secure_core::secure_handler;

struct Note;

impl Resource for Note {
    const NAME: &'static str = "Note";
    const TABLE: &'static str = "notes";
    const ID: &'static str = "id";
    const OWNER: &'static str = "owner_id";
    const COLUMNS: &'static str = "id, title";
    const ORDER: &'static str = "id";
    type Changes = secure_core::resource::Changes;

    fn valid_id(id: &str) -> bool {
        !id.is_empty()
    }
}

#[secure_handler(auth)]
async fn get_note(id: Path<Id<Note>>) -> String {
    id.as_str().to_owned()
}

fn main() {}
