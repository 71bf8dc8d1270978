use secure_core::Validated;

#[derive(Validated)]
struct Contact {
    #[validate(email)]
    email: u64,
}

fn main() {}
