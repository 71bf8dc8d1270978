// A resource must say where its rows are, whose they are, and what its ids look like.
use secure_core::resource::Resource;

#[derive(Resource)]
struct Note {
    id: String,
    title: String,
}

fn main() {}
