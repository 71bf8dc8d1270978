//! Who is calling, and how sure are we: access tokens (JWT), refresh tokens, passwords
//! (Argon2id), TOTP MFA, roles and the `Principal` extractor.
//!
//! What this protects against (OWASP ASVS 2.x authentication, 3.5.x token-based sessions,
//! 4.1.x access control; RFC 8725, the JWT best current practice):
//! * forged, altered, replayed or confused tokens: [`jwt`] pins one algorithm and key, refuses
//!   sender-supplied keys, `alg: none` and unknown extensions, and requires `iss`, `aud`, `exp`;
//! * handlers that act on an unauthenticated caller: the [`Authenticator`] verifies a bearer
//!   token or a session cookie on every `auth` route, and a [`Principal`] is made only from
//!   the [`Caller`] it produced;
//! * mistyped or foreign roles: roles are an enum ([`Role`], `#[derive(Role)]`), and a role
//!   name the enum does not know is refused, not ignored;
//! * leaky failures: [`AuthError`] answers fixed problem+json bodies with `WWW-Authenticate`,
//!   and every refusal is an audit event without the credential.
//!
//! ```
//! use secure_core::SecretBox;
//! use secure_core::auth::jwt::{AccessTokenKey, AccessTokens};
//! use secure_core::prelude::*;
//!
//! #[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
//! enum AppRole {
//!     Admin,
//!     Member,
//! }
//!
//! #[secure_handler(auth)]
//! async fn whoami(user: Principal<AppRole>) -> String {
//!     user.subject().to_owned()
//! }
//!
//! let key = AccessTokenKey::hs256(SecretBox::from(vec![42u8; 32])).unwrap();
//! let tokens = AccessTokens::builder(key, "https://auth.example", "notes-api").build().unwrap();
//! let app = SecureRouter::new()
//!     .route("/whoami", get(whoami))
//!     .into_app(SecurityConfig::new().authenticator(Authenticator::new(tokens)))
//!     .unwrap();
//! # let _ = app;
//! ```

pub mod authenticator;
pub mod device;
pub mod identity;
pub mod jwt;
pub mod mfa;
#[cfg(feature = "oidc")]
pub mod oidc;
pub mod password;
pub mod principal;
pub mod refresh;
pub mod rejection;
pub mod role;
pub mod scope;

pub use authenticator::{Authenticator, KeyAuthenticator, ProviderTokens, SessionAuthenticator};
pub use identity::{Amr, Caller, Carrier, Identity};
pub use principal::Principal;
pub use refresh::{Clock, ManualClock, SystemClock};
pub use rejection::{AuthError, StepUpRequired};
pub use role::Role;
pub use scope::Scope;
