//! Connection floods against the notes-api binary, run under a low open-file limit
//! (`ulimit -n`) as a service usually is: sockets that send a request line and then a header
//! now and then, and sockets that send nothing. No request ever completes, so only the
//! connection limits of `secure_core::serve` can stop them. Before those limits, 1,200 such
//! sockets from one address left a normal client unanswered for as long as they stayed open.
//!
//! Linux routes all of 127.0.0.0/8 to the loopback interface, so clients bound to 127.0.0.2
//! or 127.0.0.10 are other addresses.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::process::Child;
use tokio::time::{Instant, sleep, timeout};

mod support;

const HOSTILE: usize = 1200;

/// notes-api under `ulimit -n files`, its address, and its standard error as it comes.
async fn start(
    files: u32,
    db_name: &str,
    vars: &[(&str, &str)],
) -> (Child, SocketAddr, Arc<Mutex<Vec<String>>>) {
    let db = std::env::temp_dir().join(format!("{db_name}-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&db);
    let mut command = tokio::process::Command::new("sh");
    command
        .arg("-c")
        .arg(format!("ulimit -n {files} && exec \"$0\""))
        .arg(env!("CARGO_BIN_EXE_notes-api"))
        .env("DATABASE_URL", format!("sqlite://{}", db.display()))
        .env("NOTES_ADDR", "127.0.0.1:0")
        .env_remove("SECURE_JWT_KEY")
        .env_remove("SECURE_CSRF_KEY")
        .env_remove("SECURE_DATA_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (name, value) in vars {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("notes-api starts");
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut errors = tokio::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    let collected = Arc::clone(&log);
    tokio::spawn(async move {
        while let Ok(Some(line)) = errors.next_line().await {
            collected.lock().unwrap().push(line);
        }
    });
    let addr = support::listening_on(&mut child)
        .await
        .parse()
        .expect("an address");
    (child, addr, log)
}

async fn connect_from(last: u8, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(
        IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)),
        0,
    ))?;
    socket.connect(to).await
}

/// A hostile connection from `127.0.0.<last>`: with `slow`, a request line and then a header
/// line every `every`; else nothing. When it was connected, and when the server closed it if
/// it did within `wait` of that.
async fn hostile(
    last: u8,
    to: SocketAddr,
    slow: bool,
    every: Duration,
    wait: Duration,
) -> (Instant, Option<Instant>) {
    let Ok(mut stream) = connect_from(last, to).await else {
        // Refused before the handshake completed: closed at once.
        let now = Instant::now();
        return (now, Some(now));
    };
    let connected = Instant::now();
    if slow {
        let _ = stream
            .write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n")
            .await;
    }
    let mut buf = [0u8; 256];
    let deadline = connected + wait;
    loop {
        let next = (Instant::now() + every).min(deadline);
        tokio::select! {
            read = stream.read(&mut buf) => match read {
                Ok(0) | Err(_) => return (connected, Some(Instant::now())),
                Ok(_) => {}
            },
            () = tokio::time::sleep_until(next) => {
                if Instant::now() >= deadline {
                    return (connected, None);
                }
                if slow && stream.write_all(b"x-slow: 1\r\n").await.is_err() {
                    return (connected, Some(Instant::now()));
                }
            }
        }
    }
}

/// The most hostile connections the server held open at once for longer than `held`.
fn most_held_at_once(closed: &[(Instant, Option<Instant>)], held: Duration) -> usize {
    let mut edges: Vec<(Instant, i32)> = Vec::new();
    for (connected, end) in closed {
        if let Some(end) = end
            && *end - *connected >= held
        {
            edges.push((*connected, 1));
            edges.push((*end, -1));
        }
    }
    edges.sort();
    let (mut open, mut most) = (0i32, 0i32);
    for (_, change) in edges {
        open += change;
        most = most.max(open);
    }
    usize::try_from(most).unwrap_or(0)
}

