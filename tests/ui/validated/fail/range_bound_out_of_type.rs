use secure_core::Validated;

#[derive(Validated)]
struct Person {
    #[validate(range(min = 0, max = 300))]
    age: u8,
}

fn main() {}
