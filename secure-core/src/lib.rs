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

pub mod error;
pub mod extract;
pub mod validate;

pub use secure_macros::Validated;
pub use validate::{Valid, Validate, ValidationError, ValidationErrors};

/// What a handler module usually needs: `use secure_core::prelude::*;`.
pub mod prelude {
    pub use crate::Validated;
    pub use crate::error::Problem;
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

    /// Builds a pattern the macro already compiled successfully at build time.
    #[allow(clippy::expect_used)]
    pub fn compile_pattern(anchored: &'static str) -> Regex {
        Regex::new(anchored).expect("pattern was compiled by #[derive(Validated)] at build time")
    }
}
