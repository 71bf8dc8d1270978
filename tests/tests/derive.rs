//! Behaviour of `#[derive(Validated)]`: every rule, sanitizer, path and override.

use std::collections::{BTreeMap, HashSet};

use secure_core::prelude::*;
use secure_core::validate::{FieldError, Param, ValidationError};
use serde::Deserialize;

fn errors<T: Validate>(value: &T) -> Vec<(String, String)> {
    match value.validate() {
        Ok(()) => Vec::new(),
        Err(e) => e
            .iter()
            .map(|e| (e.field().to_owned(), e.code().to_owned()))
            .collect(),
    }
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(f, c)| ((*f).to_owned(), (*c).to_owned()))
        .collect()
}

#[derive(Validated, Deserialize, Debug, Clone)]
struct Address {
    #[validate(pattern = "[0-9]{5}")]
    zip: String,
    #[validate(trim, length(min = 1, max = 50))]
    city: String,
}

fn not_reserved(name: &str) -> Result<(), ValidationError> {
    if name == "admin" {
        Err(ValidationError::new("reserved"))
    } else {
        Ok(())
    }
}

#[derive(Validated, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
struct Signup {
    #[validate(trim, lowercase, length(min = 3, max = 32), pattern = "[a-z0-9_]+", custom = not_reserved)]
    user_name: String,
    #[validate(trim, email)]
    email: String,
    #[validate(url(schemes("https"), public))]
    home_page: Option<String>,
    #[validate(range(min = 13, max = 130))]
    age: u8,
    #[validate(nested)]
    address: Address,
    #[validate(length(max = 3), each(trim, length(min = 1, max = 10)))]
    tags: Vec<String>,
    #[validate(one_of("free", "pro"))]
    plan: String,
    #[validate(length(min = 12, max = 128))]
    password: String,
    #[validate(must_match(password))]
    #[serde(rename = "confirm")]
    password_confirm: String,
}

fn signup() -> Signup {
    Signup {
        user_name: "ada_99".into(),
        email: "ada@example.com".into(),
        home_page: Some("https://example.com/ada".into()),
        age: 36,
        address: Address {
            zip: "12345".into(),
            city: "London".into(),
        },
        tags: vec!["math".into(), "engines".into()],
        plan: "pro".into(),
        password: "correct horse battery".into(),
        password_confirm: "correct horse battery".into(),
    }
}

#[test]
fn valid_value_passes() {
    assert_eq!(errors(&signup()), pairs(&[]));
}

#[test]
fn every_failure_is_reported_with_serde_paths() {
    let mut s = signup();
    s.user_name = "Admin!".into();
    s.email = "not-an-email".into();
    s.home_page = Some("http://127.0.0.1/".into());
    s.age = 12;
    s.address.zip = "1234a".into();
    s.tags = vec!["ok".into(), String::new(), "x".into(), "y".into()];
    s.plan = "gold".into();
    s.password_confirm = "different".into();
    assert_eq!(
        errors(&s),
        pairs(&[
            ("userName", "pattern"),
            ("email", "email"),
            ("homePage", "url"),
            ("age", "range"),
            ("address.zip", "pattern"),
            ("tags", "length"),
            ("tags[1]", "length"),
            ("plan", "one_of"),
            ("confirm", "must_match"),
        ])
    );
}

#[test]
fn custom_rule_reports_its_code() {
    let mut s = signup();
    s.user_name = "admin".into();
    assert_eq!(errors(&s), pairs(&[("userName", "reserved")]));
}

#[test]
fn sanitize_runs_before_rules_and_is_idempotent() {
    let mut s = signup();
    s.user_name = "  Ada_99 ".into();
    s.email = " ada@example.com\t".into();
    s.tags = vec!["  math ".into()];
    s.address.city = " London ".into();
    let valid = Valid::new(s.clone()).expect("sanitised value is valid");
    assert_eq!(valid.user_name, "ada_99");
    assert_eq!(valid.email, "ada@example.com");
    assert_eq!(valid.tags, vec!["math".to_owned()]);
    assert_eq!(valid.address.city, "London");
    let mut twice = valid.into_inner();
    let before = format!("{twice:?}");
    twice.sanitize();
    assert_eq!(format!("{twice:?}"), before);
    // Without sanitising, the raw value fails.
    assert!(s.validate().is_err());
}

