//! HTTP behaviour of `Valid<Json<T>>`, `Valid<Query<T>>`, `Valid<Form<T>>` and `Valid<Path<T>>`:
//! statuses, problem+json bodies, field paths, unknown fields and that submitted values never
//! come back. (That they never reach a log line is tested in `secure-core`'s extract tests,
//! which can install a tracing subscriber.)

use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, Request, StatusCode, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use http_body_util::BodyExt;
use secure_core::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};
use tower::ServiceExt;

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize, Validated)]
struct Signup {
    #[validate(trim, lowercase, length(min = 3, max = 32), pattern = "[a-z0-9_]+")]
    username: String,
    #[validate(range(min = 13, max = 130))]
    age: u8,
    #[validate(nested)]
    address: Address,
    #[serde(default)]
    #[validate(each(trim, length(min = 1, max = 20)))]
    tags: Vec<String>,
    #[serde(default)]
    plan: Plan,
}

#[derive(Debug, Deserialize, Validated)]
struct Address {
    #[validate(pattern = "[0-9]{5}")]
    zip: String,
}

#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Plan {
    #[default]
    Free,
    Pro,
}

#[derive(Debug, Deserialize, Validated)]
#[validate(allow_unknown_fields)]
struct Open {
    #[validate(trim, length(min = 1))]
    name: String,
    /// Free-form data, walked by serde_json's recursion limit through both wrappers.
    #[serde(default)]
    data: Option<Value>,
}

/// Query and form input: flat, strings and numbers.
#[derive(Debug, Deserialize, Validated)]
struct Search {
    #[validate(trim, lowercase, length(min = 1, max = 50))]
    q: String,
    #[serde(default = "default_page")]
    #[validate(range(min = 1, max = 100))]
    page: u32,
}

/// Renamed fields, an optional nested value and a map whose keys the client chooses.
#[derive(Debug, Deserialize, Validated)]
#[serde(rename_all = "camelCase")]
struct Profile {
    #[validate(length(min = 2))]
    display_name: String,
    #[validate(nested)]
    home_address: Option<Address>,
    #[serde(default)]
    scores: std::collections::BTreeMap<String, u8>,
}

fn default_page() -> u32 {
    1
}

/// A query type whose every field is optional.
#[derive(Debug, Deserialize, Validated)]
struct Paging {
    #[serde(default)]
    page: u32,
}

#[derive(Debug, Deserialize, Validated)]
struct NoteRef {
    #[validate(range(min = 1))]
    id: u32,
    #[validate(lowercase)]
    slug: String,
}

// ---------------------------------------------------------------------------------------------
// App and helpers
// ---------------------------------------------------------------------------------------------

async fn signup(body: Valid<Json<Signup>>) -> Json<Value> {
    let Signup {
        username,
        age,
        address,
        tags,
        plan,
    } = body.into_value();
    Json(json!({
        "username": username, "age": age, "zip": address.zip, "tags": tags,
        "pro": plan == Plan::Pro,
    }))
}

async fn search(query: Valid<Query<Search>>) -> Json<Value> {
    Json(json!({"q": query.q, "page": query.page}))
}

async fn form(form: Valid<Form<Search>>) -> Json<Value> {
    Json(json!({"q": form.q, "page": form.page}))
}

async fn note(note: Valid<Path<NoteRef>>) -> Json<Value> {
    Json(json!({"id": note.id, "slug": note.slug}))
}

fn app() -> Router {
    Router::new()
        .route("/signup", post(signup))
        .route(
            "/open",
            post(|body: Valid<Json<Open>>| async move {
                let Open { name, data } = body.into_value();
                if data.is_some() {
                    format!("{name}+data")
                } else {
                    name
                }
            }),
        )
        .route(
            "/profile",
            post(|p: Valid<Json<Profile>>| async move {
                format!("{} {}", p.display_name, p.scores.len())
            }),
        )
        .route("/search", get(search))
        .route(
            "/paging",
            get(|q: Valid<Query<Paging>>| async move { q.page.to_string() }),
        )
        .route("/form", get(form).post(form))
        .route("/notes/{id}/{slug}", get(note))
        .route(
            "/single/{id}",
            get(|id: Valid<Path<Single>>| async move { id.0.0.to_string() }),
        )
        // A routing bug: the handler wants parameters the route does not have.
        .route("/broken", get(note))
        .route("/small", post(signup).layer(DefaultBodyLimit::max(64)))
        .route("/small-form", post(form).layer(DefaultBodyLimit::max(16)))
}

