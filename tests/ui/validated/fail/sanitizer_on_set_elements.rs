use std::collections::HashSet;

use secure_core::Validated;

#[derive(Validated)]
struct Tags {
    #[validate(each(trim))]
    tags: HashSet<String>,
}

fn main() {}
