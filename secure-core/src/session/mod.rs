//! Cookie sessions and CSRF protection for browser clients.
//!
//! **What it protects against** (OWASP ASVS 4.0.3):
//! - *stolen or guessed session ids* (3.2.2, 3.2.3): ids are 256 bits from a CSPRNG, carried
//!   only in a `__Host-session` cookie with `Secure; HttpOnly; SameSite=Strict; Path=/` and no
//!   `Domain` (3.4.1-3.4.5, see [`SessionCookie`]); the store keeps only their SHA-256, so a
//!   leaked store cannot be replayed (see [`SessionStore`]).
//! - *session fixation* (3.2.1): login always makes a new id and deletes the session the
//!   browser had; [`SessionManager::renew`] makes a new id on every privilege change and the
//!   old one stops working at once.
//! - *sessions that never end* (3.3.1-3.3.4): an idle timeout (default 30 minutes) and an
//!   absolute timeout (default 12 hours from login) are both enforced server-side; logout
//!   deletes the session and answers a `Set-Cookie` that clears the cookie;
//!   [`SessionManager::revoke_subject`] ends every session of a user (password change).
//! - *cross-site request forgery* (4.2.2, and 3.5.3's intent for cookie sessions): every
//!   cookie-authenticated request with an unsafe method must pass `Sec-Fetch-Site` and a
//!   signed double-submit token bound to the session (see [`csrf`]).
//! - *silent abuse*: login, logout, renewal, revocation, timeouts and CSRF failures are audit
//!   events (`auth.login`, `auth.logout`, `auth.session`, `auth.csrf`), without the id.
//!
//! Requests with `Authorization: Bearer` never reach this module (the authenticator only
//! consults the session cookie without an `Authorization` header): a bearer token is not sent
//! by the browser on its own, so it needs no CSRF defence.
//!
//! Wiring (every `auth` route then accepts the cookie and checks CSRF):
//!
//! ```
//! use std::sync::Arc;
//! use secure_core::SecretBox;
//! use secure_core::auth::Authenticator;
//! use secure_core::auth::jwt::{AccessTokenKey, AccessTokens};
//! use secure_core::config::SecurityConfig;
//! use secure_core::session::{CsrfKey, MemorySessionStore, SessionManager};
//!
//! let sessions = SessionManager::new(MemorySessionStore::new(), CsrfKey::generate());
//! let key = AccessTokenKey::hs256(SecretBox::from(vec![42u8; 32])).unwrap();
//! let tokens = AccessTokens::builder(key, "https://auth.example", "notes-api").build().unwrap();
//! let auth = Authenticator::new(tokens).with_sessions(Arc::new(sessions.clone()));
//! let config = SecurityConfig::new().authenticator(auth);
//! # let _ = config;
//! ```
//!
//! For several instances, use a shared store (`SqlSessionStore` on PostgreSQL, with the
//! features `sqlite`/`postgres`) and the same [`CsrfKey`] everywhere.

pub mod csrf;

mod cookie;
mod manager;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
mod store;

pub use cookie::{SESSION_COOKIE, SessionCookie};
pub use csrf::{CSRF_HEADER, CsrfKey, CsrfToken, needs_csrf_check};
pub use manager::{
    DEFAULT_ABSOLUTE_TIMEOUT, DEFAULT_IDLE_TIMEOUT, SessionError, SessionManager, StartedSession,
};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use sql::SqlSessionStore;
pub use store::{MemorySessionStore, SessionRecord, SessionStore};
