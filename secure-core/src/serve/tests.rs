//! The connection limits over real sockets on loopback. Linux routes all of 127.0.0.0/8 to
//! the loopback interface, so a client bound to 127.0.0.2 is another address.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{Instant, timeout};

use super::*;
use crate::config::SecurityConfig;
use crate::http::connection::ConnectionLimits;
use crate::policy::SecureRouter;

const REQUEST: &[u8] = b"GET /nothing HTTP/1.1\r\nhost: x\r\n\r\n";

/// A server for an empty app (every path 404) with `limits`, and a way to stop it.
struct Running {
    addr: SocketAddr,
    server: Arc<Server>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    async fn start(limits: ConnectionLimits) -> Self {
        let app = SecureRouter::new()
            .into_app(SecurityConfig::new().connection_limits(limits))
            .expect("an empty app assembles");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = Arc::new(Server::new(&app));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = Arc::clone(&server);
        let task = tokio::spawn(async move {
            running
                .run(listener, app, async {
                    let _ = stopped.await;
                })
                .await;
        });
        Running {
            addr,
            server,
            stop: Some(stop),
            task,
        }
    }

    fn total(&self, event: ConnectionEvent) -> u64 {
        self.server.events.total(event)
    }

    async fn stop(mut self) {
        let _ = self.stop.take().map(|s| s.send(()));
        timeout(Duration::from_secs(10), self.task)
            .await
            .expect("the server stops")
            .unwrap();
    }
}

/// A connection from `127.0.0.<last>`.
async fn connect_from(last: u8, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)),
            0,
        ))
        .unwrap();
    socket.connect(to).await.unwrap()
}

/// Reads until the server closes the connection; `None` if it is still open after `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(seen),
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

/// One request on `stream`, and the status line of its answer.
async fn ask(stream: &mut TcpStream) -> String {
    stream.write_all(REQUEST).await.unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    // The empty app's 404 has an empty body: the head is the whole answer.
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("an answer in time")
            .unwrap();
        assert!(n > 0, "closed before answering");
        seen.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&seen).into_owned();
    text.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn serves_until_told_to_stop() {
    let server = Running::start(ConnectionLimits::new()).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /nothing HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    // 404 for an empty app, with the stack's headers.
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(answer.contains("x-request-id"), "{answer}");
    server.stop().await;
}

#[tokio::test]
async fn a_head_that_never_finishes_is_closed_by_the_header_timeout() {
    let limits = ConnectionLimits::new().header_read_timeout(Duration::from_millis(400));
    let server = Running::start(limits).await;
    // A request line, then one header line every 100 ms: never a whole head.
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(b"GET /nothing HTTP/1.1\r\n").await.unwrap();
    let started = Instant::now();
    let trickle = async {
        for i in 0.. {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if slow
                .write_all(format!("x-slow-{i}: 1\r\n").as_bytes())
                .await
                .is_err()
            {
                break;
            }
        }
    };
    let _ = timeout(Duration::from_secs(5), trickle).await;
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(300) && elapsed < Duration::from_secs(5),
        "closed after {elapsed:?}"
    );
    let answer = closed_within(&mut slow, Duration::from_secs(1)).await;
    assert_eq!(
        answer.as_deref(),
        Some(&b""[..]),
        "closed without an answer"
    );
    // A connection that sends nothing at all is closed too.
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    assert!(
        closed_within(&mut silent, Duration::from_secs(3))
            .await
            .is_some(),
        "a silent connection stayed open"
    );
    assert_eq!(server.total(ConnectionEvent::HeaderTimeout), 2);
    server.stop().await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_by_the_idle_timeout() {
    let limits = ConnectionLimits::new()
        .header_read_timeout(Duration::from_secs(30))
        .idle_timeout(Duration::from_millis(500));
    let server = Running::start(limits).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    // Requests 200 ms apart keep it open past the idle timeout...
    for _ in 0..5 {
        assert!(ask(&mut stream).await.starts_with("HTTP/1.1 404"));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // ...and then silence closes it, though the header timeout is far away.
    let started = Instant::now();
    let closed = closed_within(&mut stream, Duration::from_secs(5)).await;
    assert_eq!(closed.as_deref(), Some(&b""[..]));
    assert!(started.elapsed() < Duration::from_secs(5));
    // Idle closes are routine: not counted as refusals.
    assert_eq!(server.total(ConnectionEvent::HeaderTimeout), 0);
    server.stop().await;
}

#[tokio::test]
async fn an_address_at_its_cap_is_refused_while_another_is_served() {
    let server = Running::start(ConnectionLimits::new().per_address(3)).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(connect_from(1, server.addr).await);
    }
    // The three are served (keep-alive: they stay open).
    for stream in &mut held {
        assert!(ask(stream).await.starts_with("HTTP/1.1 404"));
    }
    // A fourth from the same address is closed at once, without an answer.
    let mut fourth = connect_from(1, server.addr).await;
    let _ = fourth.write_all(REQUEST).await;
    assert!(
        closed_within(&mut fourth, Duration::from_secs(2))
            .await
            .is_some_and(|b| b.is_empty()),
        "the fourth connection was served"
    );
    // Another address is served.
    let mut other = connect_from(2, server.addr).await;
    assert!(ask(&mut other).await.starts_with("HTTP/1.1 404"));
    assert_eq!(server.total(ConnectionEvent::PerAddress), 1);
    // A slot given back is free again.
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut again = connect_from(1, server.addr).await;
    assert!(ask(&mut again).await.starts_with("HTTP/1.1 404"));
    server.stop().await;
}

#[tokio::test]
async fn at_capacity_a_waiting_connection_makes_room_for_a_new_client() {
    let limits = ConnectionLimits::new()
        .without_per_address_limit()
        .max_connections(4);
    let server = Running::start(limits).await;
    // Four connections that send nothing, from four addresses.
    let mut idle = Vec::new();
    for last in 10..14 {
        idle.push(connect_from(last, server.addr).await);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A fifth client is answered: the longest-waiting silent one was closed for it.
    let mut client = connect_from(2, server.addr).await;
    assert!(ask(&mut client).await.starts_with("HTTP/1.1 404"));
    assert!(
        closed_within(&mut idle[0], Duration::from_secs(2))
            .await
            .is_some(),
        "the oldest waiting connection is still open"
    );
    assert!(
        closed_within(&mut idle[3], Duration::from_millis(200))
            .await
            .is_none(),
        "a newer one was closed instead"
    );
    assert_eq!(server.total(ConnectionEvent::Evicted), 1);
    assert_eq!(server.total(ConnectionEvent::Capacity), 0);
    server.stop().await;
}

#[tokio::test]
async fn shutdown_lets_the_request_in_flight_finish_and_closes_idle_connections() {
    let server = Running::start(ConnectionLimits::new()).await;
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    assert!(ask(&mut idle).await.starts_with("HTTP/1.1 404"));
    let addr = server.addr;
    server.stop().await;
    assert!(
        closed_within(&mut idle, Duration::from_secs(1))
            .await
            .is_some()
    );
    assert!(TcpStream::connect(addr).await.is_err(), "still accepting");
}
