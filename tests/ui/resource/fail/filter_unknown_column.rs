#![allow(unused)]
use secure_core::prelude::*;
use secure_core::resource::{Filter, Resource};
use serde::Deserialize;

#[derive(Debug, Resource)]
#[resource(table = "notes", owner = "owner_id", order = "id", id_pattern = "[a-z0-9]{8}")]
struct Note {
    id: String,
    owner_id: String,
    title: String,
}

// A filter compares a column the rows are read from: `titel` is not one.
#[derive(Debug, Deserialize, Validated, Filter)]
#[filter(resource = Note)]
struct NoteFilter {
    #[validate(length(max = 200))]
    titel: Option<String>,
}

fn main() {}
