use secure_core::Validated;

#[derive(Validated)]
struct Signup {
    #[validate(length(minimum = 3))]
    username: String,
}

fn main() {}
