//! Placeholder: the signup example lands with the extractors.
#![forbid(unsafe_code)]

fn main() {}