/// `Valid<Path<u16>>` through a newtype, so the single-parameter form is covered too.
#[derive(Debug, Deserialize, Validated)]
struct Single(u16);

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }

    /// Asserts a problem+json response with `status` and returns its `errors` (or `Null`).
    fn problem(&self, status: StatusCode) -> Value {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(
            self.headers[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let body = self.json();
        assert_eq!(body["type"], "about:blank");
        assert_eq!(body["status"], status.as_u16());
        assert_eq!(body["title"], status.canonical_reason().unwrap());
        body.get("errors").cloned().unwrap_or(Value::Null)
    }
}

async fn send(request: Request<Body>) -> Reply {
    let response = app().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        text: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

fn post_json(uri: &str, body: impl Into<String>) -> Request<Body> {
    post_typed(uri, "application/json", body)
}

fn post_form(uri: &str, body: impl Into<String>) -> Request<Body> {
    post_typed(uri, "application/x-www-form-urlencoded", body)
}

fn post_typed(uri: &str, content_type: &str, body: impl Into<String>) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body.into()))
        .unwrap()
}

fn get_uri(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn good_signup() -> Value {
    json!({
        "username": "  Ada_Lovelace ",
        "age": 36,
        "address": {"zip": "12345"},
        "tags": [" math ", "poetry"],
        "plan": "pro",
    })
}

fn errors(list: &[(&str, &str)]) -> Value {
    Value::Array(
        list.iter()
            .map(|(field, code)| json!({"field": field, "code": code, "params": {}}))
            .collect(),
    )
}

fn q_and_page_errors() -> Value {
    json!([
        {"field": "q", "code": "length", "params": {"min": 1, "max": 50}},
        {"field": "page", "code": "range", "params": {"min": 1, "max": 100}},
    ])
}

// ---------------------------------------------------------------------------------------------
// Valid<Json<T>>
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn json_valid_input_reaches_handler_sanitised() {
    let reply = send(post_json("/signup", good_signup().to_string())).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        reply.json(),
        json!({"username": "ada_lovelace", "age": 36, "zip": "12345", "tags": ["math", "poetry"], "pro": true})
    );
}

#[tokio::test]
async fn json_accepts_suffix_and_parameters() {
    for content_type in [
        "application/json; charset=utf-8",
        "application/vnd.signup+json",
        "APPLICATION/JSON",
    ] {
        let reply = send(post_typed(
            "/signup",
            content_type,
            good_signup().to_string(),
        ))
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{content_type}");
    }
}

#[tokio::test]
async fn json_malformed_is_400() {
    for body in [
        "{",
        "",
        r#"{"username": "ada", "age": 36,}"#,
        r#"{"username": 'ada'}"#,
        r#"{"username":"ada","age":36,"address":{"zip":"12345"}} trailing"#,
        r#"{"username":"ada","age":36,"address":{"zip":"12345"}}{}"#,
    ] {
        let reply = send(post_json("/signup", body)).await;
        assert_eq!(
            reply.problem(StatusCode::BAD_REQUEST),
            Value::Null,
            "{body}"
        );
        assert_eq!(reply.json()["detail"], "The request is not well-formed.");
    }
}

