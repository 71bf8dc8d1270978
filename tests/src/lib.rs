//! Cross-crate tests of the secure framework; the suites live in `tests/`.
#![forbid(unsafe_code)]

/// The README's Rust examples compile and run as doctests, so the README cannot drift.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
