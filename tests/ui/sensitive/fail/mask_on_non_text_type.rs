use secure_core::prelude::*;
use secure_core::redact::Zeroize;

struct Pin([u8; 4]);

impl Zeroize for Pin {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

#[sensitive]
struct Card {
    #[sensitive(mask = last(2))]
    pin: Pin,
}

fn main() {}
