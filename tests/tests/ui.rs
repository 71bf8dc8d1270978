//! Compile-time rules: every mistake has a case here, and its `.stderr` is the message a user
//! reads. Regenerate with `TRYBUILD=overwrite cargo test -p secure-tests --test ui`, then review
//! every changed snapshot as if you received it.

#[test]
fn validated() {
    let t = trybuild::TestCases::new();
    t.pass("ui/validated/pass/*.rs");
    t.compile_fail("ui/validated/fail/*.rs");
}

#[test]
fn sensitive() {
    let t = trybuild::TestCases::new();
    t.pass("ui/sensitive/pass/*.rs");
    t.compile_fail("ui/sensitive/fail/*.rs");
}

#[test]
fn role() {
    let t = trybuild::TestCases::new();
    t.pass("ui/role/pass/*.rs");
    t.compile_fail("ui/role/fail/*.rs");
}

#[test]
fn handler() {
    let t = trybuild::TestCases::new();
    t.pass("ui/handler/pass/*.rs");
    t.compile_fail("ui/handler/fail/*.rs");
}
