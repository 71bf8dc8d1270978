use secure_core::prelude::*;

#[sensitive]
#[derive(Clone, Copy)]
struct Pin([u8; 4]);

fn main() {}
