//! `Validate::MAX_BODY` from `#[derive(Validated)]`: every value the rules accept, written in
//! the longest JSON a client may send (every character a `\uXXXX` escape, surrogate pairs
//! for characters beyond the BMP, keys escaped, pretty-printed), fits the bound; and a body
//! the rules refuse for length can be larger. Values come from proptest, at and near the
//! rules' maxima.

use proptest::prelude::*;
use secure_core::prelude::*;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize, Validated)]
struct Address {
    #[validate(length(max = 40))]
    street: String,
    #[validate(pattern = "[0-9]{5}", length(equal = 5))]
    zip: String,
}

// Read only through `MAX_BODY` and the round trip.
#[allow(dead_code)]
#[derive(Debug, Deserialize, Validated)]
#[serde(rename_all = "camelCase")]
struct Profile {
    #[validate(trim, length(min = 1, max = 64))]
    display_name: String,
    #[validate(email)]
    email: String,
    #[validate(range(min = -5, max = 5))]
    offset: i64,
    score: f64,
    active: bool,
    #[validate(uuid)]
    #[serde(alias = "external_identifier")]
    external_id: Option<String>,
    #[validate(one_of("free", "pro", "enterprise"))]
    plan: String,
    #[validate(length(max = 8), each(length(max = 30)))]
    tags: Vec<String>,
    #[validate(nested)]
    address: Address,
    #[validate(bytes(max = 100))]
    note: Option<String>,
}

#[derive(Debug, Deserialize, Validated)]
struct Unbounded {
    #[validate(length(min = 1))]
    free: String,
}

#[derive(Debug, Deserialize, Validated)]
struct Newtype(#[validate(length(max = 10))] String);

/// `s` as a JSON string in which every character is a `\u` escape (two for a surrogate pair).
fn escaped(s: &str) -> String {
    let mut out = String::from("\"");
    for unit in s.encode_utf16() {
        out.push_str(&format!("\\u{unit:04x}"));
    }
    out.push('"');
    out
}

/// `value` pretty-printed (indent 4) with every string and key fully escaped: as long as a
/// client may reasonably make it.
fn longest(value: &Value, depth: usize, out: &mut String) {
    let pad = "    ".repeat(depth + 1);
    let close = "    ".repeat(depth);
    match value {
        Value::String(s) => out.push_str(&escaped(s)),
        Value::Array(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                out.push_str(&pad);
                longest(item, depth + 1, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&close);
            out.push(']');
        }
        Value::Object(members) => {
            out.push_str("{\n");
            for (i, (key, item)) in members.iter().enumerate() {
                out.push_str(&pad);
                out.push_str(&escaped(key));
                out.push_str(" : ");
                longest(item, depth + 1, out);
                out.push_str(if i + 1 < members.len() { ",\n" } else { "\n" });
            }
            out.push_str(&close);
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn encode(value: &Value) -> String {
    let mut out = String::new();
    longest(value, 0, &mut out);
    out.push('\n');
    out
}

/// Any characters, the long ones (beyond the BMP: 12 bytes escaped) among them.
fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just('a'),
            Just('é'),
            Just('😀'),
            Just('\u{10FFFF}'),
            any::<char>()
        ],
        0..=max,
    )
    .prop_map(|c| c.into_iter().collect())
}

/// An address of 251 bytes: a 60-byte local part and three 60-byte labels.
fn long_email() -> String {
    format!(
        "{}@{}.example",
        "a".repeat(60),
        vec!["b".repeat(60); 3].join(".")
    )
}

fn profile() -> impl Strategy<Value = Value> {
    (
        text(64).prop_filter("not blank", |s| !s.trim().is_empty()),
        text(40),
        proptest::collection::vec(text(30), 0..=8),
        any::<bool>(),
        any::<f64>().prop_filter("finite", |f| f.is_finite()),
        -5i64..=5,
        prop_oneof![Just("free"), Just("pro"), Just("enterprise")],
        any::<bool>(),
    )
        .prop_map(
            |(name, street, tags, active, score, offset, plan, with_id)| {
                let mut value = serde_json::json!({
                    "displayName": name,
                    "email": long_email(),
                    "offset": offset,
                    "score": score,
                    "active": active,
                    "plan": plan,
                    "tags": tags,
                    "address": {"street": street, "zip": "12345"},
                    "note": "ü".repeat(50),
                });
                if with_id {
                    value["external_identifier"] =
                        Value::from("123e4567-e89b-12d3-a456-426614174000");
                }
                value
            },
        )
}

proptest! {
    #[test]
    fn every_accepted_body_fits_the_bound(value in profile()) {
        let body = encode(&value);
        let parsed: Profile = serde_json::from_str(&body).expect("the longest encoding parses");
        prop_assert!(parsed.validate().is_ok(), "{:?}", parsed.validate());
        let bound = Profile::MAX_BODY.expect("every field has a maximum").bytes;
        prop_assert!(body.len() as u64 <= bound, "{} > {bound}", body.len());
    }
}

#[test]
fn the_bound_is_reached_by_the_longest_values_and_names_the_heaviest_field() {
    let at_max = serde_json::json!({
        "displayName": "😀".repeat(64),
        "email": long_email(),
        "offset": -5,
        "score": -1.2345678901234567e-300,
        "active": false,
        "external_identifier": "123e4567-e89b-12d3-a456-426614174000",
        "plan": "enterprise",
        "tags": vec!["😀".repeat(30); 8],
        "address": {"street": "😀".repeat(40), "zip": "12345"},
        "note": "ü".repeat(50),
    });
    let body = encode(&at_max);
    let parsed: Profile = serde_json::from_str(&body).unwrap();
    assert!(parsed.validate().is_ok(), "{:?}", parsed.validate());
    let bound = Profile::MAX_BODY.unwrap();
    assert!(
        body.len() as u64 <= bound.bytes,
        "{} > {}",
        body.len(),
        bound.bytes
    );
    // Not a loose figure: the longest body is most of the bound.
    assert!(
        body.len() as u64 * 10 > bound.bytes * 8,
        "{} of {}",
        body.len(),
        bound.bytes
    );
    assert_eq!(bound.largest_field, "tags");
}

#[test]
fn a_field_without_a_maximum_leaves_the_type_unbounded() {
    assert_eq!(Unbounded::MAX_BODY, None);
    let newtype = Newtype::MAX_BODY.unwrap();
    assert_eq!(newtype.largest_field, "");
    assert!(newtype.bytes >= 10 * 12 + 2);
}
