//! Cross-crate tests of the secure framework; the suites live in `tests/`.
#![forbid(unsafe_code)]

use std::sync::Once;

/// Call before installing a thread-scoped capturing subscriber (`set_default`/`with_default`).
///
/// tracing-core caches per callsite whether anyone listens, and while exactly one scoped
/// subscriber exists it lets any thread recompute that cache from its own default. A test
/// thread with no subscriber then switches the capturing test's events off, and an assertion
/// that a log line exists fails at random. A global subscriber that listens to everything
/// (and writes nothing) keeps the cache honest.
pub fn tracing_fallback() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry());
    });
}

/// The README's Rust examples compile and run as doctests, so the README cannot drift.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
