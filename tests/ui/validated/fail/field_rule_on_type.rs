use secure_core::Validated;

#[derive(Validated)]
#[validate(email)]
struct Contact {
    email: String,
}

fn main() {}
