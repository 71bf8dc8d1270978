#![allow(unused)]
use secure_core::prelude::*;
use secure_core::secure_handler;

#[derive(serde::Deserialize, Validated)]
struct Upload {
    #[validate(length(max = 100), each(length(max = 100000)))]
    chunks: Vec<String>,
}

// 100 strings of 100,000 characters: more than any route may take, whatever it declares.
#[secure_handler(public)]
async fn upload(body: Valid<Json<Upload>>) -> &'static str {
    "ok"
}

fn main() {}
