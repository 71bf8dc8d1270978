//! Code generated for every shape compiles without a warning.
#![deny(warnings)]

use secure_core::prelude::*;
use secure_core::redact::Zeroize;
use serde::{Deserialize, Serialize};

/// Whole-type newtype with a mask.
#[sensitive(mask = last(4))]
pub struct CardNumber(pub String);

/// Whole-type, named fields.
#[sensitive]
#[derive(Clone, Deserialize)]
pub struct Credentials {
    pub user: String,
    pub token: SecretString,
}

/// Marked fields, validation on a secret field, serde with a masked opt-in and a skip.
#[sensitive]
#[derive(Deserialize, Serialize, Validated)]
#[serde(rename_all = "camelCase")]
pub struct Signup {
    #[validate(trim, email)]
    pub email_address: String,
    #[sensitive]
    #[validate(length(min = 12, max = 128))]
    #[serde(skip_serializing)]
    pub password: SecretString,
    #[sensitive(mask = email, serialize = masked)]
    #[validate(email)]
    pub recovery_email: Option<String>,
    #[sensitive]
    #[serde(skip)]
    pub seed: [u8; 32],
}

/// Enum: a marked variant, a marked field, a unit variant; generics.
#[sensitive]
pub enum Secret<T: Zeroize> {
    #[sensitive]
    Raw(T),
    Labelled {
        label: &'static str,
        #[sensitive(mask = first(2))]
        value: String,
    },
    Missing,
}

/// An empty enum.
#[sensitive]
pub enum Never {}

fn main() {
    let card = CardNumber("4111111111111234".into());
    let creds = Credentials {
        user: "ada".into(),
        token: SecretString::from("t"),
    };
    let signup = Signup {
        email_address: "a@example.com".into(),
        password: SecretString::from("correct horse battery"),
        recovery_email: None,
        seed: [0; 32],
    };
    let s: Secret<Vec<u8>> = Secret::Raw(vec![1, 2, 3]);
    let t: Secret<u8> = Secret::Labelled {
        label: "k",
        value: "abcdef".into(),
    };
    let _ = (
        Secret::<u8>::Missing,
        format!("{card} {card:?} {creds:?} {s:?} {t:?}"),
    );
    let _ = (signup.validate(), serde_json::to_string(&signup));
}
