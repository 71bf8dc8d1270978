use secure_core::prelude::*;
use serde::Serialize;

// Wrong order: the derive ran first; its `#[serde]` attributes are left behind.
#[derive(Serialize)]
#[sensitive]
#[serde(rename_all = "camelCase")]
struct Login {
    user_name: String,
    #[sensitive]
    password: String,
}

fn main() {}
