use secure_core::Validated;
use serde::Deserialize;

#[derive(Validated, Deserialize)]
#[serde(tag = "type")]
enum Event {
    Login {
        #[validate(length(max = 32))]
        user: String,
    },
}

fn main() {}
