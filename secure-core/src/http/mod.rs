//! HTTP plumbing in front of every handler: request ids, audit context, problem+json for every
//! error answer, panics turned into a generic 500, security headers on every response and
//! strict CORS.

pub mod client;
pub mod connection;
pub mod context;
pub mod cors;
pub mod headers;
pub mod panic;
pub mod timeout;
