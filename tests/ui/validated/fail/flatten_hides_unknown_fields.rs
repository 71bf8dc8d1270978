use secure_core::Validated;
use serde::Deserialize;

#[derive(Validated, Deserialize)]
struct Meta {
    #[validate(length(max = 20))]
    source: String,
}

#[derive(Validated, Deserialize)]
struct Note {
    #[validate(length(max = 200))]
    title: String,
    #[serde(flatten)]
    #[validate(nested)]
    meta: Meta,
}

fn main() {}
