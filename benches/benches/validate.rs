//! `validate()` of one struct with the same rules in secure, validator 0.20 and garde 0.23,
//! on valid and on invalid input, in the same criterion run.
//!
//! Run and report (from the workspace root):
//!
//! ```text
//! cargo bench -p secure-benches --bench validate && python3 benches/report.py
//! ```
//!
//! `report.py` prints a markdown table of the medians (`median.point_estimate` in
//! `target/criterion/<group>/<bench>/new/estimates.json`) and the ratios validator/secure and
//! garde/secure. While developing, shorten the run:
//! `cargo bench -p secure-benches --bench validate -- --warm-up-time 1 --measurement-time 2`.
//!
//! # Same rules, and where the libraries differ
//! Every field carries the same bounds and the same (anchored) patterns in all three. What the
//! libraries cannot express the same way, and which way each difference leans:
//! - `one_of("free", "pro")`: neither validator nor garde has it; both use a `custom` function
//!   doing the same `matches!`.
//! - `each(length(min = 1, max = 20))` on `tags`: validator has no `each`, so a `custom`
//!   function checks every element and reports one error for the field (secure and garde
//!   report one error per failing element: validator does less work on invalid input).
//!   garde uses `inner(length(chars, ...))`.
//! - `url`: secure also requires the scheme to be `http` or `https`; validator and garde accept
//!   whatever `Url::parse` accepts (less work for them).
//! - `email`: all three implement the WHATWG HTML definition. validator and garde also accept
//!   IP-literal and IDN domains (a fallback that runs only when the plain check fails, so on
//!   invalid input); secure is stricter (RFC 5321 length limits, no IP literal, no IDN).
//! - `length` counts characters in all three (garde: `length(chars, ...)`).
//! - Patterns: secure anchors `pattern = "P"` as `\A(?:P)\z`; validator and garde match
//!   anywhere, so they get that anchored string verbatim. Each is compiled once: secure and
//!   garde (string literal) in a static `LazyLock`, validator from a static `LazyLock<Regex>`.
//! - Errors: validator also records the offending value as a param (its own behaviour).
//!
//! Inputs are built outside the timed loop; only `validate()` is measured.

use std::hint::black_box;
use std::sync::LazyLock;

use criterion::{Criterion, criterion_group, criterion_main};

/// secure's definition: the derive under test.
mod secure_def {
    use secure_core::prelude::*;

    #[derive(Validated, Debug, Clone)]
    pub(crate) struct Address {
        #[validate(pattern = "[0-9]{5}")]
        pub(crate) zip: String,
        #[validate(length(min = 1, max = 50))]
        pub(crate) city: String,
    }

    #[derive(Validated, Debug, Clone)]
    pub(crate) struct Signup {
        #[validate(length(min = 3, max = 32), pattern = "[a-z0-9_]+")]
        pub(crate) username: String,
        #[validate(email)]
        pub(crate) email: String,
        #[validate(url)]
        pub(crate) homepage: Option<String>,
        #[validate(range(min = 13, max = 130))]
        pub(crate) age: u8,
        #[validate(nested)]
        pub(crate) address: Address,
        #[validate(length(max = 5), each(length(min = 1, max = 20)))]
        pub(crate) tags: Vec<String>,
        #[validate(length(min = 1, max = 200))]
        pub(crate) bio: Option<String>,
        #[validate(one_of("free", "pro"))]
        pub(crate) plan: String,
    }
}

/// validator 0.20's definition.
mod validator_def {
    use super::LazyLock;
    use regex::Regex;
    use validator::{Validate, ValidationError};

    // Compiled once, like secure's and garde's patterns; the same anchoring as secure.
    static USERNAME: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\A(?:[a-z0-9_]+)\z").expect("valid pattern"));
    static ZIP: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\A(?:[0-9]{5})\z").expect("valid pattern"));

    fn plan_allowed(plan: &str) -> Result<(), ValidationError> {
        if matches!(plan, "free" | "pro") {
            Ok(())
        } else {
            Err(ValidationError::new("one_of"))
        }
    }

    // validator has no `each`: check every element, report once for the field.
    fn each_tag(tags: &[String]) -> Result<(), ValidationError> {
        if tags.iter().all(|t| (1..=20).contains(&t.chars().count())) {
            Ok(())
        } else {
            Err(ValidationError::new("length"))
        }
    }

    #[derive(Validate, Debug, Clone)]
    pub(crate) struct Address {
        #[validate(regex(path = *ZIP))]
        pub(crate) zip: String,
        #[validate(length(min = 1, max = 50))]
        pub(crate) city: String,
    }

    #[derive(Validate, Debug, Clone)]
    pub(crate) struct Signup {
        #[validate(length(min = 3, max = 32), regex(path = *USERNAME))]
        pub(crate) username: String,
        #[validate(email)]
        pub(crate) email: String,
        #[validate(url)]
        pub(crate) homepage: Option<String>,
        #[validate(range(min = 13, max = 130))]
        pub(crate) age: u8,
        #[validate(nested)]
        pub(crate) address: Address,
        #[validate(length(max = 5), custom(function = each_tag))]
        pub(crate) tags: Vec<String>,
        #[validate(length(min = 1, max = 200))]
        pub(crate) bio: Option<String>,
        #[validate(custom(function = plan_allowed))]
        pub(crate) plan: String,
    }
}

/// garde 0.23's definition.
mod garde_def {
    use garde::Validate;

    fn plan_allowed(plan: &str, _ctx: &()) -> garde::Result {
        if matches!(plan, "free" | "pro") {
            Ok(())
        } else {
            Err(garde::Error::new("not one of: free, pro"))
        }
    }

