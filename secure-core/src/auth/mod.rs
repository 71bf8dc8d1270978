//! Who is calling, and how sure are we: access tokens (JWT), refresh tokens, passwords
//! (Argon2id), TOTP MFA, roles and the `Principal` extractor.

pub mod password;
pub mod mfa;
pub mod refresh;
pub use refresh::{Clock, ManualClock, StoreError, SystemClock};
