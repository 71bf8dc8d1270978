use secure_core::Validated;

#[derive(Validated)]
struct Code {
    #[validate(lowercase, uppercase)]
    code: String,
}

fn main() {}
