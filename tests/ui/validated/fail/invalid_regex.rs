use secure_core::Validated;

#[derive(Validated)]
struct Signup {
    #[validate(pattern = "[a-z")]
    username: String,
}

fn main() {}
