//! Compile-time rules: every mistake has a case here, and its `.stderr` is the message a user
//! reads. Regenerate with `TRYBUILD=overwrite cargo test -p secure-ui --test ui`, then review
//! every changed snapshot as if you received it.
//!
//! Each area's failing cases are one `TestCases` holding no passing case, so trybuild checks
//! them all in one cargo invocation (`cargo check`: no code generated for the dependencies).
//! The cases that must compile are test programs of this crate (`pass_*` in its Cargo.toml),
//! built with the workspace.

#[test]
fn validated() {
    trybuild::TestCases::new().compile_fail("validated/fail/*.rs");
}

#[test]
fn sensitive() {
    trybuild::TestCases::new().compile_fail("sensitive/fail/*.rs");
}

#[test]
fn role() {
    trybuild::TestCases::new().compile_fail("role/fail/*.rs");
}

#[test]
fn handler() {
    trybuild::TestCases::new().compile_fail("handler/fail/*.rs");
}

#[test]
fn resource() {
    trybuild::TestCases::new().compile_fail("resource/fail/*.rs");
}
