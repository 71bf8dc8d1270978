//! A login flood against the notes-api binary (OWASP Argon2id parameters, as it ships): far
//! more concurrent logins than hashing slots, from many client addresses behind a trusted
//! proxy, each for a different (unknown) user name so that no rate limit or account throttle
//! stops them before the hasher does.
//!
//! The hasher runs at most `SECURE_PASSWORD_HASHES` hashes at once; the others wait for a
//! slot at most `SECURE_PASSWORD_HASH_WAIT` and get a 503 with `Retry-After`. So the
//! process's peak memory stays near `slots` × 19 MiB above its idle size, and no request is
//! left to the 30 s request timeout (before the bound, 60 such logins took the process to
//! 1.17 GiB and every answer was a 408). Timings are printed, not asserted: the figures come
//! from `benches/login_flood.py`.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::json;

mod support;

const LOGINS: usize = 120;
const SLOTS: usize = 2;
/// Idle notes-api (debug) plus two 19 MiB hashes is well under this; the unbounded hasher
/// passed a gibibyte with half as many logins.
const PEAK_RSS_LIMIT_KIB: u64 = 300 * 1024;

/// The process's peak resident set (`VmHWM`), in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

async fn post_login(addr: &str, client: usize) -> (u16, Duration, Option<String>) {
    use http_body_util::{BodyExt, Full};
    use hyper_util::rt::TokioIo;
    let started = Instant::now();
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    let body =
        json!({"username": format!("nobody_{client}"), "password": "wrong password, long enough"});
    let request = axum::http::Request::post("/auth/sign-in")
        .header("host", addr)
        .header("content-type", "application/json")
        // A distinct client behind the trusted proxy (127.0.0.1).
        .header(
            "x-forwarded-for",
            format!("10.{}.{}.7", client / 250, client % 250),
        )
        .body(Full::new(axum::body::Bytes::from(body.to_string())))
        .expect("request");
    let response = sender.send_request(request).await.expect("response");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let _ = response.into_body().collect().await;
    (status, started.elapsed(), retry_after)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_flood_gets_fast_answers_in_bounded_memory() {
    let db = std::env::temp_dir().join(format!("notes-flood-{}.db", std::process::id()));
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_notes-api"))
        .env("DATABASE_URL", format!("sqlite://{}", db.display()))
        .env("NOTES_ADDR", "127.0.0.1:0")
        .env("SECURE_TRUSTED_PROXIES", "127.0.0.1")
        .env("SECURE_PASSWORD_HASHES", SLOTS.to_string())
        .env("SECURE_PASSWORD_HASH_WAIT", "1s")
        .env_remove("SECURE_JWT_KEY")
        .env_remove("SECURE_CSRF_KEY")
        .env_remove("SECURE_DATA_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("notes-api starts");
    let pid = child.id().expect("pid");
    let addr = support::listening_on(&mut child).await;
    let idle_kib = peak_rss_kib(pid);

    let started = Instant::now();
    let answers: Vec<_> = futures_join_all((0..LOGINS).map(|c| {
        let addr = addr.clone();
        tokio::spawn(async move { post_login(&addr, c).await })
    }))
    .await;
    let wall = started.elapsed();
    let peak_kib = peak_rss_kib(pid);
    let _ = child.kill().await;
    for suffix in ["", "-wal", "-shm"] {
        let mut p = db.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }

    let mut slowest = Duration::ZERO;
    let (mut refused, mut busy) = (0, 0);
    for (status, took, retry_after) in &answers {
        slowest = slowest.max(*took);
        match status {
            401 => refused += 1,
            503 => {
                busy += 1;
                assert!(retry_after.is_some(), "a 503 without Retry-After");
            }
            other => panic!("a flooded login answered {other}, not 401 or 503"),
        }
    }
    eprintln!(
        "flood: {LOGINS} logins, {SLOTS} slots: {refused} x 401, {busy} x 503, slowest {slowest:?}, \
         all in {wall:?}; RSS idle {} MiB, peak {} MiB",
        idle_kib / 1024,
        peak_kib / 1024
    );
    assert!(refused > 0, "no login was ever verified");
    assert!(
        busy > 0,
        "the hasher never said busy with {LOGINS} logins for {SLOTS} slots"
    );
    assert!(
        peak_kib < PEAK_RSS_LIMIT_KIB,
        "peak RSS {} MiB: memory is not bounded",
        peak_kib / 1024
    );
}

/// Awaits every task (a panic in one is a failure of the test).
async fn futures_join_all<T: Send + 'static>(
    tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut out = Vec::new();
    for task in tasks.collect::<Vec<_>>() {
        out.push(task.await.expect("task"));
    }
    out
}
