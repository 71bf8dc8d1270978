//! Placeholder: RFC 9457 problem+json responses land with the extractors.

/// An RFC 9457 problem response.
#[derive(Debug)]
pub struct Problem;
