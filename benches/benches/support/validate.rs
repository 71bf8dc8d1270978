//! The `Signup` definitions in secure, validator and garde and their inputs, shared by the
//! criterion bench (`validate.rs`) and the instruction counts (`instructions.rs`). The rules
//! and where the libraries differ are described in `validate.rs`.

use std::sync::LazyLock;

/// secure's definition: the derive under test.
pub(crate) mod secure_def {
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
pub(crate) mod validator_def {
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
pub(crate) mod garde_def {
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
pub(crate) struct Input {
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

pub(crate) fn valid_input() -> Input {
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
pub(crate) fn invalid_input() -> Input {
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
    pub(crate) fn secure(&self) -> secure_def::Signup {
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

    pub(crate) fn validator(&self) -> validator_def::Signup {
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

    pub(crate) fn garde(&self) -> garde_def::Signup {
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
pub(crate) fn count_validator(errors: &validator::ValidationErrors) -> usize {
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
pub(crate) fn check_agreement() {
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
