use secure_core::prelude::*;

#[sensitive]
struct Payment {
    #[sensitive(mask = lats(4))]
    card: String,
    #[sensitive(mask = first)]
    iban: String,
    #[sensitive(mask = last(0))]
    account: String,
}

fn main() {}
