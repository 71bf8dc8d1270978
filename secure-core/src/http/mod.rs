//! HTTP plumbing in front of every handler: request ids, audit context, problem+json for every
//! error answer, and panics turned into a generic 500.

pub mod context;
