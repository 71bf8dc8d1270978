//! What several criterion benches share: timing functions in alternation, running a future
//! that never waits, and a `Principal` made as the stack makes it.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use axum::http::request::Parts;
use secure_core::auth::{AuthError, Authenticator, Caller, Principal, Role};

/// Medians of the functions timed in alternation (`rounds` of `calls` calls each), so that
/// load from other processes hits every function alike; printed with ratios to the first.
#[allow(dead_code, reason = "the instruction counts need no timing")]
pub(crate) fn interleaved(label: &str, rounds: usize, calls: u32, funcs: &[(&str, &dyn Fn())]) {
    let mut samples = vec![Vec::with_capacity(rounds); funcs.len()];
    for _ in 0..rounds {
        for (i, (_, f)) in funcs.iter().enumerate() {
            let start = std::time::Instant::now();
            for _ in 0..calls {
                f();
            }
            samples[i].push(start.elapsed().as_nanos() as f64 / f64::from(calls));
        }
    }
    let mut base = None;
    for ((name, _), s) in funcs.iter().zip(&mut samples) {
        s.sort_by(f64::total_cmp);
        let median = s[s.len() / 2];
        let base = *base.get_or_insert(median);
        eprintln!(
            "interleaved median {label}{name:>24}: {median:8.1} ns  {:.3}x",
            median / base
        );
    }
}

/// Runs a future that never waits (the bearer path has no I/O) to completion.
#[allow(dead_code, reason = "not every bench includes the authenticator")]
pub(crate) fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

/// What the stack does for a `Principal`: the authenticator verifies the request's credential
/// (the pipeline), then the extractor builds the principal from the `Caller` (the handler).
#[allow(dead_code, reason = "not every bench includes the authenticator")]
pub(crate) fn extract<R: Role>(
    auth: &Authenticator,
    parts: &Parts,
) -> Result<Principal<R>, AuthError> {
    let (identity, carrier) = ready(auth.authenticate(parts))?;
    Principal::from_caller(&Caller { identity, carrier })
}
