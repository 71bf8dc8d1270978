use secure_core::Validated;

#[derive(Validated)]
struct Person {
    #[validate(range(min = 130, max = 13))]
    age: u8,
}

fn main() {}
