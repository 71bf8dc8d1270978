use secure_core::prelude::*;

#[sensitive]
struct ApiKey(String);

impl Drop for ApiKey {
    fn drop(&mut self) {}
}

fn main() {}
