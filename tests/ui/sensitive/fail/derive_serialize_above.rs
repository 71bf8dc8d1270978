use secure_core::prelude::*;
use serde::Serialize;

// Wrong order: `derive(Serialize)` runs before `#[sensitive]` and cannot see the secret.
#[derive(Serialize)]
#[sensitive]
struct Login {
    username: String,
    #[sensitive]
    password: String,
}

fn main() {}
