use secure_core::Validated;

struct Address {
    zip: String,
}

#[derive(Validated)]
struct Signup {
    #[validate(nested)]
    address: Address,
}

fn main() {}
