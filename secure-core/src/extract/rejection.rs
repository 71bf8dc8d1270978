//! Turning extractor failures into [`Problem`]s, and the one debug line each rejection logs.

use std::fmt;

use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;

use crate::error::Problem;

/// Logs `problem` (status and codes only, never a value), counts it, and returns it.
pub(super) fn reject(extractor: &'static str, problem: Problem) -> Problem {
    crate::observe::input_rejected(extractor, problem.status().as_u16());
    tracing::debug!(
        target: "secure::extract",
        extractor,
        status = problem.status().as_u16(),
        codes = %Codes(&problem),
        "request input rejected"
    );
    problem
}

/// The body could not be read: 413 when it is over the limit, else 400.
pub(super) fn body_problem(rejection: &BytesRejection) -> Problem {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Problem::payload_too_large()
    } else {
        Problem::bad_request()
    }
}

/// `length,unknown_field`: the codes of a problem's errors, comma-separated.
struct Codes<'a>(&'a Problem);

impl fmt::Display for Codes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(errors) = self.0.errors() else {
            return Ok(());
        };
        for (i, error) in errors.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(error.code())?;
        }
        Ok(())
    }
}
