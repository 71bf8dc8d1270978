//! Deserialising a derived struct from a JSON **object** only.
//!
//! serde's derived `Deserialize` also accepts a JSON array, filling fields by position, so
//! `["HS256"]` would read as `{"alg":"HS256"}`. A JOSE header and a claims set are objects
//! (RFC 7515 §4, RFC 7519 §7.2); these helpers refuse every other JSON value.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

/// Deserialises `T` through `deserialize_map`, so only a map (a JSON object) is accepted.
pub(super) fn deserialize_object<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    deserializer.deserialize_map(ObjectVisitor(PhantomData))
}

struct ObjectVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map))
    }
}
