#![deny(warnings)]
#![forbid(unsafe_code)]

use std::collections::BTreeMap;

use secure_core::prelude::*;
use serde::Deserialize;

fn not_admin(name: &str) -> Result<(), ValidationError> {
    if name == "admin" {
        Err(ValidationError::new("reserved"))
    } else {
        Ok(())
    }
}

fn whole(_: &Everything) -> Result<(), ValidationError> {
    Ok(())
}

#[derive(Validated, Deserialize)]
struct Inner {
    #[validate(length(min = 1))]
    name: String,
}

#[derive(Validated, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[validate(custom = whole, allow_unknown_fields)]
struct Everything {
    #[validate(trim, lowercase, nfkc, strip_control, length(min = 3, max = 32), pattern = "[a-z0-9_]+", custom = not_admin)]
    user_name: String,
    #[validate(
        bytes(max = 64),
        email(message = "an email address", code = "bad_email")
    )]
    email: String,
    #[validate(url(schemes("https"), public))]
    homepage: Option<String>,
    #[validate(range(min = 13, max = 130))]
    age: u8,
    #[validate(range(exclusive_min = 0.0, exclusive_max = 1.0))]
    ratio: f32,
    #[validate(nested)]
    inner: Inner,
    #[validate(length(max = 5), each(trim, length(min = 1, max = 20)))]
    tags: Vec<String>,
    #[validate(each(nested))]
    items: Vec<Inner>,
    #[validate(each(range(max = 10)))]
    scores: BTreeMap<String, i64>,
    #[validate(one_of("free", "pro"))]
    plan: String,
    #[validate(none_of(0, -1))]
    code: i32,
    #[validate(ip, ascii)]
    ip: String,
    #[validate(ipv4)]
    ip4: String,
    #[validate(ipv6)]
    ip6: String,
    #[validate(uuid)]
    id: String,
    #[validate(credit_card)]
    card: String,
    #[validate(alphanumeric, uppercase, nfc)]
    sku: String,
    #[validate(no_control, safe_path, contains = "/", does_not_contain = "~")]
    file: String,
    #[validate(length(min = 12))]
    password: String,
    #[validate(must_match(password))]
    confirm: String,
}

#[derive(Validated, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
enum Shape {
    Circle {
        #[validate(range(min = 0.0))]
        radius: f64,
    },
    Named(#[validate(nested)] Inner),
    Empty,
}

#[derive(Validated)]
struct Newtype(#[validate(email)] String);

fn main() {
    let _ = Everything::allows_unknown_fields();
    let _ = Shape::Empty.validate();
    let _ = Newtype(String::new()).validate();
}
