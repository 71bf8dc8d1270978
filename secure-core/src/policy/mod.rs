//! Deny by default: every route declares who may call it (OWASP ASVS 4.1.1, 4.1.3, 4.1.5;
//! OWASP API1/API5: broken object and function level authorisation).
//!
//! `#[secure_handler(...)]` records a [`RoutePolicy`] on each handler; [`SecureRouter`] routes
//! only such handlers and keeps the table of their policies, which reviewers read instead of
//! the code.

mod app;
mod assembly;
pub(crate) mod guard;
mod handler;
mod input;
pub(crate) mod pipeline;
pub(crate) mod route;
pub(crate) mod router;
mod table;

pub use app::SecureApp;
pub use handler::{RoutedBySecureRouter, SecureHandler};
pub use input::{PathSegment, SecureInput};
pub use route::{Access, DeclaredRead, ObjectAccess, RoutePolicy, Unvalidated};
pub use router::{SecureHandlerMarker, SecureMethodRouter, SecureRouter, routing};
pub use table::{PolicyTable, RouteEntry};
