use secure_core::Validated;

#[derive(Validated)]
struct Order {
    #[validate(pattern = "[0-9]+")]
    id: i64,
}

fn main() {}
