use secure_core::prelude::*;

#[sensitive]
union Key {
    bytes: [u8; 8],
    word: u64,
}

fn main() {}