#[tokio::test]
async fn json_over_body_limit_is_413() {
    let mut big = good_signup();
    big["tags"] = json!(vec!["x"; 40]);
    let reply = send(post_json("/small", big.to_string())).await;
    assert_eq!(reply.problem(StatusCode::PAYLOAD_TOO_LARGE), Value::Null);
    // Under the limit the same route works.
    let small = json!({"username": "ada", "age": 36, "address": {"zip": "12345"}});
    assert_eq!(
        send(post_json("/small", small.to_string())).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn json_without_json_content_type_is_415() {
    let body = good_signup().to_string();
    let missing = Request::post("/signup")
        .body(Body::from(body.clone()))
        .unwrap();
    send(missing)
        .await
        .problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    for content_type in [
        "text/plain",
        "text/json",
        "application/x-www-form-urlencoded",
        "application/jsonp",
        // Bodies are read as UTF-8 (RFC 8259 8.1): another charset is refused, not misread.
        "application/json; charset=utf-16",
        "application/json; charset=ISO-8859-1",
    ] {
        send(post_typed("/signup", content_type, body.clone()))
            .await
            .problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
    let twice = Request::post("/signup")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from(body))
        .unwrap();
    send(twice)
        .await
        .problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn json_rule_failures_are_422_with_every_error() {
    let body = json!({
        "username": " A ",
        "age": 12,
        "address": {"zip": "1234x"},
        "tags": ["ok", "   ", "this tag is far too long"],
    });
    let reply = send(post_json("/signup", body.to_string())).await;
    let errors = reply.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reply.json()["detail"],
        "The request did not pass validation."
    );
    assert_eq!(
        errors,
        json!([
            {"field": "username", "code": "length", "params": {"min": 3, "max": 32}},
            {"field": "age", "code": "range", "params": {"min": 13, "max": 130}},
            {"field": "address.zip", "code": "pattern", "params": {}},
            {"field": "tags[1]", "code": "length", "params": {"min": 1, "max": 20}},
            {"field": "tags[2]", "code": "length", "params": {"min": 1, "max": 20}},
        ])
    );
}

#[tokio::test]
async fn json_that_does_not_fit_the_type_is_422() {
    let cases = [
        (
            json!({"username": "ada", "age": "36", "address": {"zip": "12345"}}),
            "age",
            "invalid_type",
        ),
        (
            json!({"username": "ada", "age": 300, "address": {"zip": "12345"}}),
            "age",
            "invalid_value",
        ),
        (
            json!({"username": "ada", "age": -1, "address": {"zip": "12345"}}),
            "age",
            "invalid_value",
        ),
        (
            json!({"username": "ada", "age": 36}),
            "address",
            "missing_field",
        ),
        (
            json!({"username": "ada", "age": 36, "address": {}}),
            "address.zip",
            "missing_field",
        ),
        (
            json!({"username": "ada", "age": 36, "address": {"zip": 12345}}),
            "address.zip",
            "invalid_type",
        ),
        (
            json!({"username": "ada", "age": 36, "address": {"zip": "12345"}, "tags": ["a", 2]}),
            "tags[1]",
            "invalid_type",
        ),
        (
            json!({"username": "ada", "age": 36, "address": {"zip": "12345"}, "tags": "a"}),
            "tags",
            "invalid_type",
        ),
        (
            json!({"username": "ada", "age": 36, "address": {"zip": "12345"}, "plan": "gold"}),
            "plan",
            "unknown_variant",
        ),
        // serde accepts a struct as an array of its fields.
        (json!(["ada", 36]), "", "invalid_length"),
        (json!(null), "", "invalid_type"),
    ];
    for (body, field, code) in cases {
        let reply = send(post_json("/signup", body.to_string())).await;
        assert_eq!(
            reply.problem(StatusCode::UNPROCESSABLE_ENTITY),
            errors(&[(field, code)]),
            "{body}"
        );
    }
    // Duplicate keys are valid JSON syntax but ambiguous input.
    let body = r#"{"username":"ada","age":36,"age":37,"address":{"zip":"12345"}}"#;
    assert_eq!(
        send(post_json("/signup", body))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY),
        errors(&[("age", "duplicate_field")])
    );
}

#[tokio::test]
async fn json_unknown_fields_are_422_and_rules_do_not_run() {
    let body = json!({
        "username": "x",
        "age": 36,
        "is_admin": true,
        "address": {"zip": "12345", "street": "Main St"},
        "plan": "pro",
        "role id": 1,
    });
    let reply = send(post_json("/signup", body.to_string())).await;
    assert_eq!(
        reply.problem(StatusCode::UNPROCESSABLE_ENTITY),
        errors(&[
            ("address.street", "unknown_field"),
            ("is_admin", "unknown_field"),
            ("*", "unknown_field"),
        ])
    );
}

#[tokio::test]
async fn field_paths_follow_serde_names_and_hide_odd_keys() {
    let body = json!({"displayName": "x", "homeAddress": {"zip": "1"}});
    assert_eq!(
        send(post_json("/profile", body.to_string()))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY),
        json!([
            {"field": "displayName", "code": "length", "params": {"min": 2}},
            {"field": "homeAddress.zip", "code": "pattern", "params": {}},
        ])
    );
    let body = json!({"displayName": "ada", "homeAddress": {"zip": 1}});
    assert_eq!(
        send(post_json("/profile", body.to_string()))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY),
        errors(&[("homeAddress.zip", "invalid_type")])
    );
    let body = json!({"displayName": "ada", "homeAddress": {"zip": "12345", "city": "x"}, "display_name": 1});
    assert_eq!(
        send(post_json("/profile", body.to_string()))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY),
        errors(&[
            ("display_name", "unknown_field"),
            ("homeAddress.city", "unknown_field")
        ])
    );
    // Map keys are the client's: shown when plain, `*` otherwise.
    for (key, field) in [
        ("math", "scores.math"),
        ("a.b", "scores.*"),
        ("<b>", "scores.*"),
    ] {
        let body = json!({"displayName": "ada", "scores": {key: "high"}});
        assert_eq!(
            send(post_json("/profile", body.to_string()))
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY),
            errors(&[(field, "invalid_type")]),
            "{key}"
        );
    }
    let body = json!({"displayName": "ada", "homeAddress": null, "scores": {"math": 3}});
    let reply = send(post_json("/profile", body.to_string())).await;
    assert_eq!(
        (reply.status, reply.text.as_str()),
        (StatusCode::OK, "ada 1")
    );
}

