#![allow(unused)]
use secure_core::resource::Resource;

#[derive(Debug, Resource)]
#[resource(table = "notes", owner = "owner_id", order = "id", id_pattern = "[a-z0-9]{8}")]
struct Note {
    id: String,
    owner_id: String,
    title: String,
    stars: i64,
}

fn main() {
    // A column the row does not have is a method the change set does not have.
    let _ = NoteChanges::new().titel("renamed");
    // A column's value has the column's type.
    let _ = NoteChanges::new().stars("many");
    // The owner is not changed by an update.
    let _ = NoteChanges::new().owner_id("bob");
}
