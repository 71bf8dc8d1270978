//! Cross-crate tests of the secure framework; the suites live in `tests/`.
#![forbid(unsafe_code)]
