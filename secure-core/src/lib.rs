//! # secure-core
//!
//! The runtime of the `secure` framework for axum services, in which the secure way is the
//! only way that compiles: handlers declare who may call them, inputs are validated before a
//! handler can touch them, secrets cannot reach a log or a response by accident.
//!
//! From a validated type to a running service, with `use secure_core::prelude::*;`:
//!
//! 1. **Input**: `#[derive(Validated)]` on the request type; a handler takes
//!    `Valid<Json<T>>`, which can only be made by validating ([`validate`], [`extract`]).
//! 2. **Secrets**: `#[sensitive]` on what holds them ([`sensitive`], [`redact`]).
//! 3. **Handlers**: `#[secure_handler(public)]` or `#[secure_handler(auth, roles(..), mfa,
//!    fresh = "5m")]` with optional limits and audit ([`secure_handler`], [`policy`]).
//! 4. **Routes**: [`SecureRouter`](policy::SecureRouter) with [`routing`]'s `get`, `post`,
//!    ...; nothing else routes a secure handler, and [`policies`](policy::SecureRouter::policies)
//!    prints the table reviewers read.
//! 5. **Configuration**: [`SecurityConfig::from_env`](config::SecurityConfig::from_env) reads
//!    and checks every `SECURE_*` variable and the keys ([`config`]).
//! 6. **Identity**: access tokens built from the keys ([`auth::jwt`]), an
//!    [`Authenticator`](auth::Authenticator) for the `auth` routes; the token issuer, the
//!    password hasher and the limiter are `Clone` handles for your app state ([`auth`],
//!    [`session`], [`ratelimit`]).
//! 7. **Assembly**: [`into_app`](policy::SecureRouter::into_app) puts the stack in front of
//!    every route and checks the wiring ([`SecureApp`](policy::SecureApp)); [`serve`](serve::serve) runs it.
//!
//! ```no_run
//! use secure_core::auth::jwt::AccessTokens;
//! use secure_core::prelude::*;
//!
//! #[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
//! enum AppRole {
//!     Member,
//! }
//!
//! #[derive(serde::Deserialize, Validated)]
//! struct NewNote {
//!     #[validate(trim, length(min = 1, max = 200), no_control)]
//!     title: String,
//! }
//!
//! #[secure_handler(public)]
//! async fn health() -> &'static str {
//!     "ok"
//! }
//!
//! #[secure_handler(auth, roles(Member), rate_limit("30/min", key = user), audit = "note.create")]
//! async fn create_note(user: Principal<AppRole>, note: Valid<Json<NewNote>>) -> String {
//!     format!("{} wrote {}", user.subject(), note.title)
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     secure_core::serve::init_logging();
//!     let config = SecurityConfig::from_env()?;
//!     let keys = config.keys().ok_or("no keys")?;
//!     let tokens = AccessTokens::builder(keys.access_token_key(), "https://notes.example", "notes")
//!         .build()?;
//!     let routes = SecureRouter::new()
//!         .route("/health", get(health))
//!         .route("/notes", post(create_note));
//!     println!("{}", routes.policies());
//!     let app = routes.into_app(config.authenticator(Authenticator::new(tokens)))?;
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//!     secure_core::serve::serve(listener, app).await?;
//!     Ok(())
//! }
//! ```
//!
//! Accounts (signup, sign-in with a second factor, refresh, step-up, sign-out, password
//! change and reset) come as a ready router with the feature `accounts`: see the README's
//! "Your first service", and `examples/notes-api` for a service at full size.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

// Validation: always.
// The macros' generated code names `::secure_core`; inside this crate too (the accounts'
// routes are `#[secure_handler]` functions).
#[cfg(feature = "accounts")]
extern crate self as secure_core;

