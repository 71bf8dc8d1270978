//! Deserialisation that records where a value did not fit and which keys were ignored, without
//! ever keeping serde's message (which quotes the submitted value).

use std::fmt::Write as _;

use serde::de::{Deserialize, DeserializeOwned, Deserializer};

use crate::error::Problem;
use crate::validate::{FieldError, Validate, ValidationErrors};

/// The most unknown fields one rejection lists; further ones are dropped, so a body with many
/// thousands of made-up keys gets a short answer.
pub const MAX_UNKNOWN_FIELDS: usize = 32;

/// A value that did not fit the type: the rendered path and the format's error.
pub(super) struct Mismatch<E> {
    pub(super) path: String,
    pub(super) error: E,
}

/// Deserialises `T` from `de`, recording every ignored key (unless `T` allows unknown fields)
/// and, on failure, the path of the value that did not fit.
pub(super) fn deserialize_tracked<'de, T, D>(de: D) -> Result<(T, Vec<String>), Mismatch<D::Error>>
where
    T: Deserialize<'de> + Validate,
    D: Deserializer<'de>,
{
    let collect = !T::allows_unknown_fields();
    let mut unknown: Vec<String> = Vec::new();
    let mut on_ignored = |path: serde_ignored::Path<'_>| {
        if collect && unknown.len() < MAX_UNKNOWN_FIELDS {
            let mut rendered = String::new();
            write_ignored(&path, &mut rendered);
            // Repeated keys (`a=1&a=2`) are one unknown field.
            if !unknown.contains(&rendered) {
                unknown.push(rendered);
            }
        }
    };
    let mut track = serde_path_to_error::Track::new();
    let ignoring = serde_ignored::Deserializer::new(de, &mut on_ignored);
    match T::deserialize(serde_path_to_error::Deserializer::new(ignoring, &mut track)) {
        Ok(value) => Ok((value, unknown)),
        Err(error) => Err(Mismatch {
            path: render_tracked(&track.path()),
            error,
        }),
    }
}

/// Rejects unknown fields, then sanitises and validates: the last steps of every extractor.
pub(super) fn check<T: Validate>(mut value: T, unknown: Vec<String>) -> Result<T, Problem> {
    if !unknown.is_empty() {
        let mut errors = ValidationErrors::new();
        for field in unknown {
            errors.push(FieldError::new(field, "unknown_field"));
        }
        return Err(Problem::validation(errors));
    }
    value.sanitize();
    value.validate().map_err(Problem::validation)?;
    Ok(value)
}

/// Deserialises a query string or form body, then checks it.
pub(crate) fn from_urlencoded<T>(input: &[u8]) -> Result<T, Problem>
where
    T: DeserializeOwned + Validate,
{
    let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(input));
    // Percent-decoding is lossy rather than failing, so every error is a type mismatch.
    let (value, unknown) = deserialize_tracked::<T, _>(de)
        .map_err(|m| mismatch_problem(m.path, &m.error.to_string()))?;
    check(value, unknown)
}

/// A 422 with one error built from a serde message: the message picks the code and may name
/// a field from the type definition; nothing else of it is kept.
pub(super) fn mismatch_problem(path: String, message: &str) -> Problem {
    let mut errors = ValidationErrors::new();
    errors.push(mismatch_error(path, message));
    Problem::validation(errors)
}

fn mismatch_error(mut field: String, message: &str) -> FieldError {
    let (code, name) = classify(message);
    // A key serde refused (`deny_unknown_fields`) is already the path's last segment; a
    // missing field is not.
    let named = |field: &str, name: &str| {
        field == name || field.strip_suffix(name).is_some_and(|f| f.ends_with('.'))
    };
    if let Some(name) = name
        && !(code == "unknown_field" && named(&field, name))
    {
        push_key(&mut field, name);
    }
    FieldError::new(field, code)
}

/// Maps a serde error message to a code, and for field errors to the name in backticks.
fn classify(message: &str) -> (&'static str, Option<&str>) {
    const NAMED: [(&str, &str); 3] = [
        ("missing field `", "missing_field"),
        ("duplicate field `", "duplicate_field"),
        // From `#[serde(deny_unknown_fields)]`: the name is submitted data, `push_key` filters it.
        ("unknown field `", "unknown_field"),
    ];
    const PLAIN: [(&str, &str); 10] = [
        ("unknown variant", "unknown_variant"),
        ("invalid type", "invalid_type"),
        ("invalid value", "invalid_value"),
        ("invalid length", "invalid_length"),
        // std's FromStr errors, as serde_urlencoded reports them for numbers and booleans.
        ("invalid digit found in string", "invalid_type"),
        ("cannot parse integer from empty string", "invalid_type"),
        ("invalid float literal", "invalid_type"),
        ("provided string was not `true` or `false`", "invalid_type"),
        ("number too large to fit in target type", "invalid_value"),
        ("number too small to fit in target type", "invalid_value"),
    ];
    for (prefix, code) in NAMED {
        if let Some(rest) = message.strip_prefix(prefix) {
            return (code, Some(rest.split('`').next().unwrap_or_default()));
        }
    }
    for (prefix, code) in PLAIN {
        if message.starts_with(prefix) {
            return (code, None);
        }
    }
    // Custom errors of hand-written `Deserialize` impls (a bad UUID, a bad date, ...).
    ("invalid_value", None)
}