    #[derive(Validate, Debug, Clone)]
    pub(crate) struct Address {
        #[garde(pattern(r"\A(?:[0-9]{5})\z"))]
        pub(crate) zip: String,
        #[garde(length(chars, min = 1, max = 50))]
        pub(crate) city: String,
    }

    #[derive(Validate, Debug, Clone)]
    pub(crate) struct Signup {
        #[garde(length(chars, min = 3, max = 32), pattern(r"\A(?:[a-z0-9_]+)\z"))]
        pub(crate) username: String,
        #[garde(email)]
        pub(crate) email: String,
        #[garde(url)]
        pub(crate) homepage: Option<String>,
        #[garde(range(min = 13, max = 130))]
        pub(crate) age: u8,
        #[garde(dive)]
        pub(crate) address: Address,
        #[garde(length(max = 5), inner(length(chars, min = 1, max = 20)))]
        pub(crate) tags: Vec<String>,
        #[garde(length(chars, min = 1, max = 200))]
        pub(crate) bio: Option<String>,
        #[garde(custom(plan_allowed))]
        pub(crate) plan: String,
    }
}

/// The field values of one input, converted into each library's struct.
#[derive(Clone)]
struct Input {
    username: &'static str,
    email: &'static str,
    homepage: Option<&'static str>,
    age: u8,
    zip: &'static str,
    city: &'static str,
    tags: Vec<String>,
    bio: Option<&'static str>,
    plan: &'static str,
}

fn valid_input() -> Input {
    Input {
        username: "ada_lovelace_99",
        email: "ada.lovelace@example.com",
        homepage: Some("https://example.com/~ada/notes?page=2"),
        age: 36,
        zip: "12345",
        city: "London",
        tags: vec!["math".into(), "engines".into(), "poetry".into()],
        bio: Some("Mathematician, writer of the first published program."),
        plan: "pro",
    }
}

/// Nine rules fail: username pattern, email, url, range, zip pattern, city length, two tag
/// elements (one for validator), one_of.
fn invalid_input() -> Input {
    Input {
        username: "Ada Lovelace!",
        email: "ada.lovelace@",
        homepage: Some("not a url"),
        age: 12,
        zip: "1234a",
        city: "",
        tags: vec!["math".into(), String::new(), "x".repeat(30)],
        bio: None,
        plan: "gold",
    }
}

impl Input {
    fn secure(&self) -> secure_def::Signup {
        secure_def::Signup {
            username: self.username.into(),
            email: self.email.into(),
            homepage: self.homepage.map(Into::into),
            age: self.age,
            address: secure_def::Address {
                zip: self.zip.into(),
                city: self.city.into(),
            },
            tags: self.tags.clone(),
            bio: self.bio.map(Into::into),
            plan: self.plan.into(),
        }
    }

    fn validator(&self) -> validator_def::Signup {
        validator_def::Signup {
            username: self.username.into(),
            email: self.email.into(),
            homepage: self.homepage.map(Into::into),
            age: self.age,
            address: validator_def::Address {
                zip: self.zip.into(),
                city: self.city.into(),
            },
            tags: self.tags.clone(),
            bio: self.bio.map(Into::into),
            plan: self.plan.into(),
        }
    }

    fn garde(&self) -> garde_def::Signup {
        garde_def::Signup {
            username: self.username.into(),
            email: self.email.into(),
            homepage: self.homepage.map(Into::into),
            age: self.age,
            address: garde_def::Address {
                zip: self.zip.into(),
                city: self.city.into(),
            },
            tags: self.tags.clone(),
            bio: self.bio.map(Into::into),
            plan: self.plan.into(),
        }
    }
}

/// All field errors in validator's nested map.
fn count_validator(errors: &validator::ValidationErrors) -> usize {
    use validator::ValidationErrorsKind as Kind;
    errors
        .errors()
        .values()
        .map(|kind| match kind {
            Kind::Field(list) => list.len(),
            Kind::Struct(inner) => count_validator(inner),
            Kind::List(items) => items.values().map(|e| count_validator(e)).sum(),
        })
        .sum()
}

/// Checks that the three definitions agree before timing them, so a rule that silently does
/// nothing cannot win the benchmark.
fn check_agreement() {
    let valid = valid_input();
    secure_core::Validate::validate(&valid.secure()).expect("secure: valid input passes");
    validator::Validate::validate(&valid.validator()).expect("validator: valid input passes");
    garde::Validate::validate(&valid.garde()).expect("garde: valid input passes");

    let invalid = invalid_input();
    let secure = secure_core::Validate::validate(&invalid.secure()).expect_err("secure fails");
    let validator =
        validator::Validate::validate(&invalid.validator()).expect_err("validator fails");
    let garde = garde::Validate::validate(&invalid.garde()).expect_err("garde fails");
    let validator_count = count_validator(&validator);
    assert_eq!(secure.len(), 9, "secure: {secure}");
    assert_eq!(garde.iter().count(), 9, "garde: {garde}");
    // One fewer: validator's `each` stand-in reports the two bad tags once.
    assert_eq!(validator_count, 8, "validator: {validator}");
}

fn validate(c: &mut Criterion) {
    check_agreement();
    for (group, input) in [("valid", valid_input()), ("invalid", invalid_input())] {
        let secure = input.secure();
        let validator = input.validator();
        let garde = input.garde();
        let mut g = c.benchmark_group(group);
        g.bench_function("secure", |b| {
            b.iter(|| secure_core::Validate::validate(black_box(&secure)))
        });
        g.bench_function("validator", |b| {
            b.iter(|| validator::Validate::validate(black_box(&validator)))
        });
        g.bench_function("garde", |b| {
            b.iter(|| garde::Validate::validate(black_box(&garde)))
        });
        g.finish();
    }
}

criterion_group!(benches, validate);
criterion_main!(benches);
