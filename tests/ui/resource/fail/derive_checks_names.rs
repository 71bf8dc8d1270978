// Every name becomes SQL text: only plain identifiers; the order ends with the id column;
// the id format is a valid pattern; options are spelled as documented.
use secure_core::resource::Resource;

#[derive(Resource)]
#[resource(table = "notes; DROP TABLE users", owner = "owner_id", id_pattern = "[a-z")]
struct Note {
    id: String,
    title: String,
}

#[derive(Resource)]
#[resource(table = "notes", owner = "owner_id", id_pattern = "[a-z]{4}", order = "title")]
struct Ordered {
    id: String,
    title: String,
}

#[derive(Resource)]
#[resource(table = "notes", ownr = "owner_id", id_pattern = "[a-z]{4}")]
struct Misspelt {
    id: String,
}

#[derive(Resource)]
#[resource(table = "notes", owner = "owner_id", id_pattern = "[a-z]{4}", page = 500)]
struct Paged {
    key: String,
}

fn main() {}
