use secure_core::Validated;

#[derive(Validated)]
struct Signup {
    #[validate(length(min = ))]
    username: String,
}

fn main() {}
