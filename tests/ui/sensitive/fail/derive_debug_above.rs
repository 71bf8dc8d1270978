use secure_core::prelude::*;

// Wrong order: `derive(Debug)` runs before `#[sensitive]`.
#[derive(Debug)]
#[sensitive]
struct ApiKey(String);

fn main() {}
