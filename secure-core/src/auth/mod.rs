//! Who is calling, and how sure are we: access tokens (JWT), refresh tokens, passwords
//! (Argon2id), TOTP MFA, roles and the `Principal` extractor.
//!
//! What this protects against (OWASP ASVS 2.x authentication, 3.5.x token-based sessions,
//! 4.1.x access control; RFC 8725, the JWT best current practice):
//! * forged, altered, replayed or confused tokens: [`jwt`] pins one algorithm and key, refuses
//!   sender-supplied keys, `alg: none` and unknown extensions, and requires `iss`, `aud`, `exp`;
//! * handlers that act on an unauthenticated caller: only the [`Principal`] extractor makes a
//!   `Principal`, from a verified bearer token or a session cookie;
//! * mistyped or foreign roles: roles are an enum ([`Role`], `#[derive(Role)]`), and a role
//!   name the enum does not know is refused, not ignored;
//! * leaky failures: [`AuthError`] answers fixed problem+json bodies with `WWW-Authenticate`,
//!   and every refusal is an audit event without the credential.
//!
//! ```
//! use axum::{Router, routing::get};
//! use secure_core::SecretBox;
//! use secure_core::auth::jwt::{AccessTokenKey, AccessTokens};
//! use secure_core::auth::{Authenticator, Identity, Principal, Role};
//!
//! #[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
//! enum AppRole {
//!     Admin,
//!     Member,
//! }
//!
//! async fn whoami(user: Principal<AppRole>) -> String {
//!     user.subject().to_owned()
//! }
//!
//! let key = AccessTokenKey::hs256(SecretBox::from(vec![42u8; 32])).unwrap();
//! let tokens = AccessTokens::builder(key, "https://auth.example", "notes-api").build().unwrap();
//! let login_token = tokens
//!     .issue(&Identity::new("user-1", 1_700_000_000).with_roles([AppRole::Member.as_str()]))
//!     .unwrap();
//! let app: Router = Router::new()
//!     .route("/whoami", get(whoami))
//!     .layer(Authenticator::new(tokens).layer());
//! # let _ = (app, login_token);
//! ```

pub mod device;
pub mod mfa;
pub mod password;
pub mod refresh;
pub use refresh::{Clock, ManualClock, SystemClock};
pub mod jwt;
pub mod principal;
pub mod rejection;
pub mod role;
pub use principal::{Amr, Authenticator, Carrier, Identity, Principal, SessionAuthenticator};
pub use rejection::{AuthError, StepUpRequired};
pub use role::Role;