#[tokio::test]
async fn deep_nesting_is_bounded_not_a_crash() {
    let good = r#""username":"ada","age":36,"address":{"zip":"12345"}"#;
    let limit = secure_core::extract::DEFAULT_JSON_MAX_DEPTH;
    // The outer object is one level: `depth` arrays inside it make `depth + 1`.
    for depth in [10, limit - 1, limit, 128, 100_000] {
        let nested = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        let deep = depth + 1 > limit;
        // Free-form data, an ignored key, an unknown key: all bounded by the nesting limit
        // before the parser runs (a 400), or accepted / refused as usual below it.
        let reply = send(post_json(
            "/open",
            format!(r#"{{"name":"a","data":{nested}}}"#),
        ))
        .await;
        let expected = if deep {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        assert_eq!(reply.status, expected, "{depth}: {}", reply.text);
        let reply = send(post_json(
            "/open",
            format!(r#"{{"name":"a","x":{nested}}}"#),
        ))
        .await;
        assert_eq!(reply.status, expected, "{depth}: {}", reply.text);
        let reply = send(post_json("/signup", format!(r#"{{{good},"x":{nested}}}"#))).await;
        if deep {
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{depth}");
            assert!(reply.text.contains("nested too deeply"), "{}", reply.text);
        } else {
            assert_eq!(
                reply.problem(StatusCode::UNPROCESSABLE_ENTITY),
                errors(&[("x", "unknown_field")])
            );
        }
    }
}

#[tokio::test]
async fn json_unknown_fields_are_capped() {
    let mut body = good_signup();
    for i in 0..200 {
        body[format!("extra{i}")] = json!(i);
    }
    let reply = send(post_json("/signup", body.to_string())).await;
    let errors = reply.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        errors.as_array().unwrap().len(),
        secure_core::extract::MAX_UNKNOWN_FIELDS
    );
}

#[tokio::test]
async fn allow_unknown_fields_accepts_extra_keys() {
    let body = json!({"name": " ada ", "extra": {"deep": [1, 2]}, "more": 1});
    let reply = send(post_json("/open", body.to_string())).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.text, "ada");
    // Rules still run.
    let reply = send(post_json("/open", r#"{"name":"  ","x":1}"#)).await;
    assert_eq!(
        reply.problem(StatusCode::UNPROCESSABLE_ENTITY),
        json!([{"field": "name", "code": "length", "params": {"min": 1}}])
    );
}

// ---------------------------------------------------------------------------------------------
// Valid<Query<T>>
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn query_valid_input_reaches_handler_sanitised() {
    let reply = send(get_uri("/search?q=%20Rust%20Axum%20&page=3")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json(), json!({"q": "rust axum", "page": 3}));
}

#[tokio::test]
async fn query_absent_reads_as_empty() {
    let reply = send(get_uri("/paging")).await;
    assert_eq!((reply.status, reply.text.as_str()), (StatusCode::OK, "0"));
    let reply = send(get_uri("/search")).await;
    assert_eq!(
        reply.problem(StatusCode::UNPROCESSABLE_ENTITY),
        errors(&[("q", "missing_field")])
    );
}

#[tokio::test]
async fn query_that_does_not_fit_is_422() {
    let cases = [
        ("/search?q=rust&page=abc", "page", "invalid_type"),
        ("/search?q=rust&page=", "page", "invalid_type"),
        ("/search?q=rust&page=99999999999", "page", "invalid_value"),
        ("/search?q=rust&q=go", "q", "duplicate_field"),
        ("/search?page=2", "q", "missing_field"),
    ];
    for (uri, field, code) in cases {
        assert_eq!(
            send(get_uri(uri))
                .await
                .problem(StatusCode::UNPROCESSABLE_ENTITY),
            errors(&[(field, code)]),
            "{uri}"
        );
    }
}

#[tokio::test]
async fn query_rules_and_unknown_fields_are_422() {
    let reply = send(get_uri("/search?q=%20%20&page=0")).await;
    assert_eq!(
        reply.problem(StatusCode::UNPROCESSABLE_ENTITY),
        q_and_page_errors()
    );
    let reply = send(get_uri("/search?q=rust&admin=1&admin=2&x%20y=1")).await;
    assert_eq!(
        reply.problem(StatusCode::UNPROCESSABLE_ENTITY),
        errors(&[("admin", "unknown_field"), ("*", "unknown_field")])
    );
}

// ---------------------------------------------------------------------------------------------
// Valid<Form<T>>
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn form_valid_input_reaches_handler_sanitised() {
    let reply = send(post_form("/form", "q=+Hello+World+&page=2")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json(), json!({"q": "hello world", "page": 2}));
    let reply = send(post_typed(
        "/form",
        "application/x-www-form-urlencoded; charset=UTF-8",
        "q=x",
    ))
    .await;
    assert_eq!(reply.json(), json!({"q": "x", "page": 1}));
}

#[tokio::test]
async fn form_on_get_reads_the_query_string() {
    let reply = send(get_uri("/form?q=Axum")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json(), json!({"q": "axum", "page": 1}));
    let reply = send(get_uri("/form?q=axum&debug=1")).await;
    assert_eq!(
        reply.problem(StatusCode::UNPROCESSABLE_ENTITY),
        errors(&[("debug", "unknown_field")])
    );
}

#[tokio::test]
async fn form_content_type_and_size() {
    let missing = Request::post("/form").body(Body::from("q=x")).unwrap();
    send(missing)
        .await
        .problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    for content_type in [
        "application/json",
        "multipart/form-data; boundary=x",
        "text/plain",
    ] {
        send(post_typed("/form", content_type, "q=x"))
            .await
            .problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
    let reply = send(post_form("/small-form", format!("q={}", "a".repeat(40)))).await;
    reply.problem(StatusCode::PAYLOAD_TOO_LARGE);
    let reply = send(post_form("/small-form", "q=a")).await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn form_that_does_not_fit_or_fails_rules_is_422() {
    let cases = [
        ("q=x&page=two", errors(&[("page", "invalid_type")])),
        ("page=2", errors(&[("q", "missing_field")])),
        ("q=&page=500", q_and_page_errors()),
        ("q=x&role=admin", errors(&[("role", "unknown_field")])),
    ];
    for (body, expected) in cases {
        let reply = send(post_form("/form", body)).await;
        assert_eq!(
            reply.problem(StatusCode::UNPROCESSABLE_ENTITY),
            expected,
            "{body}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Valid<Path<T>>
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn path_valid_input_reaches_handler_sanitised() {
    let reply = send(get_uri("/notes/7/Hello-World")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json(), json!({"id": 7, "slug": "hello-world"}));
    let reply = send(get_uri("/single/8080")).await;
    assert_eq!(reply.text, "8080");
}

#[tokio::test]
async fn path_type_mismatch_is_422_with_the_parameter_name() {
    let reply = send(get_uri("/notes/seven/x")).await;
    assert_eq!(
        reply.problem(StatusCode::UNPROCESSABLE_ENTITY),
        errors(&[("id", "invalid_type")])
    );
    let reply = send(get_uri("/single/70000")).await;
    assert_eq!(
        reply.problem(StatusCode::UNPROCESSABLE_ENTITY),
        errors(&[("id", "invalid_type")])
    );
}

#[tokio::test]
async fn path_rule_failure_is_422() {
    let reply = send(get_uri("/notes/0/x")).await;
    assert_eq!(
        reply.problem(StatusCode::UNPROCESSABLE_ENTITY),
        json!([{"field": "id", "code": "range", "params": {"min": 1}}])
    );
}

#[tokio::test]
async fn path_not_utf8_is_400() {
    send(get_uri("/notes/1/%FF"))
        .await
        .problem(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn path_params_missing_from_the_route_is_a_bare_500() {
    let reply = send(get_uri("/broken")).await;
    reply.problem(StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        reply.json(),
        json!({"type": "about:blank", "title": "Internal Server Error", "status": 500})
    );
}

// ---------------------------------------------------------------------------------------------
// Submitted values never come back
// ---------------------------------------------------------------------------------------------

/// Dots keep it from being a "safe" key segment: an unknown key matching `[A-Za-z0-9_-]{1,64}`
/// is echoed as a field name by design.
const SECRET: &str = "S3cr3t.Planted.Value";

fn planted_requests() -> Vec<Request<Body>> {
    let good = r#""username":"ada","age":36,"address":{"zip":"12345"}"#;
    vec![
        // wrong type, out of range, unknown variant
        post_json(
            "/signup",
            format!(r#"{{"username":"ada","age":"{SECRET}","address":{{"zip":"12345"}}}}"#),
        ),
        post_json("/signup", format!(r#"{{{good},"plan":"{SECRET}"}}"#)),
        post_json("/signup", format!(r#"{{{good},"tags":["{SECRET}", 1]}}"#)),
        post_json(
            "/signup",
            format!(r#"{{{good},"address":{{"zip":["{SECRET}"]}}}}"#),
        ),
        // failed rules
        post_json(
            "/signup",
            format!(
                r#"{{"username":"{SECRET}","age":36,"address":{{"zip":"{SECRET}"}},"tags":["{SECRET}{SECRET}"]}}"#
            ),
        ),
        // unknown fields named with it, and unknown fields holding it
        post_json("/signup", format!(r#"{{{good},"{SECRET}":1}}"#)),
        post_json(
            "/signup",
            format!(r#"{{{good},"x":{{"{SECRET}":"{SECRET}"}}}}"#),
        ),
        post_json(
            "/signup",
            format!(r#"{{{good},"address":{{"zip":"12345","{SECRET}":1}}}}"#),
        ),
        // malformed JSON containing it
        post_json("/signup", format!(r#"{{"username":"{SECRET}"#)),
        post_json("/signup", format!(r#"{{"username":{SECRET}}}"#)),
        post_json("/signup", format!(r#"{{{good}}}{SECRET}"#)),
        post_json(
            "/signup",
            format!(r#"{{"username":"ada","username":"{SECRET}"}}"#),
        ),
        // content type and size
        post_typed("/signup", &format!("application/{SECRET}"), "{}"),
        post_json(
            "/small",
            format!(r#"{{"username":"{SECRET}{SECRET}{SECRET}{SECRET}"}}"#),
        ),
        // query, form, path
        get_uri(&format!("/search?q=a&page={SECRET}")),
        get_uri(&format!("/search?q={SECRET}{SECRET}{SECRET}&page=1")),
        get_uri(&format!("/search?q=a&{SECRET}=1")),
        post_form("/form", format!("q=a&page={SECRET}")),
        post_form("/form", format!("q=a&{SECRET}={SECRET}")),
        get_uri(&format!("/notes/{SECRET}/x")),
        get_uri(&format!("/single/{SECRET}")),
    ]
}

#[tokio::test]
async fn planted_value_never_comes_back() {
    for request in planted_requests() {
        let what = format!("{} {}", request.method(), request.uri());
        let reply = send(request).await;
        assert!(reply.status.is_client_error(), "{what}: {}", reply.status);
        assert!(!reply.text.contains(SECRET), "{what}: {}", reply.text);
        assert!(!reply.text.contains("S3cr3t"), "{what}: {}", reply.text);
        for (name, value) in &reply.headers {
            let value = String::from_utf8_lossy(value.as_bytes());
            assert!(!value.contains("S3cr3t"), "{what}: {name}: {value}");
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Whatever string a client puts in a value or (with a character outside the safe set) in a
    /// key, the response does not contain it.
    #[test]
    fn arbitrary_values_and_keys_never_come_back(
        value in "[ -~\u{a0}-\u{17f}]{0,24}",
        key in "[ -~]{0,12}[^A-Za-z0-9_-][ -~]{0,12}",
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let marked = format!("ZqX7{value}");
        let marked_key = format!("ZqX7{key}");
        let bodies = [
            json!({"username": "ada", "age": &marked, "address": {"zip": "12345"}}),
            json!({"username": &marked, "age": 36, "address": {"zip": &marked}, "plan": &marked}),
            json!({"username": "ada", "age": 36, "address": {"zip": "12345"}, marked_key.clone(): &marked}),
        ];
        for body in bodies {
            let reply = runtime.block_on(send(post_json("/signup", body.to_string())));
            proptest::prop_assert!(reply.status.is_client_error());
            proptest::prop_assert!(!reply.text.contains("ZqX7"), "{}", reply.text);
        }
    }
}
