//! `Content-Type` checks. A request with zero or several `Content-Type` headers is refused,
//! so a proxy and this service cannot disagree about which one counts. A `charset` other than
//! UTF-8 is refused too (415): bodies are read as UTF-8 (RFC 8259 section 8.1 allows nothing
//! else between systems), so `charset=utf-16` would be a body read as something it is not.

use axum::http::{HeaderMap, header};

/// The media type without parameters (`application/json` of `application/json; charset=utf-8`),
/// if there is exactly one readable `Content-Type` header and its charset, if any, is UTF-8.
fn essence(headers: &HeaderMap) -> Option<&str> {
    let mut values = headers.get_all(header::CONTENT_TYPE).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let value = value.to_str().ok()?;
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or_default().trim();
    parts.all(utf8_or_other_parameter).then_some(essence)
}

/// Whether a media type parameter is not a charset, or the UTF-8 one (`charset="UTF-8"`).
fn utf8_or_other_parameter(parameter: &str) -> bool {
    let Some((name, value)) = parameter.split_once('=') else {
        return true;
    };
    if !name.trim().eq_ignore_ascii_case("charset") {
        return true;
    }
    let value = value.trim();
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    value.eq_ignore_ascii_case("utf-8") || value.eq_ignore_ascii_case("utf8")
}

/// `application/json` or `application/<anything>+json`, in any case, with any parameters.
pub(super) fn is_json(headers: &HeaderMap) -> bool {
    let Some(essence) = essence(headers) else {
        return false;
    };
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    if !kind.eq_ignore_ascii_case("application") || !is_token(subtype) {
        return false;
    }
    let lower = subtype.to_ascii_lowercase();
    lower == "json" || (lower.len() > "+json".len() && lower.ends_with("+json"))
}

/// `application/x-www-form-urlencoded`, in any case, with any parameters.
pub(super) fn is_form(headers: &HeaderMap) -> bool {
    essence(headers).is_some_and(|e| e.eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

/// An RFC 9110 token (the characters a media subtype may use).
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(values: &[&'static str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(header::CONTENT_TYPE, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn json_media_types() {
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON;charset=utf-8",
            "application/json; charset=\"UTF-8\"",
            "application/json;charset=utf8",
            "application/problem+json",
            "application/vnd.api+json ; q=1",
        ] {
            assert!(is_json(&headers(&[ok])), "{ok}");
        }
        for bad in [
            "",
            "text/json",
            "application/jsonx",
            "application/+json",
            "application/json/x",
            "text/plain",
            "application/x-www-form-urlencoded",
            // Read as UTF-8, it would be something else.
            "application/json; charset=utf-16",
            "application/json; charset=UTF-16LE",
            "application/json; charset=iso-8859-1",
            "application/json; charset=\"utf-32\"",
            "application/json; charset=utf-8; charset=utf-16",
        ] {
            assert!(!is_json(&headers(&[bad])), "{bad}");
        }
        assert!(!is_json(&headers(&[])));
        assert!(!is_json(&headers(&["application/json", "text/plain"])));
    }

    #[test]
    fn form_media_types() {
        assert!(is_form(&headers(&["application/x-www-form-urlencoded"])));
        assert!(is_form(&headers(&[
            "application/x-www-form-urlencoded; charset=UTF-8"
        ])));
        assert!(!is_form(&headers(&["application/x-www-form-urlencodedx"])));
        assert!(!is_form(&headers(&["multipart/form-data"])));
        assert!(!is_form(&headers(&[
            "application/x-www-form-urlencoded; charset=windows-1252"
        ])));
        assert!(!is_form(&headers(&[])));
    }
}
