use secure_core::Validated;

#[derive(Validated)]
struct Signup {
    #[validate(each(length(max = 3)))]
    username: String,
}

fn main() {}
