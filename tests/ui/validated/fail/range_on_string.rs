use secure_core::Validated;

#[derive(Validated)]
struct Person {
    #[validate(range(min = 1, max = 10))]
    name: String,
}

fn main() {}
