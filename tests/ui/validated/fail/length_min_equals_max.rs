use secure_core::Validated;

#[derive(Validated)]
struct Code {
    #[validate(length(min = 6, max = 6))]
    digits: String,
}

fn main() {}
