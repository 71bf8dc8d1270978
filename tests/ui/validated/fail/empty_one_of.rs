use secure_core::Validated;

#[derive(Validated)]
struct Plan {
    #[validate(one_of())]
    tier: String,
}

fn main() {}
