use secure_core::Validated;

#[derive(Validated)]
struct Person {
    #[validate(length(min = 1, max = 3))]
    age: u8,
}

fn main() {}
