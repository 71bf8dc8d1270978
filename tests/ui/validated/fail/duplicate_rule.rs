use secure_core::Validated;

#[derive(Validated)]
struct Signup {
    #[validate(length(min = 3), length(max = 32))]
    username: String,
}

fn main() {}
