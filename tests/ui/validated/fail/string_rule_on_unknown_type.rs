use secure_core::Validated;

struct Email(String);

#[derive(Validated)]
struct Contact {
    #[validate(email)]
    email: Email,
}

fn main() {}
