//! Compile-time rules: every mistake has a case here, and its `.stderr` is the message a user
//! reads. Regenerate with `TRYBUILD=overwrite cargo test -p secure-ui --test ui`, then review
//! every changed snapshot as if you received it.

#[test]
fn validated() {
    let t = trybuild::TestCases::new();
    t.pass("validated/pass/*.rs");
    t.compile_fail("validated/fail/*.rs");
}

#[test]
fn sensitive() {
    let t = trybuild::TestCases::new();
    t.pass("sensitive/pass/*.rs");
    t.compile_fail("sensitive/fail/*.rs");
}

#[test]
fn role() {
    let t = trybuild::TestCases::new();
    t.pass("role/pass/*.rs");
    t.compile_fail("role/fail/*.rs");
}

#[test]
fn handler() {
    let t = trybuild::TestCases::new();
    t.pass("handler/pass/*.rs");
    t.compile_fail("handler/fail/*.rs");
}
