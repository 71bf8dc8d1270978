//! What a `#[secure_handler]` may take, decided by type: the macro asks every parameter (but
//! `Principal` and those declared `unvalidated(..)`) to implement [`SecureInput`]. An allowlist
//! rather than a list of names, so type aliases, `Result<Query<T>, _>`, `RawQuery`,
//! `Path<String>` and extractors nobody reviewed are refused alike (OWASP ASVS 5.1.3: every
//! input validated by an allowlist).

use axum::extract::{ConnectInfo, Extension, MatchedPath, Path, State};
use axum::http::{HeaderMap, Method, Version};

use super::route::ObjectAccess;
use crate::http::client::ClientAddr;
use crate::validate::Valid;

/// An input a secure handler may take: validated (`Valid<..>`), or not client input at all
/// (state, server-side extensions), or input whose type leaves nothing to check (headers as
/// a map, a number in the path).
///
/// Implement it for your own extractor to say, in review, that what it yields is safe.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an input a secure handler may take: nothing validates it",
    label = "unchecked input",
    note = "take `Valid<Json<T>>`, `Valid<Query<T>>`, `Valid<Form<T>>` or `Valid<Path<T>>` (with #[derive(Validated)] on `T`), a number in `Path<..>`, `State<..>`, `HeaderMap`, or `Principal<R>` on an `auth` route (not wrapped in `Result` or `Option`: the stack answers the errors)",
    note = "raw input on purpose: `unvalidated(param, reason = \"...\")`; your own extractor: `impl secure_core::policy::SecureInput for YourType {{}}`"
)]
pub trait SecureInput {
    /// The resource this input loads through a check, if any (`Authorized<Note, Read>`).
    const OBJECT: Option<ObjectAccess> = None;
}

impl<T> SecureInput for Valid<T> {}
impl<T> SecureInput for State<T> {}
impl<T> SecureInput for Extension<T> {}
impl<T: PathSegment> SecureInput for Path<T> {}
impl<T> SecureInput for ConnectInfo<T> {}
impl SecureInput for HeaderMap {}
impl SecureInput for Method {}
impl SecureInput for Version {}
impl SecureInput for MatchedPath {}
impl SecureInput for ClientAddr {}

/// A path parameter whose type leaves nothing to validate: numbers, `bool`, and tuples of
/// them. Text in a path (`Path<String>`) is free input: a row's id is an `Authorized<R, _>`,
/// other text a `Valid<Path<T>>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` in a path is free text the handler would see unvalidated",
    label = "unchecked path parameter",
    note = "the id of a row a user owns: take `Authorized<R, Read>` or `Authorized<R, Write>` (derive `Resource` on the row), which loads it through the owner check and answers 404 for another user's",
    note = "other text: take `Valid<Path<T>>` with a #[derive(Validated)] struct (such as a `pattern`); a number needs nothing"
)]
pub trait PathSegment {}

macro_rules! path_segments {
    ($($t:ty),*) => { $(impl PathSegment for $t {})* };
}
path_segments!(
    u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, bool
);
impl<A: PathSegment> PathSegment for (A,) {}
impl<A: PathSegment, B: PathSegment> PathSegment for (A, B) {}
impl<A: PathSegment, B: PathSegment, C: PathSegment> PathSegment for (A, B, C) {}
