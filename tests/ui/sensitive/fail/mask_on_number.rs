use secure_core::prelude::*;

#[sensitive]
struct Card {
    #[sensitive(mask = last(2))]
    pin: u32,
}

fn main() {}
