use secure_core::Validated;

#[derive(Validated)]
struct Links {
    #[validate(url)]
    links: Vec<String>,
}

fn main() {}
