use secure_core::Validated;

#[derive(Validated)]
struct Person {
    #[validate(trim)]
    age: u8,
}

fn main() {}
