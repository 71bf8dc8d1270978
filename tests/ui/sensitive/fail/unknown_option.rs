use secure_core::prelude::*;

#[sensitive]
struct Payment {
    #[sensitive(mask = last(4), serialise = masked)]
    card: String,
}

fn main() {}
