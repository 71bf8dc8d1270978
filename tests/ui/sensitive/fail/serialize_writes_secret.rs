use secure_core::prelude::*;
use serde::Serialize;

#[sensitive]
#[derive(Serialize)]
struct Account {
    username: String,
    #[sensitive]
    password: String,
    #[sensitive]
    #[serde(skip_serializing)]
    recovery_code: String,
}

fn main() {}
