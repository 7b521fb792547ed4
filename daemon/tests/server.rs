//! `serve_router` on `HttpThreads`: where connections are served, the
//! connection cap, and shutdown.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use pappus_daemon::{serve_router, ConnectionLimits, HttpThreads};

/// A router whose one route answers the name of the thread serving it.
fn thread_names() -> Router {
    Router::new().route(
        "/thread",
        get(|| async { std::thread::current().name().unwrap_or("?").to_owned() }),
    )
}

/// A server on an ephemeral port, stopped by sending on `stop`.
struct Server {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    served: tokio::task::JoinHandle<()>,
    runtime: tokio::runtime::Runtime,
}

impl Server {
    fn start(threads: usize, limits: ConnectionLimits) -> Server {
        // The accepting runtime runs on a thread of its own while the test
        // blocks on its clients.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let threads = Arc::new(HttpThreads::start(threads).expect("HTTP threads"));
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = runtime.spawn(serve_router(
            listener,
            thread_names(),
            threads,
            limits,
            async {
                let _ = stopped.await;
            },
        ));
        Server {
            addr,
            stop: Some(stop),
            served,
            runtime,
        }
    }

    /// Stops the server and waits until it has returned.
    fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.runtime.block_on(self.served).expect("server task")
    }
}

/// A keep-alive client connection.
struct Client {
    stream: TcpStream,
}

impl Client {
    fn open(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("read timeout");
        Client { stream }
    }

    /// `GET path`; answers (status, body). Reads by `Content-Length`.
    fn get(&mut self, path: &str) -> (u16, String) {
        write!(self.stream, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").expect("send");
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 16];
            let mut parsed = httparse::Response::new(&mut headers);
            if let Ok(httparse::Status::Complete(head)) = parsed.parse(&buf) {
                let length: usize = parsed
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                    .and_then(|h| std::str::from_utf8(h.value).ok()?.parse().ok())
                    .expect("content-length");
                if buf.len() >= head + length {
                    let body = String::from_utf8_lossy(&buf[head..head + length]).into_owned();
                    return (parsed.code.expect("status"), body);
                }
            }
            let n = self.stream.read(&mut chunk).expect("read answer");
            assert!(n > 0, "connection closed before a whole answer");
            buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Whether the server closed the connection (reads until end of stream).
    fn closed_by_server(&mut self) -> bool {
        let mut rest = Vec::new();
        self.stream.read_to_end(&mut rest).is_ok() && rest.is_empty()
    }
}

fn limits(max_connections: usize) -> ConnectionLimits {
    ConnectionLimits {
        max_connections,
        client_timeout: Duration::from_secs(30),
    }
}

#[test]
fn connections_are_spread_over_the_threads_and_each_stays_on_its_own() {
    let server = Server::start(2, limits(16));
    let mut clients: Vec<Client> = (0..4).map(|_| Client::open(server.addr)).collect();
    let mut homes = Vec::new();
    for client in &mut clients {
        let (status, first) = client.get("/thread");
        assert_eq!(status, 200);
        assert!(first.starts_with("pappus-http-"), "served on {first}");
        for _ in 0..5 {
            assert_eq!(client.get("/thread"), (200, first.clone()));
        }
        homes.push(first);
    }
    // Each new connection went to the thread with fewer open ones: two each.
    homes.sort();
    assert_eq!(
        homes,
        [
            "pappus-http-0",
            "pappus-http-0",
            "pappus-http-1",
            "pappus-http-1"
        ]
    );
    drop(clients);
    server.stop();
}

#[test]
fn a_closed_connection_frees_its_place_on_its_thread() {
    let server = Server::start(2, limits(16));
    let mut first = Client::open(server.addr);
    assert_eq!(first.get("/thread"), (200, "pappus-http-0".to_owned()));
    let mut second = Client::open(server.addr);
    assert_eq!(second.get("/thread"), (200, "pappus-http-1".to_owned()));
    // Once the second has closed (the client saw the server close it), its
    // thread is the emptier one: ties would go to the first thread.
    write!(
        second.stream,
        "GET /thread HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut rest = Vec::new();
    second.stream.read_to_end(&mut rest).expect("read to close");
    let mut third = Client::open(server.addr);
    assert_eq!(third.get("/thread"), (200, "pappus-http-1".to_owned()));
    drop((first, third));
    server.stop();
}

#[test]
fn stopping_closes_idle_connections_and_returns() {
    let server = Server::start(2, limits(16));
    let mut idle: Vec<Client> = (0..3).map(|_| Client::open(server.addr)).collect();
    for client in &mut idle {
        assert_eq!(client.get("/thread").0, 200);
    }
    let addr = server.addr;
    server.stop();
    for mut client in idle {
        assert!(client.closed_by_server());
    }
    assert!(
        TcpStream::connect(addr).is_err(),
        "the listener is closed once the server has returned"
    );
}

#[test]
fn connections_over_the_cap_are_answered_429_and_closed() {
    let server = Server::start(2, limits(1));
    let mut held = Client::open(server.addr);
    assert_eq!(held.get("/thread").0, 200);
    let mut refused = Client::open(server.addr);
    let (status, body) = refused.get("/thread");
    assert_eq!(status, 429);
    assert!(body.contains("max_connections"), "{body}");
    assert!(refused.closed_by_server());
    // The connection under the cap is still served.
    assert_eq!(held.get("/thread").0, 200);
    drop(held);
    server.stop();
}
