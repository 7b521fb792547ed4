//! TCP peers that misbehave on purpose: they never answer, or cut a body short.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

/// A TCP server that runs `answer` on each accepted connection, on its own
/// thread (left running until the process exits).
pub fn tcp_server(answer: impl Fn(TcpStream) + Send + Sync + 'static) -> SocketAddr {
    let listener = match TcpListener::bind("127.0.0.1:0") {
        Ok(l) => l,
        Err(e) => panic!("cannot bind a test server: {e}"),
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => panic!("no local address: {e}"),
    };
    let answer = std::sync::Arc::new(answer);
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let answer = std::sync::Arc::clone(&answer);
            thread::spawn(move || answer(stream));
        }
    });
    addr
}

/// Reads a request head (up to the blank line) from `stream`.
pub fn read_head(stream: &mut TcpStream) -> Vec<u8> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    head
}

/// A server that accepts and never answers (holds each connection for a minute).
pub fn stalling_server() -> SocketAddr {
    tcp_server(|stream| {
        thread::sleep(Duration::from_secs(60));
        drop(stream);
    })
}

/// A server that promises `promised` body bytes, sends `body`, then closes.
pub fn truncating_server(promised: usize, body: &'static [u8]) -> SocketAddr {
    tcp_server(move |mut stream| {
        read_head(&mut stream);
        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {promised}\r\n\r\n");
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(body);
    })
}
