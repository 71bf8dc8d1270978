use secure_core::prelude::*;
use serde::Serialize;

fn as_is<S: serde::Serializer>(v: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v)
}

#[sensitive]
#[derive(Serialize)]
struct Account {
    #[sensitive]
    #[serde(serialize_with = "as_is")]
    token: String,
}

fn main() {}
