#![allow(unused)]
use secure_core::prelude::*;
use secure_core::secure_handler;

#[sensitive]
#[derive(serde::Deserialize, Validated)]
struct Login {
    #[validate(trim, length(min = 1, max = 64))]
    username: String,
    #[sensitive]
    #[validate(length(min = 12, max = 1024))]
    password: SecretString,
}

// 1,024 characters of password can take 12 KiB once escaped: a 4 KiB limit would answer 413
// to valid input, depending on the client's JSON encoder.
#[secure_handler(public, body_limit = "4KiB")]
async fn login(body: Valid<Json<Login>>) -> &'static str {
    "ok"
}

fn main() {}
