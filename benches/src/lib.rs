//! Benchmarks of the secure framework; see `benches/`.
#![forbid(unsafe_code)]
