//! Placeholder: `Valid<Json<T>>` and friends.
