use secure_core::Validated;

#[derive(Validated)]
struct Signup {
    password: String,
    #[validate(must_match(pasword))]
    password_confirm: String,
}

fn main() {}
