use secure_core::{Validate, Validated};

#[derive(Validated)]
struct Signup {
    #[validate(lenght(min = 3))]
    username: String,
}

fn main() {
    // The type still implements Validate: one mistake, one error.
    let _ = Signup { username: String::new() }.validate();
}