#[test]
fn params_and_messages_are_reported() {
    #[derive(Validated)]
    struct Msg {
        #[validate(length(
            min = 3,
            max = 5,
            message = "3 to 5 characters",
            code = "too_short_or_long"
        ))]
        name: String,
        #[validate(one_of("a", "b"))]
        kind: String,
        #[validate(range(min = -5, max = 5))]
        offset: i32,
        #[validate(range(exclusive_min = 0.0, max = 1.0))]
        ratio: f64,
    }
    let e = Msg {
        name: "ab".into(),
        kind: "c".into(),
        offset: 6,
        ratio: 0.0,
    }
    .validate()
    .unwrap_err();
    let list: Vec<&FieldError> = e.iter().collect();
    assert_eq!(list[0].code(), "too_short_or_long");
    assert_eq!(list[0].message(), Some("3 to 5 characters"));
    assert_eq!(list[0].param("min"), Some(Param::UInt(3)));
    assert_eq!(list[0].param("max"), Some(Param::UInt(5)));
    assert_eq!(
        list[1].param("allowed"),
        Some(Param::List(&[Param::Str("a"), Param::Str("b")]))
    );
    assert_eq!(list[2].param("min"), Some(Param::Int(-5)));
    assert_eq!(list[3].code(), "range");
    assert_eq!(list[3].param("exclusive_min"), Some(Param::Float(0.0)));
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!(json[0]["params"], serde_json::json!({"min": 3, "max": 5}));
    assert_eq!(json[2]["params"], serde_json::json!({"min": -5, "max": 5}));
}

#[test]
fn nan_fails_a_range() {
    #[derive(Validated)]
    struct R {
        #[validate(range(min = 0.0, max = 1.0))]
        x: f64,
    }
    assert_eq!(errors(&R { x: f64::NAN }), pairs(&[("x", "range")]));
    assert_eq!(errors(&R { x: 0.5 }), pairs(&[]));
}

#[test]
fn length_counts_characters_and_bytes_counts_bytes() {
    #[derive(Validated)]
    struct L {
        #[validate(length(max = 3), bytes(max = 6))]
        s: String,
    }
    assert_eq!(errors(&L { s: "äöü".into() }), pairs(&[]));
    assert_eq!(
        errors(&L {
            s: "äöüx".into()
        }),
        pairs(&[("s", "length"), ("s", "bytes")])
    );
    assert_eq!(
        errors(&L {
            s: "€€€".into()
        }),
        pairs(&[("s", "bytes")])
    );
}

#[test]
fn pattern_is_anchored() {
    #[derive(Validated)]
    struct P {
        #[validate(pattern = "[a-z]+")]
        s: String,
        #[validate(pattern = "a|b")]
        alt: String,
    }
    assert_eq!(
        errors(&P {
            s: "abc".into(),
            alt: "a".into()
        }),
        pairs(&[])
    );
    assert_eq!(
        errors(&P {
            s: "abc1".into(),
            alt: "ab".into()
        }),
        pairs(&[("s", "pattern"), ("alt", "pattern")])
    );
    assert_eq!(
        errors(&P {
            s: "1abc".into(),
            alt: "xb".into()
        })
        .len(),
        2
    );
}

#[test]
fn string_rules() {
    #[derive(Validated)]
    struct S {
        #[validate(ascii)]
        ascii: String,
        #[validate(alphanumeric)]
        alnum: String,
        #[validate(no_control)]
        line: String,
        #[validate(safe_path)]
        file: String,
        #[validate(contains = "@", does_not_contain = "..")]
        c: String,
        #[validate(none_of("root", "admin"))]
        user: String,
        #[validate(ip)]
        ip: String,
        #[validate(ipv4)]
        ip4: String,
        #[validate(ipv6)]
        ip6: String,
        #[validate(uuid)]
        id: String,
        #[validate(credit_card)]
        card: String,
        #[validate(url)]
        link: String,
    }
    let ok = S {
        ascii: "plain".into(),
        alnum: "abc123".into(),
        line: "one line".into(),
        file: "docs/readme.md".into(),
        c: "a@b".into(),
        user: "ada".into(),
        ip: "::1".into(),
        ip4: "10.0.0.1".into(),
        ip6: "fe80::1".into(),
        id: "67e55044-10b1-426f-9247-bb680e5fe0c8".into(),
        card: "4539578763621486".into(),
        link: "http://example.com".into(),
    };
    assert_eq!(errors(&ok), pairs(&[]));
    let bad = S {
        ascii: "naïve".into(),
        alnum: "abc-123".into(),
        line: "two\r\nlines".into(),
        file: "../etc/passwd".into(),
        c: "a..b".into(),
        user: "root".into(),
        ip: "1.2.3".into(),
        ip4: "::1".into(),
        ip6: "10.0.0.1".into(),
        id: "not-a-uuid".into(),
        card: "4539578763621487".into(),
        link: "javascript:alert(1)".into(),
    };
    assert_eq!(
        errors(&bad),
        pairs(&[
            ("ascii", "ascii"),
            ("alnum", "alphanumeric"),
            ("line", "no_control"),
            ("file", "safe_path"),
            ("c", "contains"),
            ("c", "does_not_contain"),
            ("user", "none_of"),
            ("ip", "ip"),
            ("ip4", "ipv4"),
            ("ip6", "ipv6"),
            ("id", "uuid"),
            ("card", "credit_card"),
            ("link", "url"),
        ])
    );
}

