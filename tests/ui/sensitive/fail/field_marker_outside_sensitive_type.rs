use secure_core::prelude::*;

#[derive(Validated)]
struct Login {
    username: String,
    #[sensitive]
    #[validate(length(min = 12))]
    password: String,
}

fn main() {}