#[cfg(all(feature = "accounts", any(feature = "sqlite", feature = "postgres")))]
pub mod accounts;
#[cfg(all(
    feature = "accounts",
    not(any(feature = "sqlite", feature = "postgres"))
))]
compile_error!("the `accounts` feature needs a database: enable `sqlite`, `postgres` or both");
pub mod audit;
pub mod error;
pub mod extract;
pub mod redact;
pub mod validate;
// Identity (feature `identity`): who is calling, and secrets at rest.
#[cfg(feature = "identity")]
pub mod auth;
#[cfg(feature = "identity")]
pub mod crypto;
#[cfg(feature = "identity")]
pub mod session;
#[cfg(any(feature = "edge", feature = "sqlite", feature = "postgres"))]
pub mod sql;
// Edge (feature `edge`): the router, the stack, configuration, serving.
#[cfg(feature = "edge")]
pub mod config;
#[cfg(feature = "edge")]
pub mod http;
#[cfg(feature = "edge")]
pub mod policy;
#[cfg(feature = "edge")]
pub mod ratelimit;
#[cfg(feature = "edge")]
pub mod resource;
#[cfg(feature = "edge")]
pub mod serve;
#[cfg(feature = "testing")]
pub mod testing;
// Prometheus metrics of the audit events and the requests (feature `metrics`).
#[cfg(feature = "metrics")]
pub mod metrics;
mod observe;

#[cfg(feature = "edge")]
pub use policy::routing;
pub use redact::{ExposeSecret, ExposeSecretMut, SecretBox, SecretString};
pub use secure_macros::Validated;
/// Declares who may call an axum handler, and makes that the only way it runs.
///
/// Access is mandatory: `public`, or `auth` with optional `roles(..)` (variants of the role
/// enum the handler's `Principal<R>` names, or full paths such as `roles(AppRole::Admin)`:
/// a typo is a type error), `mfa`, and `fresh = "5m"` (a sign-in at most that old, for
/// sensitive operations: an older one gets a 401 that asks for re-authentication, see
/// [`auth::StepUpRequired`]). Optional: `rate_limit("5/min", key = ip | user | global)`,
/// `body_limit = "16KiB"`, `audit = "note.delete"`, and `unvalidated(param, reason = "..")`
/// for raw input taken on purpose.
///
/// Per request the wrapper authenticates before any extractor reads the body (401 with
/// `WWW-Authenticate`), checks roles and MFA (403), applies the rate limit (429 with
/// `Retry-After`), then runs the extractors and the handler; every denial emits an audit
/// event, and `audit = ".."` also records the outcome. At compile time it refuses: a missing
/// access declaration; `public` with `roles`, `mfa`, `fresh` or a `Principal`; a malformed
/// `fresh` window (a unit of `s`, `m` or `h`, at most `24h`); `Json`/`Form`/`Query`
/// outside `Valid<..>`; a raw `String`/`Bytes`/`Request` body without `unvalidated(..)`;
/// `unvalidated` without a reason; a non-async function or a method; duplicate or unknown
/// options; and SQL built with `format!` passed to sqlx's `query` functions.
///
/// The handler's name becomes a unit struct (as the function's name would be), routed with
/// [`routing`] and [`SecureRouter`](policy::SecureRouter), which accept nothing else. Like any
/// unit struct in scope, it turns a `let` of the same name into a pattern: name locals
/// differently.
///
/// ```
/// use secure_core::auth::{Principal, Role};
/// use secure_core::policy::SecureRouter;
/// use secure_core::prelude::*;
/// use secure_core::routing::{get, post};
/// use secure_core::secure_handler;
///
/// #[derive(Debug, Clone, Copy, PartialEq, Eq, Role)]
/// enum AppRole {
///     Admin,
///     Member,
/// }
///
/// #[derive(serde::Deserialize, Validated)]
/// struct NewNote {
///     #[validate(length(min = 1, max = 200), no_control)]
///     title: String,
/// }
///
/// #[secure_handler(public)]
/// async fn health() -> &'static str {
///     "ok"
/// }
///
/// #[secure_handler(auth, rate_limit("30/min", key = user), audit = "note.create")]
/// async fn create_note(user: Principal<AppRole>, note: Valid<Json<NewNote>>) -> String {
///     format!("{} wrote {}", user.subject(), note.title)
/// }
///
/// #[secure_handler(auth, roles(Admin), mfa)]
/// async fn list_users(_admin: Principal<AppRole>) -> &'static str {
///     "[]"
/// }
///
/// let app: SecureRouter = SecureRouter::new()
///     .route("/health", get(health))
///     .route("/notes", post(create_note))
///     .route("/admin/users", get(list_users));
/// println!("{}", app.policies());
/// ```
#[cfg(feature = "edge")]
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

