//! Dropping a `#[sensitive]` value leaves no copy of its secrets in freed heap memory.
//!
//! `alloc_probe::Probe` is this binary's global allocator: while armed with a needle, it
//! searches every block before freeing it. The control (a plain `String`) shows the probe
//! does find a secret that nobody wiped, so a clean report means something.
//!
//! One `#[test]` only: the probe's counts are global, and tests running in parallel would
//! free blocks into each other's reports.

use std::hint::black_box;

use secure_core::prelude::*;

#[global_allocator]
static PROBE: alloc_probe::Probe = alloc_probe::Probe;

const NEEDLE: &str = "ZQ-planted-secret-7f3a9c";

#[sensitive]
#[derive(serde::Deserialize, Validated)]
struct Login {
    #[validate(length(min = 1, max = 64))]
    username: String,
    #[sensitive]
    #[validate(length(min = 8, max = 128))]
    password: String,
}

#[sensitive]
#[derive(Validated)]
struct Token {
    // `trim` works in place.
    #[sensitive]
    #[validate(trim, length(min = 1))]
    value: String,
}

#[sensitive]
#[derive(Validated)]
struct Folded {
    // Normalisation and case mapping build a new String: the one they replace is wiped.
    #[sensitive]
    #[validate(nfkc, lowercase, length(min = 1))]
    value: String,
}

#[sensitive]
struct ApiKey(SecretString);

#[sensitive]
struct Keys {
    raw: Vec<u8>,
    backup: Option<String>,
    boxed: Box<str>,
}

#[sensitive]
struct Seed([u8; 24]);

#[sensitive]
enum Credential {
    #[sensitive]
    Token(String),
    Password {
        #[allow(dead_code)] // a public field next to the secret; never read here
        user: String,
        #[sensitive]
        password: String,
    },
}

/// Runs `f` with the probe armed; returns what it saw.
fn probe(f: impl FnOnce()) -> alloc_probe::Report {
    alloc_probe::arm(NEEDLE.as_bytes());
    f();
    alloc_probe::disarm()
}

fn secret() -> String {
    // One allocation of exactly the secret's length: no intermediate copies.
    String::from(black_box(NEEDLE))
}

fn assert_wiped(case: &str, report: alloc_probe::Report) {
    assert!(report.searched > 0, "{case}: the probe saw no freed block");
    assert_eq!(
        report.found, 0,
        "{case}: a freed block still held the secret"
    );
}

#[test]
fn dropped_secrets_are_wiped_from_freed_memory() {
    // Control: an unwiped String is found in freed memory, so the probe works.
    let control = probe(|| drop(black_box(secret())));
    assert!(control.searched > 0 && control.found > 0, "{control:?}");

    assert_wiped(
        "field of a marked struct",
        probe(|| {
            let login = Login {
                username: "ada".into(),
                password: secret(),
            };
            drop(black_box(login));
        }),
    );

    assert_wiped(
        "after Debug and validation",
        probe(|| {
            let login = Login {
                username: "ada".into(),
                password: secret(),
            };
            let text = format!("{login:?}");
            assert!(!text.contains(NEEDLE));
            assert!(login.validate().is_ok());
            drop(black_box(login));
        }),
    );

    assert_wiped(
        "after the trim sanitizer",
        probe(|| {
            // Not `format!`: it grows its buffer while writing, and the probe (rightly) finds
            // the secret in the block that growth freed, before any `#[sensitive]` type owned it.
            let mut value = String::with_capacity(NEEDLE.len() + 4);
            value.push_str("  ");
            value.push_str(NEEDLE);
            value.push_str("  ");
            let mut token = Token { value };
            token.sanitize();
            assert_eq!(token.value, NEEDLE);
            drop(black_box(token));
        }),
    );

    assert_wiped(
        "after the nfkc and lowercase sanitizers",
        probe(|| {
            // Full-width capitals: NFKC and lowercase both rewrite it, freeing two buffers.
            let mut value = String::with_capacity(NEEDLE.len() * 3);
            for c in NEEDLE.chars() {
                value.push(match c {
                    'A'..='Z' => char::from_u32(c as u32 - 'A' as u32 + 0xFF21).unwrap_or(c),
                    other => other,
                });
            }
            let mut folded = Folded { value };
            folded.sanitize();
            assert_eq!(folded.value, NEEDLE.to_lowercase());
            drop(black_box(folded));
        }),
    );

    assert_wiped(
        "SecretString in a whole-type newtype",
        probe(|| drop(black_box(ApiKey(SecretString::from(secret()))))),
    );

    assert_wiped(
        "Vec<u8>, Option<String> and Box<str>",
        probe(|| {
            let keys = Keys {
                raw: secret().into_bytes(),
                backup: Some(secret()),
                boxed: secret().into_boxed_str(),
            };
            drop(black_box(keys));
        }),
    );

    assert_wiped(
        "array inside a Box",
        probe(|| {
            let mut seed = [0u8; 24];
            seed.copy_from_slice(NEEDLE.as_bytes());
            drop(black_box(Box::new(Seed(seed))));
        }),
    );

    assert_wiped(
        "enum variants",
        probe(|| {
            drop(black_box(Credential::Token(secret())));
            drop(black_box(Credential::Password {
                user: "ada".into(),
                password: secret(),
            }));
        }),
    );

    // Deserialising: serde_json copies the string straight into the field's String.
    let body = format!(r#"{{"username":"ada","password":"{NEEDLE}"}}"#);
    assert_wiped(
        "deserialised from JSON",
        probe(|| {
            let login: Login = serde_json::from_str(black_box(&body)).unwrap_or_else(|e| {
                panic!("valid JSON: {e}");
            });
            drop(black_box(login));
        }),
    );
    drop(body);
}
