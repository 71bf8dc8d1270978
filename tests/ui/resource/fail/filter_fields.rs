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

// Every field is an `Option`: a list asked without the parameter is not filtered by it.
#[derive(Debug, Deserialize, Validated, Filter)]
#[filter(resource = Note)]
struct Required {
    #[validate(length(max = 200))]
    title: String,
}

// `page` and `after` are the list's own parameters.
#[derive(Debug, Deserialize, Validated, Filter)]
#[filter(resource = Note)]
struct Reserved {
    #[validate(length(max = 200))]
    #[filter(column = "title")]
    page: Option<String>,
}

// A column is a plain identifier: it becomes SQL text.
#[derive(Debug, Deserialize, Validated, Filter)]
#[filter(resource = Note)]
struct Spliced {
    #[validate(length(max = 200))]
    #[filter(column = "title = title OR 1")]
    title: Option<String>,
}

// The resource is named.
#[derive(Debug, Deserialize, Validated, Filter)]
struct Unnamed {
    #[validate(length(max = 200))]
    title: Option<String>,
}

fn main() {}