/// A normal client: `GET /health` on a new connection from 127.0.0.2; whether a 200 came
/// within a second.
async fn normal_client(to: SocketAddr) -> bool {
    let ask = async {
        let mut stream = connect_from(2, to).await.ok()?;
        stream
            .write_all(b"GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .ok()?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.ok()?;
        Some(answer.starts_with(b"HTTP/1.1 200"))
    };
    matches!(timeout(Duration::from_secs(1), ask).await, Ok(Some(true)))
}

/// Floods `addr` from `sources` (round robin), asks as a normal client every `ask_every`
/// while the flood lasts, and gives back how many asks failed and each hostile connection's
/// closing time.
async fn flood(
    addr: SocketAddr,
    sources: &[u8],
    every: Duration,
    wait: Duration,
    ask_every: Duration,
    asks: usize,
) -> (usize, usize, Vec<(Instant, Option<Instant>)>) {
    let mut tasks = Vec::with_capacity(HOSTILE);
    for i in 0..HOSTILE {
        let last = sources[i % sources.len()];
        tasks.push(tokio::spawn(hostile(last, addr, i % 2 == 0, every, wait)));
        // 100 at a time, 20 ms apart (all 1,200 within a quarter of a second): a burst
        // larger than the listen backlog (1,024) would have the kernel drop handshakes and
        // complete them seconds later, which the client would count as time held.
        if i % 100 == 99 {
            sleep(Duration::from_millis(20)).await;
        }
    }
    let mut failed = 0;
    for _ in 0..asks {
        if !normal_client(addr).await {
            failed += 1;
        }
        sleep(ask_every).await;
    }
    let mut closed = Vec::with_capacity(HOSTILE);
    for task in tasks {
        closed.push(task.await.expect("hostile task"));
    }
    (failed, asks, closed)
}

fn audit_lines(log: &Mutex<Vec<String>>, needle: &str) -> Vec<String> {
    log.lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains(needle))
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_unfinished_connections_leaves_normal_clients_served() {
    // 1. The finding: 1,200 from one address, the default limits, 1,024 files.
    let (mut child, addr, log) = start(1024, "notes-conn-one", &[]).await;
    let header_timeout = Duration::from_secs(10);
    let (failed, asks, closed) = flood(
        addr,
        &[1],
        Duration::from_secs(2),
        header_timeout + Duration::from_secs(4),
        Duration::from_millis(500),
        24,
    )
    .await;
    let still_open = closed.iter().filter(|c| c.1.is_none()).count();
    let held = most_held_at_once(&closed, Duration::from_secs(1));
    let connection_lines = audit_lines(&log, "event=\"conn.");
    eprintln!(
        "one address: {failed} of {asks} normal asks failed; at most {held} hostile connections \
         held at once, {still_open} still open {:?} after connecting; {} connection audit lines",
        header_timeout + Duration::from_secs(4),
        connection_lines.len()
    );
    assert_eq!(failed, 0, "a normal client went unanswered");
    assert_eq!(
        still_open, 0,
        "hostile connections outlived the header timeout"
    );
    // The address holds at most its 64; the others were closed before a byte was read.
    assert!(held <= 64, "{held} held at once");
    // One summary line per reason and interval, not one per connection.
    assert!(
        !connection_lines.is_empty() && connection_lines.len() <= 8,
        "{connection_lines:#?}"
    );
    assert!(
        connection_lines
            .iter()
            .any(|l| l.contains("per_address") && l.contains("client_ip=127.0.0.1")),
        "{connection_lines:#?}"
    );
    let _ = child.kill().await;

    // 2. From fifty addresses, under the per-address cap each, against 256 files: the cap
    // on all connections (192) is reached and the longest-waiting ones make room.
    let (mut child, addr, log) = start(
        256,
        "notes-conn-many",
        &[("SECURE_HEADER_READ_TIMEOUT", "3s")],
    )
    .await;
    let sources: Vec<u8> = (10..60).collect();
    let (failed, asks, closed) = flood(
        addr,
        &sources,
        Duration::from_secs(1),
        Duration::from_secs(6),
        Duration::from_millis(250),
        16,
    )
    .await;
    let still_open = closed.iter().filter(|c| c.1.is_none()).count();
    let held = most_held_at_once(&closed, Duration::from_secs(1));
    eprintln!(
        "fifty addresses: {failed} of {asks} normal asks failed; at most {held} hostile \
         connections held at once, {still_open} still open"
    );
    assert_eq!(failed, 0, "a normal client went unanswered");
    assert_eq!(
        still_open, 0,
        "hostile connections outlived the header timeout"
    );
    // The cap on all connections: 256 files less a reserve of 64.
    assert!(held <= 192, "{held} held at once");
    // The listener survived: still answering once the flood is gone.
    assert!(normal_client(addr).await);
    assert!(
        !audit_lines(&log, "reason=\"evicted\"").is_empty(),
        "no eviction was logged"
    );
    let _ = child.kill().await;
}
