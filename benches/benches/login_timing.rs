//! Does a login for an unknown user take as long as a wrong password for a real one?
//!
//! `PasswordHasher::verify_blocking` verifies unknown users against a dummy Argon2id hash made
//! at start-up with the same parameters. This measures both paths, interleaved in a random
//! order so drift (thermal, other processes, frequency scaling) falls on both alike, and
//! prints Welch's t statistic. |t| below about 4.5 (the threshold dudect uses) means the two
//! timing distributions cannot be told apart at this sample size. A report, not an assertion.
//!
//! ```text
//! cargo bench -p secure-benches --bench login_timing
//! LOGIN_TIMING_N=500 cargo bench -p secure-benches --bench login_timing
//! ```

use std::hint::black_box;
use std::time::Instant;

use rand::seq::SliceRandom;
use secure_core::SecretString;
use secure_core::auth::password::{PasswordHasher, SkipBreachCheck, StoredPassword, Verification};

const WARM_UP: usize = 10;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Case {
    KnownUserWrongPassword,
    UnknownUser,
}

fn main() {
    let n: usize = std::env::var("LOGIN_TIMING_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);

    let hasher = PasswordHasher::new();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime");
    let stored_hash = runtime
        .block_on(hasher.hash(
            &SecretString::from("the real password of user-42"),
            &SkipBreachCheck,
        ))
        .expect("hashing works");
    let stored = StoredPassword::new("user-42", &stored_hash);
    let attempt = SecretString::from("a wrong guess of the same length");

    let run = |case: Case| -> f64 {
        let account = match case {
            Case::KnownUserWrongPassword => Some(stored),
            Case::UnknownUser => None,
        };
        let start = Instant::now();
        let verdict = hasher.verify_blocking(black_box(&attempt), black_box(account));
        let elapsed = start.elapsed();
        assert_eq!(verdict, Ok(Verification::Invalid));
        elapsed.as_secs_f64() * 1e3
    };

    let mut order: Vec<Case> = std::iter::repeat_n(Case::KnownUserWrongPassword, n)
        .chain(std::iter::repeat_n(Case::UnknownUser, n))
        .collect();
    order.shuffle(&mut rand::rng());

    for i in 0..WARM_UP {
        run(if i % 2 == 0 {
            Case::KnownUserWrongPassword
        } else {
            Case::UnknownUser
        });
    }
    let (mut known, mut unknown) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for case in order {
        let ms = run(case);
        match case {
            Case::KnownUserWrongPassword => known.push(ms),
            Case::UnknownUser => unknown.push(ms),
        }
    }

    let k = Summary::of(&known);
    let u = Summary::of(&unknown);
    let t = (k.mean - u.mean) / (k.var / k.n + u.var / u.n).sqrt();
    println!(
        "login timing: Argon2id {:?}, {n} samples per case, interleaved at random",
        hasher.params()
    );
    println!(
        "  {:<28} {:>9} {:>9} {:>9}",
        "case", "mean ms", "sd ms", "median ms"
    );
    println!(
        "  {:<28} {:>9.3} {:>9.3} {:>9.3}",
        "known user, wrong password",
        k.mean,
        k.var.sqrt(),
        k.median
    );
    println!(
        "  {:<28} {:>9.3} {:>9.3} {:>9.3}",
        "unknown user (dummy hash)",
        u.mean,
        u.var.sqrt(),
        u.median
    );
    println!("  Welch's t = {t:.3} (|t| < 4.5: indistinguishable at this sample size)");
}

struct Summary {
    n: f64,
    mean: f64,
    /// Sample variance (n - 1).
    var: f64,
    median: f64,
}

impl Summary {
    fn of(samples: &[f64]) -> Summary {
        let n = samples.len() as f64;
        let mean = samples.iter().sum::<f64>() / n;
        let var = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let median = sorted[sorted.len() / 2];
        Summary {
            n,
            mean,
            var,
            median,
        }
    }
}
