//! Validating a valid value allocates nothing; a failure allocates (the counter works).
//!
//! `allocation-counter` installs a counting global allocator (its own `unsafe`, none here) and
//! counts per thread, so test-harness threads running other tests do not disturb the counts.
//! Each measurement follows a warm-up call, so lazy statics (compiled patterns) are already
//! initialised. The benchmark struct in `benches/benches/validate.rs` uses the same rule kinds.

use std::hint::black_box;

use secure_core::prelude::*;
use secure_core::validate::ValidationError;

/// Heap allocations made by `validate()` on this thread, after one warm-up call.
fn allocations<T: Validate>(value: &T) -> u64 {
    let _ = value.validate();
    allocation_counter::measure(|| {
        let _ = black_box(black_box(value).validate());
    })
    .count_total
}

#[derive(Validated, Debug)]
struct Address {
    #[validate(pattern = "[0-9]{5}")]
    zip: String,
    #[validate(length(min = 1, max = 50))]
    city: String,
}

/// Every rule kind of the benchmark struct; no sanitizers.
#[derive(Validated, Debug)]
struct Signup {
    #[validate(length(min = 3, max = 32), pattern = "[a-z0-9_]+")]
    username: String,
    #[validate(email)]
    email: String,
    #[validate(url)]
    homepage: Option<String>,
    #[validate(range(min = 13, max = 130))]
    age: u8,
    #[validate(nested)]
    address: Address,
    #[validate(length(max = 5), each(length(min = 1, max = 20)))]
    tags: Vec<String>,
    #[validate(length(min = 1, max = 200))]
    bio: Option<String>,
    #[validate(one_of("free", "pro"))]
    plan: String,
}

fn signup() -> Signup {
    Signup {
        username: "ada_lovelace_99".into(),
        email: "ada.lovelace@example.com".into(),
        homepage: Some("https://example.com/~ada/notes?page=2".into()),
        age: 36,
        address: Address {
            zip: "12345".into(),
            city: "London".into(),
        },
        tags: vec!["math".into(), "engines".into(), "poetry".into()],
        bio: Some("Mathematician, writer of the first published program.".into()),
        plan: "pro".into(),
    }
}

#[test]
fn valid_value_allocates_nothing() {
    let value = signup();
    assert!(value.validate().is_ok());
    assert_eq!(
        allocations(&value),
        0,
        "validate() of a valid value allocated"
    );
}

#[test]
fn invalid_value_allocates() {
    let mut value = signup();
    value.username = "Ada Lovelace!".into();
    value.age = 12;
    value.tags.push(String::new());
    assert_eq!(value.validate().unwrap_err().len(), 3);
    // At least the error list and one rendered path per failure.
    assert!(allocations(&value) >= 4, "the counter saw no allocation");
}

fn not_reserved(name: &str) -> Result<(), ValidationError> {
    if name == "admin" {
        Err(ValidationError::new("reserved"))
    } else {
        Ok(())
    }
}

/// The remaining rules, on the common shapes of valid input. Each rule sits on its own field,
/// so a failure names the rule that allocated.
#[test]
fn every_other_rule_on_valid_input_allocates_nothing() {
    macro_rules! check {
        ($failures:ident, $name:literal, $attr:meta, $ty:ty, $value:expr) => {{
            #[derive(Validated, Debug)]
            struct One(#[$attr] $ty);
            let one = One($value);
            assert!(one.validate().is_ok(), "{} rejected its valid value", $name);
            let n = allocations(&one);
            if n != 0 {
                $failures.push(format!("{}: {n} allocation(s)", $name));
            }
        }};
    }
    let mut failures: Vec<String> = Vec::new();
    check!(
        failures,
        "bytes",
        validate(bytes(max = 8)),
        String,
        "äöü".into()
    );
    check!(
        failures,
        "length equal",
        validate(length(equal = 3)),
        String,
        "abc".into()
    );
    check!(
        failures,
        "range f64",
        validate(range(exclusive_min = 0.0, max = 1.0)),
        f64,
        0.5
    );
    check!(
        failures,
        "range i32",
        validate(range(min = -5, max = 5)),
        i32,
        -1
    );
    check!(
        failures,
        "url https public",
        validate(url(schemes("https"), public)),
        String,
        "https://api.example.com:8443/v1/items?id=42#top".into()
    );
    check!(failures, "ip v4", validate(ip), String, "192.0.2.7".into());
    check!(
        failures,
        "ip v6",
        validate(ip),
        String,
        "2001:db8::1".into()
    );
    check!(failures, "ipv4", validate(ipv4), String, "10.0.0.1".into());
    check!(failures, "ipv6", validate(ipv6), String, "fe80::1".into());
    check!(
        failures,
        "uuid",
        validate(uuid),
        String,
        "67e55044-10b1-426f-9247-bb680e5fe0c8".into()
    );
    check!(
        failures,
        "credit_card",
        validate(credit_card),
        String,
        "4539578763621486".into()
    );
    check!(
        failures,
        "none_of",
        validate(none_of("root", "admin")),
        String,
        "ada".into()
    );
    check!(failures, "ascii", validate(ascii), String, "plain".into());
    check!(
        failures,
        "alphanumeric",
        validate(alphanumeric),
        String,
        "abc123".into()
    );
    check!(
        failures,
        "no_control",
        validate(no_control),
        String,
        "one line".into()
    );
    check!(
        failures,
        "safe_path",
        validate(safe_path),
        String,
        "docs/readme.md".into()
    );
    check!(
        failures,
        "contains",
        validate(contains = "@"),
        String,
        "a@b".into()
    );
    check!(
        failures,
        "does_not_contain",
        validate(does_not_contain = ".."),
        String,
        "a.b".into()
    );
    check!(
        failures,
        "option range",
        validate(range(max = 10)),
        Option<u32>,
        Some(3)
    );
    assert!(
        failures.is_empty(),
        "rules that allocate on valid input: {failures:#?}"
    );
}

// Written out rather than through `check!`: the derive's `custom` and `each` expansions use
// the field's span for their own locals, which macro_rules hygiene hides (see the report).
#[test]
fn custom_each_nested_and_must_match_on_valid_input_allocate_nothing() {
    #[derive(Validated, Debug)]
    struct Custom(#[validate(custom = not_reserved)] String);
    let value = Custom("ada".into());
    assert!(value.validate().is_ok());
    assert_eq!(allocations(&value), 0, "custom");

    #[derive(Validated, Debug)]
    struct EachNested(#[validate(each(nested))] Vec<Address>);
    let value = EachNested(vec![Address {
        zip: "12345".into(),
        city: "Paris".into(),
    }]);
    assert!(value.validate().is_ok());
    assert_eq!(allocations(&value), 0, "each(nested)");

    #[derive(Validated, Debug)]
    struct Passwords {
        #[validate(length(min = 12, max = 128))]
        password: String,
        #[validate(must_match(password))]
        confirm: String,
    }
    let value = Passwords {
        password: "correct horse battery".into(),
        confirm: "correct horse battery".into(),
    };
    assert!(value.validate().is_ok());
    assert_eq!(allocations(&value), 0, "must_match");
}
