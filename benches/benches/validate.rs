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

use criterion::{Criterion, criterion_group, criterion_main};

#[path = "support/validate.rs"]
mod support;

use support::{check_agreement, invalid_input, valid_input};

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