#[test]
fn option_rules_apply_to_some_only() {
    #[derive(Validated)]
    struct O {
        #[validate(trim, email)]
        email: Option<String>,
        #[validate(range(max = 10))]
        n: Option<u32>,
        #[validate(each(length(max = 2)))]
        list: Option<Vec<String>>,
    }
    let none = O {
        email: None,
        n: None,
        list: None,
    };
    assert_eq!(errors(&none), pairs(&[]));
    let mut bad = O {
        email: Some(" nope ".into()),
        n: Some(11),
        list: Some(vec!["abc".into()]),
    };
    bad.sanitize();
    assert_eq!(bad.email.as_deref(), Some("nope"));
    assert_eq!(
        errors(&bad),
        pairs(&[("email", "email"), ("n", "range"), ("list[0]", "length")])
    );
}

#[test]
fn nested_collections_and_maps() {
    #[derive(Validated)]
    struct Item {
        #[validate(length(min = 1))]
        name: String,
    }
    #[derive(Validated)]
    struct Order {
        #[validate(nested)]
        items: Vec<Item>,
        #[validate(each(nested))]
        more: Vec<Item>,
        #[validate(each(range(max = 5)))]
        scores: BTreeMap<String, u8>,
        #[validate(each(length(max = 3)))]
        labels: HashSet<String>,
        #[validate(nested)]
        maybe: Option<Item>,
        #[validate(each(each(length(max = 1))))]
        grid: Vec<Vec<String>>,
    }
    let o = Order {
        items: vec![
            Item { name: "a".into() },
            Item {
                name: String::new(),
            },
        ],
        more: vec![Item {
            name: String::new(),
        }],
        scores: BTreeMap::from([("a".to_owned(), 1), ("b".to_owned(), 9)]),
        labels: HashSet::from(["long".to_owned()]),
        maybe: Some(Item {
            name: String::new(),
        }),
        grid: vec![vec!["x".into()], vec!["y".into(), "zz".into()]],
    };
    assert_eq!(
        errors(&o),
        pairs(&[
            ("items[1].name", "length"),
            ("more[0].name", "length"),
            ("scores[1]", "range"),
            ("labels[0]", "length"),
            ("maybe.name", "length"),
            ("grid[1][1]", "length"),
        ])
    );
}

fn passwords_differ(s: &ChangePassword) -> Result<(), ValidationError> {
    if s.old == s.new {
        Err(ValidationError::new("same_password").with_message("choose a new password"))
    } else {
        Ok(())
    }
}

#[derive(Validated)]
#[validate(custom = passwords_differ)]
struct ChangePassword {
    #[validate(length(min = 1))]
    old: String,
    #[validate(length(min = 12))]
    new: String,
}

#[test]
fn struct_level_custom_rule() {
    let same = ChangePassword {
        old: "correct horse battery".into(),
        new: "correct horse battery".into(),
    };
    let e = same.validate().unwrap_err();
    assert_eq!(e.errors()[0].field(), "");
    assert_eq!(e.errors()[0].code(), "same_password");
    assert_eq!(e.errors()[0].message(), Some("choose a new password"));
}

#[derive(Validated, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Payment {
    Card {
        #[validate(credit_card)]
        number: String,
    },
    #[serde(rename = "iban")]
    BankAccount(#[validate(length(min = 15, max = 34))] String),
    Pair(
        #[validate(range(max = 9))] u8,
        #[validate(range(max = 9))] u8,
    ),
    Cash,
}

