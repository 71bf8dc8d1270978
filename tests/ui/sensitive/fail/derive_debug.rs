use secure_core::prelude::*;

#[sensitive]
#[derive(Debug, Clone)]
struct Login {
    username: String,
    #[sensitive]
    password: String,
}

fn main() {}
