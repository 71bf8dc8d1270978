//! Logging sensitive values through `tracing`, with a real formatter capturing everything,
//! never writes the planted secret: `?value`, `%value`, span fields, and the validation
//! errors of secret fields.

use std::io::Write;
use std::sync::{Arc, Mutex};

use secure_core::prelude::*;
use tracing_subscriber::fmt::MakeWriter;

const SECRET: &str = "hunter2-Zq9-planted-secret";

#[sensitive]
#[derive(serde::Deserialize, Validated)]
struct Signup {
    #[validate(email)]
    email: String,
    #[sensitive]
    #[validate(length(min = 64), alphanumeric)]
    password: String,
    #[sensitive]
    #[validate(length(min = 64))]
    token: SecretString,
}

#[sensitive(mask = last(4))]
struct CardNumber(String);

#[sensitive]
struct ApiKey(String);

/// Everything every event and span writes, in one buffer.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    fn text(&self) -> String {
        let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn captured(f: impl FnOnce()) -> String {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(capture.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .finish();
    secure_tests::tracing_fallback();
    tracing::subscriber::with_default(subscriber, f);
    capture.text()
}

fn signup() -> Signup {
    Signup {
        email: "not-an-email".into(),
        password: SECRET.into(),
        token: SECRET.into(),
    }
}

#[test]
fn debug_and_display_fields_never_log_the_secret() {
    let log = captured(|| {
        let s = signup();
        let card = CardNumber(format!("4111111111111234{SECRET}"));
        let key = ApiKey(SECRET.into());
        tracing::info!(?s, "debug field");
        tracing::info!(signup = ?s, token = ?s.token, "named debug fields");
        tracing::warn!(%card, %key, "display fields");
        tracing::error!("in the message: {s:?} {card} {key:#?}");
        let span = tracing::info_span!("handler", ?key, %card);
        span.in_scope(|| tracing::debug!(nested = ?s, "inside a span"));
    });
    assert!(log.contains("debug field"), "nothing captured: {log}");
    assert!(log.contains("[REDACTED]"), "{log}");
    assert!(log.contains("***"), "{log}");
    assert!(!log.contains(SECRET), "secret logged:\n{log}");
    assert!(!log.contains("hunter"), "part of the secret logged:\n{log}");
}

#[test]
fn validation_failures_of_secret_fields_never_log_the_secret() {
    let log = captured(|| {
        let s = signup();
        let errors = s.validate().expect_err("the password breaks two rules");
        tracing::warn!(%errors, "validation failed");
        tracing::warn!(?errors, "validation failed (debug)");
        if let Err(e) = Valid::new(signup()) {
            tracing::warn!(error = ?e, "rejected");
        }
    });
    assert!(
        log.contains("password"),
        "the failing field is named: {log}"
    );
    assert!(!log.contains(SECRET), "secret logged:\n{log}");
    assert!(!log.contains("hunter"), "part of the secret logged:\n{log}");
}