#[test]
fn enums_follow_external_tagging() {
    assert_eq!(
        errors(&Payment::Card { number: "1".into() }),
        pairs(&[("card.number", "credit_card")])
    );
    assert_eq!(
        errors(&Payment::BankAccount("short".into())),
        pairs(&[("iban", "length")])
    );
    assert_eq!(
        errors(&Payment::Pair(1, 10)),
        pairs(&[("pair[1]", "range")])
    );
    assert_eq!(errors(&Payment::Cash), pairs(&[]));
}

#[derive(Validated, Deserialize)]
#[serde(tag = "type", rename_all_fields = "camelCase", deny_unknown_fields)]
enum Event {
    Login {
        #[validate(length(min = 1))]
        user_name: String,
    },
}

#[derive(Validated, Deserialize)]
#[serde(tag = "t", content = "c", deny_unknown_fields)]
enum Adjacent {
    A {
        #[validate(length(min = 1))]
        x: String,
    },
}

#[derive(Validated, Deserialize)]
#[serde(untagged)]
#[validate(allow_unknown_fields)]
enum Untagged {
    A {
        #[validate(length(min = 1))]
        x: String,
    },
}

#[test]
fn enums_follow_other_taggings() {
    assert_eq!(
        errors(&Event::Login {
            user_name: String::new()
        }),
        pairs(&[("userName", "length")])
    );
    assert_eq!(
        errors(&Adjacent::A { x: String::new() }),
        pairs(&[("c.x", "length")])
    );
    assert_eq!(
        errors(&Untagged::A { x: String::new() }),
        pairs(&[("x", "length")])
    );
}

#[derive(Validated, Deserialize)]
struct Newtype(#[validate(email)] String);

#[derive(Validated)]
struct Pair(
    #[validate(length(min = 1))] String,
    #[validate(range(min = 1))] u8,
);

#[derive(Validated, Deserialize)]
#[validate(allow_unknown_fields)]
struct Outer {
    #[validate(nested)]
    contact: Newtype,
    #[validate(nested)]
    #[serde(flatten)]
    inner: Address,
}

#[test]
fn tuple_structs_newtypes_and_flatten() {
    assert_eq!(errors(&Newtype("x".into())), pairs(&[("", "email")]));
    assert_eq!(
        errors(&Pair(String::new(), 0)),
        pairs(&[("[0]", "length"), ("[1]", "range")])
    );
    let o = Outer {
        contact: Newtype("x".into()),
        inner: Address {
            zip: "x".into(),
            city: "c".into(),
        },
    };
    assert_eq!(
        errors(&o),
        pairs(&[("contact", "email"), ("zip", "pattern")])
    );
}

#[test]
fn allow_unknown_fields_is_reported_to_extractors() {
    #[derive(Validated)]
    #[validate(allow_unknown_fields)]
    struct Open {}
    assert!(Open::allows_unknown_fields());
    assert!(!Address::allows_unknown_fields());
}

#[test]
fn generic_types_derive() {
    #[derive(Validated)]
    struct Page<T: Validate> {
        #[validate(range(min = 1, max = 100))]
        size: u32,
        #[validate(nested)]
        items: Vec<T>,
    }
    let p = Page {
        size: 0,
        items: vec![Newtype("bad".into())],
    };
    assert_eq!(
        errors(&p),
        pairs(&[("size", "range"), ("items[0]", "email")])
    );
}

// Generated locals keep call-site hygiene, so the derive works inside a user's macro_rules.
macro_rules! define_validated {
    ($name:ident) => {
        #[derive(Validated)]
        #[validate(custom = always_ok)]
        struct $name {
            #[validate(nested)]
            inner: Address,
            #[validate(custom = always_ok, each(length(max = 2)))]
            tags: Vec<String>,
        }
    };
}

fn always_ok<T>(_: &T) -> Result<(), ValidationError> {
    Ok(())
}

define_validated!(FromMacro);

#[test]
fn derive_inside_macro_rules() {
    let v = FromMacro {
        inner: Address {
            zip: "x".into(),
            city: "c".into(),
        },
        tags: vec!["abc".into()],
    };
    assert_eq!(
        errors(&v),
        pairs(&[("inner.zip", "pattern"), ("tags[0]", "length")])
    );
}
