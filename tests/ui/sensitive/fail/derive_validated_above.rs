use secure_core::prelude::*;

// Wrong order: `derive(Validated)` runs before `#[sensitive]`.
#[derive(Validated)]
#[sensitive]
struct Login {
    #[validate(length(min = 1))]
    username: String,
    #[sensitive]
    #[validate(length(min = 12))]
    password: SecretString,
}

fn main() {}
