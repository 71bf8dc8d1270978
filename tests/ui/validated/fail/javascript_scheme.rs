use secure_core::Validated;

#[derive(Validated)]
struct Profile {
    #[validate(url(schemes("https", "javascript")))]
    homepage: String,
}

fn main() {}