/// Whether a segment that came from the submitted document may be shown as it is.
pub(super) fn is_safe_segment(segment: &str) -> bool {
    (1..=64).contains(&segment.len())
        && segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Appends `.key`, or `.*` when the key is not a safe segment.
pub(super) fn push_key(out: &mut String, key: &str) {
    if !out.is_empty() {
        out.push('.');
    }
    out.push_str(if is_safe_segment(key) { key } else { "*" });
}

pub(super) fn push_index(out: &mut String, index: usize) {
    let _ = write!(out, "[{index}]");
}

fn render_tracked(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => push_index(&mut out, *index),
            Segment::Map { key } => push_key(&mut out, key),
            Segment::Enum { variant } => push_key(&mut out, variant),
            Segment::Unknown => push_key(&mut out, "*"),
        }
    }
    out
}

fn write_ignored(path: &serde_ignored::Path<'_>, out: &mut String) {
    use serde_ignored::Path;
    match path {
        Path::Root => {}
        Path::Seq { parent, index } => {
            write_ignored(parent, out);
            push_index(out, *index);
        }
        Path::Map { parent, key } => {
            write_ignored(parent, out);
            push_key(out, key);
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => {
            write_ignored(parent, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_without_keeping_values() {
        let e = mismatch_error(
            "age".into(),
            "invalid type: string \"hunter2\", expected u8 at line 1 column 9",
        );
        assert_eq!((e.field(), e.code()), ("age", "invalid_type"));
        let e = mismatch_error("address".into(), "missing field `zip`");
        assert_eq!((e.field(), e.code()), ("address.zip", "missing_field"));
        let e = mismatch_error(String::new(), "missing field `zip`");
        assert_eq!(e.field(), "zip");
        let e = mismatch_error(String::new(), "unknown field `<script>`, expected `a`");
        assert_eq!((e.field(), e.code()), ("*", "unknown_field"));
        let e = mismatch_error("plan".into(), "unknown variant `hunter2`, expected `free`");
        assert_eq!((e.field(), e.code()), ("plan", "unknown_variant"));
        let e = mismatch_error("age".into(), "invalid digit found in string");
        assert_eq!(e.code(), "invalid_type");
        let e = mismatch_error("id".into(), "bad uuid hunter2");
        assert_eq!(e.code(), "invalid_value");
    }

    #[test]
    fn unsafe_segments_become_stars() {
        let mut out = String::new();
        push_key(&mut out, "tags");
        push_index(&mut out, 1);
        push_key(&mut out, "a b");
        push_key(&mut out, &"x".repeat(65));
        push_key(&mut out, "ok-key_9");
        assert_eq!(out, "tags[1].*.*.ok-key_9");
        assert!(!is_safe_segment(""));
        assert!(!is_safe_segment("é"));
        assert!(!is_safe_segment("a\nb"));
    }
}

#[cfg(test)]
mod refused_keys {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Strict {
        otp: String,
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        a: u8,
    }

    impl Validate for Strict {
        fn validate_into(
            &self,
            _: &crate::validate::FieldPath<'_>,
            _: &mut crate::validate::ValidationErrors,
        ) {
        }
    }

    #[test]
    fn a_key_serde_refuses_is_named_once_and_a_missing_one_under_its_parent() {
        for (body, field, code) in [
            (r#"{"code":"1"}"#, "code", "unknown_field"),
            (r#"{"otp":"1","inner":{"b":1}}"#, "inner.b", "unknown_field"),
            (r#"{"otp":"1","inner":{}}"#, "inner.a", "missing_field"),
            (r#"{}"#, "otp", "missing_field"),
        ] {
            let mut de = serde_json::Deserializer::from_str(body);
            let Err(m) = deserialize_tracked::<Strict, _>(&mut de) else {
                panic!("{body} was accepted");
            };
            let error = mismatch_error(m.path, &m.error.to_string());
            assert_eq!((error.field(), error.code()), (field, code), "{body}");
        }
    }
}