/// One way in: `use secure_core::prelude::*;` brings the three macros (and `Role`, trait and
/// derive), the router and its routing functions, the configuration and the assembled app,
/// the caller, the validated extractors, the errors a handler returns (and `FieldError`,
/// `StatusCode`), resources (`Resource`, `Filter`, `Rules`, `Scope`, `Id`, `Read`, `Write`, and with a
/// database feature `Authorized`, `AuthorizedList` and `Database`) and `FromRef` for sharing
/// state.
pub mod prelude {
    pub use crate::Validated;
    pub use crate::error::{ApiError, Problem};
    pub use crate::redact::{ExposeSecret, ExposeSecretMut, SecretBox, SecretString};
    pub use crate::sensitive;
    pub use crate::validate::{FieldError, Valid, Validate, ValidationError, ValidationErrors};
    pub use axum::Json;
    pub use axum::extract::{Form, FromRef, Path, Query, State};
    pub use axum::http::StatusCode;

    #[cfg(feature = "identity")]
    pub use crate::auth::{AuthError, Authenticator, Principal, Role};

    #[cfg(feature = "edge")]
    pub use crate::config::SecurityConfig;
    #[cfg(feature = "edge")]
    pub use crate::policy::SecureApp;
    #[cfg(feature = "edge")]
    pub use crate::policy::SecureRouter;
    #[cfg(feature = "edge")]
    pub use crate::routing::{delete, get, patch, post, put};
    #[cfg(feature = "edge")]
    pub use crate::secure_handler;

    #[cfg(all(feature = "edge", any(feature = "sqlite", feature = "postgres")))]
    pub use crate::resource::{Authorized, AuthorizedList};
    #[cfg(feature = "edge")]
    pub use crate::resource::{Filter, Id, Read, Resource, Rules, Scope, Write};
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub use crate::sql::Database;
}

/// Items the macros' generated code names. Not a public API: may change in any release.
#[doc(hidden)]
pub mod __private {
    // The generated code names axum through here, so a service needs no axum dependency of
    // its own (nor one of the same version).
    pub use crate::validate::body;
    pub use crate::validate::rules::{
        self, Elements, ElementsMut, HasBytes, HasLength, StrValue, UrlPolicy,
    };
    pub use crate::validate::sanitize::{Normalization, Sanitize, Sanitizers};
    pub use crate::validate::{FieldPath, Param, Validate, ValidationError, ValidationErrors};
    pub use axum;
    pub use core::option::Option::{self, None, Some};
    pub use core::result::Result::{self, Err, Ok};
    pub use regex::Regex;
    pub use std::sync::LazyLock;

    // #[derive(Role)], #[derive(Scope)]
    #[cfg(feature = "identity")]
    pub use crate::auth::{Role, Scope};

    // #[secure_handler]
    #[cfg(feature = "edge")]
    pub use crate::auth::Principal;
    #[cfg(feature = "edge")]
    pub use crate::policy::guard::not_built;
    #[cfg(feature = "edge")]
    pub use crate::policy::{
        Access, DeclaredRead, ObjectAccess, RoutePolicy, RoutedBySecureRouter, SecureHandler,
        SecureHandlerMarker, SecureInput, Unvalidated,
    };
    #[cfg(feature = "edge")]
    pub use crate::ratelimit::{Rate, RateKey, RateLimit};
    #[cfg(feature = "edge")]
    pub use axum::body::Body;
    #[cfg(feature = "edge")]
    pub use axum::http::request::Parts;

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
