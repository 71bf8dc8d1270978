use secure_core::prelude::*;
use serde::Serialize;

#[sensitive]
#[derive(Serialize)]
struct Account {
    username: String,
    #[sensitive(serialize = masked)]
    api_key: String,
}

fn main() {}
