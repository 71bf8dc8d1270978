//! Leak tests for the extractors: a planted value must reach neither a response nor a log line.
//! (The HTTP behaviour suite is in `tests/tests/http_validation.rs`.)

use std::fmt;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{Form, Path, Query};
use axum::http::{Request, StatusCode, header};
use axum::routing::{get, post};
use http_body_util::BodyExt;
use tower::ServiceExt;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

use crate::validate::{FieldPath, Valid, Validate, ValidationErrors};

// The dots matter: an unknown key that fits `[A-Za-z0-9_-]{1,64}` is echoed as the client's own
// field name by design; one that does not fit is shown as `*`, and this one must not fit.
const SECRET: &str = "S3cr3t.Planted.Value";

#[derive(serde::Deserialize)]
struct Account {
    name: String,
    age: u8,
}

impl Validate for Account {
    fn validate_into(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors) {
        if self.name.len() > 5 || self.age > 150 {
            errors.add(&path.field("name"), "length", None, &[]);
        }
    }
}

#[derive(serde::Deserialize)]
struct Id8 {
    id: u8,
}

impl Validate for Id8 {
    fn validate_into(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors) {
        if self.id == 0 {
            errors.add(&path.field("id"), "range", None, &[]);
        }
    }
}

/// Writes every event's target and fields into a shared buffer.
struct Capture(Arc<Mutex<String>>);

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        use fmt::Write;
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        span.record(&mut Fields(&mut self.0.lock().unwrap()));
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        values.record(&mut Fields(&mut self.0.lock().unwrap()));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut out = self.0.lock().unwrap();
        out.push('\n');
        out.push_str(event.metadata().target());
        event.record(&mut Fields(&mut out));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

fn app() -> Router {
    Router::new()
        .route("/json", post(|_: Valid<Json<Account>>| async {}))
        .route("/query", get(|_: Valid<Query<Account>>| async {}))
        .route("/form", post(|_: Valid<Form<Account>>| async {}))
        .route("/path/{id}", get(|_: Valid<Path<Id8>>| async {}))
}

fn bad_requests() -> Vec<Request<Body>> {
    let json = |body: String| {
        Request::post("/json")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap()
    };
    let form = |body: String| {
        Request::post("/form")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    };
    let query = |q: String| {
        Request::get(format!("/query?{q}"))
            .body(Body::empty())
            .unwrap()
    };
    vec![
        json(format!(r#"{{"name":"a","age":"{SECRET}"}}"#)),
        json(format!(r#"{{"name":"{SECRET}","age":1}}"#)),
        json(format!(r#"{{"name":"a","age":1,"{SECRET}":1}}"#)),
        json(format!(r#"{{"name":"a","age":1,"x":{{"{SECRET}":1}}}}"#)),
        json(format!(r#"{{"name":"{SECRET}""#)),
        json(format!(r#"{{"name":{SECRET}}}"#)),
        json(format!(r#"{{"name":"a","age":1}} {SECRET}"#)),
        json(format!(r#"{{"name":"a","age":1,"name":"{SECRET}"}}"#)),
        form(format!("name=a&age={SECRET}")),
        form(format!("name={SECRET}&age=1")),
        form(format!("name=a&age=1&{SECRET}=1")),
        query(format!("name=a&age={SECRET}")),
        query(format!("name={SECRET}&age=1")),
        query(format!("name=a&age=1&{SECRET}=x")),
        query(format!("name=a&age=1&x={SECRET}")),
        Request::get(format!("/path/{SECRET}"))
            .body(Body::empty())
            .unwrap(),
    ]
}

/// A global subscriber that listens to everything: without one, tracing-core may let another
/// test thread switch this thread's scoped capture off (see `secure_tests::tracing_fallback`).
fn tracing_fallback() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ =
            tracing::subscriber::set_global_default(Capture(Arc::new(Mutex::new(String::new()))));
    });
}

#[tokio::test]
async fn planted_value_reaches_neither_response_nor_log() {
    let logs = Arc::new(Mutex::new(String::new()));
    tracing_fallback();
    let _guard = tracing::subscriber::set_default(Capture(logs.clone()));
    for request in bad_requests() {
        let uri = request.uri().clone();
        let response = app().oneshot(request).await.unwrap();
        let status = response.status();
        assert!(status.is_client_error(), "{uri}: {status}");
        for (name, value) in response.headers() {
            assert!(
                !value
                    .as_bytes()
                    .windows(SECRET.len())
                    .any(|w| w == SECRET.as_bytes())
            );
            assert!(!name.as_str().contains("s3cr3t"));
        }
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let body = String::from_utf8(body.to_vec()).unwrap();
        assert!(!body.contains(SECRET), "{uri}: {body}");
        assert!(!body.contains("S3cr3t"), "{uri}: {body}");
    }
    let logs = logs.lock().unwrap();
    // Every rejection logged a line, and none holds the value.
    assert_eq!(
        logs.matches("request input rejected").count(),
        bad_requests().len()
    );
    assert!(logs.contains("status=422"));
    assert!(logs.contains("codes=invalid_type"));
    assert!(!logs.contains(SECRET), "{logs}");
}

#[tokio::test]
async fn rejection_log_line_has_status_and_codes() {
    let logs = Arc::new(Mutex::new(String::new()));
    tracing_fallback();
    let _guard = tracing::subscriber::set_default(Capture(logs.clone()));
    let request = Request::get("/query?name=toolong&age=1&extra=1")
        .body(Body::empty())
        .unwrap();
    let response = app().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let logs = logs.lock().unwrap();
    assert_eq!(
        logs.trim(),
        "secure::extract message=request input rejected extractor=\"query\" status=422 codes=unknown_field"
    );
}
