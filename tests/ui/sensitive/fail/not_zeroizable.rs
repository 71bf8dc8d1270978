use secure_core::prelude::*;
use std::sync::Arc;

#[sensitive]
struct Session {
    id: u64,
    #[sensitive]
    token: Arc<str>,
}

fn main() {}
