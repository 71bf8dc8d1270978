use secure_core::Validated;

struct Tags;

#[derive(Validated)]
struct Post {
    #[validate(length(max = 10))]
    tags: Tags,
}

fn main() {}
