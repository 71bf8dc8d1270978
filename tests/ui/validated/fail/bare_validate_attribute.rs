use secure_core::Validated;

#[derive(Validated)]
struct Signup {
    #[validate]
    username: String,
}

fn main() {}
