//! A service's `main` that returns a start-up error prints the sentence that names the fix,
//! not the error's fields: Rust prints `Error: {err:?}`, and start-up errors' `Debug` is their
//! `Display`.

use std::process::Command;

fn printed(case: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_startup_error"))
        .arg(case)
        .output()
        .expect("the program runs");
    assert!(!output.status.success(), "{case} succeeded");
    String::from_utf8(output.stderr).expect("UTF-8")
}

#[test]
fn main_prints_the_fix() {
    assert_eq!(
        printed("assembly"),
        "Error: GET /me need an authenticator and the configuration has none: add one with \
         `SecurityConfig::authenticator(Authenticator::new(tokens))` (access tokens from \
         `AccessTokens::builder(keys.access_token_key(), issuer, audience)`)\n"
    );
    assert_eq!(
        printed("config"),
        "Error: SECURE_JWT_KEY: is 8 bytes; at least 32 are needed (for example `openssl rand -base64 48`)\n"
    );
    assert_eq!(
        printed("proxies"),
        "Error: not an IP address or CIDR range: \"10.0.0.0/33\"\n"
    );
}
