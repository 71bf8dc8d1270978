//! Cross-crate tests of the secure framework; the suites live in `tests/`.
#![forbid(unsafe_code)]

use std::future::Future;
use std::sync::{Arc, Mutex, Once};

/// Call before installing a thread-scoped capturing subscriber (`set_default`/`with_default`).
///
/// tracing-core caches per callsite whether anyone listens, and while exactly one scoped
/// subscriber exists it lets any thread recompute that cache from its own default. A test
/// thread with no subscriber then switches the capturing test's events off, and an assertion
/// that a log line exists fails at random. A global subscriber that listens to everything
/// (and writes nothing) keeps the cache honest.
pub fn tracing_fallback() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry());
    });
}

/// A writer that keeps everything a subscriber formats, for tests that read log lines.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Runs `f` with a subscriber scoped to this thread that records INFO and above (targets
/// included, no colours), and returns `f`'s output with the text logged meanwhile. Installs
/// [`tracing_fallback`] first.
pub async fn with_logs<F: Future<Output = T>, T>(f: F) -> (T, String) {
    with_logs_at(tracing::Level::INFO, f).await
}

/// [`with_logs`] with the subscriber at `level`.
pub async fn with_logs_at<F: Future<Output = T>, T>(level: tracing::Level, f: F) -> (T, String) {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_ansi(false)
        .with_max_level(level)
        .with_target(true)
        .finish();
    tracing_fallback();
    let guard = tracing::subscriber::set_default(subscriber);
    let out = f.await;
    drop(guard);
    let bytes = captured.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
    (out, String::from_utf8_lossy(&bytes).into_owned())
}

/// A test that cannot run here says so: on standard error (shown with `--nocapture`), and in
/// the skip log that `tests/run` prints as one summary at the end of the run
/// (`SECURE_TEST_SKIP_LOG`), since cargo hides the output of tests that pass.
pub fn skipped(test: &str, needs: &str) {
    let line = format!("{test}: needs {needs}");
    eprintln!("NOTICE: skipped {line}");
    if let Some(log) = std::env::var_os("SECURE_TEST_SKIP_LOG") {
        use std::io::Write as _;
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
        {
            let _ = writeln!(file, "{line}");
        }
    }
}

/// The README's Rust examples compile and run as doctests, so the README cannot drift.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
