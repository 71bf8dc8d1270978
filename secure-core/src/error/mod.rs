//! RFC 9457 problem details (`application/problem+json`) for every error the framework returns.
//!
//! What this protects against: error responses that leak internals or echo submitted input
//! (ASVS 7.4.1: generic error messages; ASVS 5.1.x with 7.1.1: no user input in errors or logs).
//! A [`Problem`] can only carry a `&'static str` detail, so a sentence built with `format!`
//! around a submitted value does not compile, and a 5xx problem says nothing but its status
//! and title.
//!
//! ```
//! use axum::http::StatusCode;
//! use axum::response::IntoResponse;
//! use secure_core::error::Problem;
//!
//! let response = Problem::new(StatusCode::CONFLICT, "The resource was changed meanwhile.")
//!     .into_response();
//! assert_eq!(response.status(), StatusCode::CONFLICT);
//! assert_eq!(response.headers()["content-type"], "application/problem+json");
//! ```

//!
//! The errors a handler answers with live in `problem.rs` ([`Problem`], [`ApiError`], and the
//! `From` conversions that let a handler `?` what secure-core and sqlx return); start-up
//! errors, which print their fix in `Debug` as in `Display`, in `startup.rs`; store errors in
//! `store.rs`.

mod problem;
mod startup;
mod store;

#[cfg(feature = "edge")]
pub(crate) use problem::FixedCode;
pub use problem::{ApiError, PROBLEM_JSON, Problem};
pub use startup::{AssemblyError, ConfigError};
pub use store::StoreError;

/// `Debug` that prints `Display`: a start-up error returned from `main` (which prints it with
/// `{:?}`) shows the sentence that names the fix, not the enum's fields.
macro_rules! debug_as_display {
    ($($ty:ty),* $(,)?) => {$(
        impl ::std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(self, f)
            }
        }
    )*};
}
pub(crate) use debug_as_display;
