//! `#[sensitive]` at run time: `Debug` of every shape never contains the secret, masks show
//! only what they were asked to, serde writes only the mask, and `#[derive(Validated)]` works
//! on the same type.

#![allow(dead_code)] // fields exist to be printed, as with a derived Debug

use secure_core::prelude::*;
use serde::{Deserialize, Serialize};

const SECRET: &str = "hunter2-Zq9-planted-secret";

#[sensitive]
#[derive(Deserialize, Clone)]
struct Login {
    username: String,
    #[sensitive]
    password: String,
}

#[sensitive]
struct ApiKey(String);

#[sensitive]
struct Credentials {
    user: String,
    token: SecretString,
}

#[sensitive]
enum Credential {
    Password {
        user: String,
        #[sensitive]
        password: String,
    },
    #[sensitive]
    Bearer(String),
    Anonymous,
}

#[sensitive]
struct Vault {
    #[sensitive]
    keys: Vec<String>,
    #[sensitive]
    recovery: Option<String>,
    #[sensitive]
    seed: [u8; 8],
    #[sensitive]
    blob: Vec<u8>,
    name: &'static str,
}

#[derive(Debug)]
struct Session {
    id: u32,
    login: Login,
    keys: Vec<ApiKey>,
    maybe: Option<ApiKey>,
}

#[sensitive]
#[derive(Serialize)]
struct Payment {
    amount: u32,
    #[sensitive(mask = last(4), serialize = masked)]
    card: String,
    #[sensitive(mask = email, serialize = masked)]
    email: Option<String>,
    #[sensitive]
    #[serde(skip_serializing)]
    cvv: String,
}

#[sensitive(mask = first(3))]
struct Token(SecretString);

fn login() -> Login {
    Login {
        username: "ada".into(),
        password: SECRET.into(),
    }
}

fn assert_hidden(text: &str) {
    assert!(!text.contains(SECRET), "secret leaked: {text}");
    assert!(
        !text.contains("planted"),
        "part of the secret leaked: {text}"
    );
}

#[test]
fn named_fields() {
    let text = format!("{:?}", login());
    assert_eq!(text, r#"Login { username: "ada", password: [REDACTED] }"#);
    assert_hidden(&format!("{:#?}", login()));
}

#[test]
fn whole_type_newtype_and_named() {
    let key = ApiKey(SECRET.into());
    assert_eq!(format!("{key:?}"), "ApiKey([REDACTED])");
    assert_eq!(format!("{key}"), "[REDACTED]");
    let c = Credentials {
        user: "ada".into(),
        token: SECRET.into(),
    };
    assert_eq!(
        format!("{c:?}"),
        "Credentials { user: [REDACTED], token: [REDACTED] }"
    );
}

#[test]
fn enum_variants() {
    let all = [
        Credential::Password {
            user: "ada".into(),
            password: SECRET.into(),
        },
        Credential::Bearer(SECRET.into()),
        Credential::Anonymous,
    ];
    let text = format!("{all:?}");
    assert_eq!(
        text,
        r#"[Password { user: "ada", password: [REDACTED] }, Bearer([REDACTED]), Anonymous]"#
    );
}

#[test]
fn collections_options_arrays() {
    let v = Vault {
        keys: vec![SECRET.into(), SECRET.into()],
        recovery: Some(SECRET.into()),
        seed: *b"hunter2-",
        blob: SECRET.as_bytes().to_vec(),
        name: "main",
    };
    let text = format!("{v:?}");
    assert_hidden(&text);
    assert!(!text.contains("104, 117"), "bytes leaked: {text}");
    assert_eq!(
        text,
        r#"Vault { keys: [REDACTED], recovery: [REDACTED], seed: [REDACTED], blob: [REDACTED], name: "main" }"#
    );
}

#[test]
fn nested_in_a_plain_debug_type() {
    let s = Session {
        id: 7,
        login: login(),
        keys: vec![ApiKey(SECRET.into())],
        maybe: Some(ApiKey(SECRET.into())),
    };
    for text in [format!("{s:?}"), format!("{s:#?}")] {
        assert_hidden(&text);
        assert!(text.contains("[REDACTED]"));
    }
}

#[test]
fn masks_in_debug() {
    let p = Payment {
        amount: 10,
        card: "4111 1111 1111 1234".into(),
        email: Some("jane@example.com".into()),
        cvv: "123".into(),
    };
    assert_eq!(
        format!("{p:?}"),
        "Payment { amount: 10, card: ***1234, email: j***@example.com, cvv: [REDACTED] }"
    );
    let t = Token(SecretString::from("sk_live_0123456789"));
    assert_eq!(format!("{t:?}"), "Token(sk_***)");
    assert_eq!(t.to_string(), "sk_***");
    let short = Token(SecretString::from("sk_li"));
    assert_eq!(short.to_string(), "[REDACTED]");
}

#[test]
fn serde_writes_only_the_mask() {
    let p = Payment {
        amount: 10,
        card: "4111111111111234".into(),
        email: None,
        cvv: "123".into(),
    };
    let json = serde_json::to_string(&p).unwrap();
    assert_eq!(json, r#"{"amount":10,"card":"***1234","email":null}"#);
    // `..p` would move out of a type with `Drop`: set the field on a clone instead.
    let mut p = p_clone(&p);
    p.email = Some("jane@example.com".into());
    let json = serde_json::to_string(&p).unwrap();
    assert_eq!(
        json,
        r#"{"amount":10,"card":"***1234","email":"j***@example.com"}"#
    );
}

fn p_clone(p: &Payment) -> Payment {
    Payment {
        amount: p.amount,
        card: p.card.clone(),
        email: p.email.clone(),
        cvv: p.cvv.clone(),
    }
}

#[test]
fn deserialize_and_clone_work() {
    let l: Login =
        serde_json::from_str(&format!(r#"{{"username":"ada","password":"{SECRET}"}}"#)).unwrap();
    assert_eq!(l.password, SECRET);
    assert_hidden(&format!("{:?}", l.clone()));
}
