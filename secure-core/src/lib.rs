//! # secure-core
//!
//! The runtime of the `secure` framework for axum services: allowlist validation with
//! [`Valid`] as the proof a handler needs, extractors that reject bad input with RFC 9457
//! problem+json, and the derive macros re-exported from `secure-macros`.
//!
//! ```
//! use secure_core::prelude::*;
//!
//! #[derive(Validated, serde::Deserialize)]
//! struct Signup {
//!     #[validate(trim, lowercase, length(min = 3, max = 32), pattern = "[a-z0-9_]+")]
//!     username: String,
//!     #[validate(trim, email)]
//!     email: String,
//! }
//!
//! async fn signup(body: Valid<Json<Signup>>) -> String {
//!     format!("welcome {}", body.username)
//! }
//! # let _ = axum::Router::<()>::new().route("/signup", axum::routing::post(signup));
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

pub mod audit;
pub mod auth;
pub mod config;
pub mod error;
pub mod extract;
pub mod http;
pub mod policy;
pub mod ratelimit;
pub mod redact;
pub mod session;
pub mod validate;

pub use policy::routing;
pub use redact::{ExposeSecret, ExposeSecretMut, SecretBox, SecretString};
pub use secure_macros::Validated;
pub use secure_macros::secure_handler;
/// Marks a type as secret: its `Debug` redacts, its secret fields are wiped on drop, and
/// what would leak them does not compile.
///
/// **Write it first, above `#[derive(...)]`.** An attribute sees only the derives written
/// below it; a derive written above has already run. `#[sensitive]` below `derive(Validated)`
/// or below a `derive(Serialize)` is a compile error that says to move it up.
///
/// - `#[sensitive]` on a struct, tuple struct or enum with no marked field: every field is
///   secret (`ApiKey([REDACTED])`). A newtype also gets `Display`, so `%key` logs
///   `[REDACTED]`, and the type implements [`zeroize::ZeroizeOnDrop`](redact::ZeroizeOnDrop).
/// - `#[sensitive]` on some fields (or enum variants) of a `#[sensitive]` type: only those
///   are secret, the other fields print as usual. Once one field is marked, unmarked fields
///   are **not** secret: mark every one that is.
/// - `#[sensitive(mask = last(4))]`, `first(4)` or `email` shows part of a text secret on
///   purpose (`***1234`, `sk_***`, `j***@example.com`), or all of it `[REDACTED]` when the
///   value is too short to hide as much as it shows (see [`redact::Mask`]). On the type, the
///   options apply to every secret field.
/// - `derive(Serialize)` below it must not write a secret field: skip it with
///   `#[serde(skip_serializing)]`, or write only its mask with
///   `#[sensitive(mask = last(4), serialize = masked)]`.
///
/// Refused at compile time, each with the fix: `derive(Debug)` (the attribute writes it) and
/// `derive(Copy)` (copies are never wiped); a `Serialize` that writes a secret; a hand-written
/// `Drop` (conflicts with the wiping one: put drop logic in a field's type); a union; a mask
/// on a value that is not text; a secret field that cannot be zeroized (`Arc<str>`, `&str`,
/// foreign types: store a `String`, `SecretString` or `SecretBox<T>`).
///
/// Because the type implements `Drop`, fields cannot be moved out of it (`let Login {
/// password, .. } = login` and `Login { ..other }` do not compile): borrow them, or
/// `std::mem::take` them, which leaves an empty value to wipe.
///
/// ```
/// use secure_core::prelude::*;
///
/// #[sensitive]
/// #[derive(serde::Deserialize, serde::Serialize, Validated)]
/// struct Payment {
///     amount_cents: u64,
///     #[sensitive(mask = last(4), serialize = masked)]
///     #[validate(credit_card)]
///     card: String,
///     #[sensitive]
///     #[serde(skip_serializing)]
///     #[validate(length(equal = 3))]
///     cvv: SecretString,
/// }
///
/// let p = Payment {
///     amount_cents: 1299,
///     card: "4111111111111111".into(),
///     cvv: "123".into(),
/// };
/// assert!(p.validate().is_ok());
/// assert_eq!(
///     format!("{p:?}"),
///     "Payment { amount_cents: 1299, card: ***1111, cvv: [REDACTED] }"
/// );
/// assert_eq!(
///     serde_json::to_string(&p).unwrap(),
///     r#"{"amount_cents":1299,"card":"***1111"}"#
/// );
///
/// #[sensitive]
/// struct ApiKey(SecretString);
///
/// let key = ApiKey("sk_live_123".into());
/// assert_eq!(format!("{key:?} {key}"), "ApiKey([REDACTED]) [REDACTED]");
/// assert_eq!(key.0.expose_secret(), "sk_live_123"); // reading it is explicit
/// ```
pub use secure_macros::sensitive;
pub use validate::{Valid, Validate, ValidationError, ValidationErrors};

/// What a handler module usually needs: `use secure_core::prelude::*;`.
pub mod prelude {
    pub use crate::Validated;
    pub use crate::auth::{AuthError, Principal, Role};
    pub use crate::error::Problem;
    pub use crate::redact::{ExposeSecret, ExposeSecretMut, SecretBox, SecretString};
    pub use crate::sensitive;
    pub use crate::validate::{Valid, Validate, ValidationError, ValidationErrors};
    pub use axum::Json;
    pub use axum::extract::{Form, Path, Query};
}

/// Items the macros' generated code names. Not a public API: may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::validate::rules::{
        self, Elements, ElementsMut, HasBytes, HasLength, StrValue, UrlPolicy,
    };
    pub use crate::validate::sanitize::{Normalization, Sanitize, Sanitizers};
    pub use crate::validate::{FieldPath, Param, Validate, ValidationError, ValidationErrors};
    pub use core::option::Option::{self, None, Some};
    pub use core::result::Result::{self, Err, Ok};
    pub use regex::Regex;
    pub use std::sync::LazyLock;

    // #[derive(Role)]
    pub use crate::auth::Role;

    // #[secure_handler]
    pub use crate::auth::Principal;
    pub use crate::policy::guard::{
        audit_success, authenticate, authenticate_identity, authorize, authorize_identity,
        not_built, rate_limit,
    };
    pub use crate::policy::{
        Access, RateKey, RateLimit, RoutePolicy, SecureHandler, SecureHandlerMarker, Unvalidated,
    };

    // #[sensitive]
    pub use crate::redact::mask::{MaskedField, mask_field};
    pub use crate::redact::serialize as serialize_masked;
    pub use crate::redact::wipe::{
        ProbeNotSerialize, ProbeSerialize, SerializeProbe, serialized_only_below_sensitive,
    };
    pub use crate::redact::{Mask, MaskText, Redacted, WipeOnDrop, ZeroizeOnDrop};
    pub use core::fmt::{Debug, Display, Formatter, Result as FmtResult};
    pub use core::ops::Drop;
    pub use serde::Serialize;

    /// Builds a pattern the macro already compiled successfully at build time.
    #[allow(clippy::expect_used)]
    pub fn compile_pattern(anchored: &'static str) -> Regex {
        Regex::new(anchored).expect("pattern was compiled by #[derive(Validated)] at build time")
    }
}
