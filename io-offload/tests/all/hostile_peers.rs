//! Peers and bugs that used to take the I/O runtime down: each now fails its own
//! call with a typed error, and the runtime keeps serving.

use std::io::Write;
use std::sync::mpsc;
use std::time::Duration;

use pappus_io::{Authority, Call, IoPolicy, IoRuntime, Item};

use crate::support::*;

/// The runtime serves: a fresh local file is fetched, and every thread is up.
fn still_serving(rt: &IoRuntime) {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), b"still here").unwrap();
    assert_eq!(fetch_one(rt, &file_uri(file.path())), b"still here");
    assert!(rt.health().is_healthy(), "{:?}", rt.health());
}

/// A server answering every request with `answer`, then closing.
fn answering(answer: Vec<u8>) -> std::net::SocketAddr {
    tcp_server(move |mut stream| {
        read_head(&mut stream);
        let _ = stream.write_all(&answer);
    })
}

#[test]
fn chunk_sizes_that_overflow_are_protocol_errors() {
    let rt = runtime_with(|c| {
        c.retries(0);
    });
    for size in [
        "ffffffffffffffff",
        "fffffffffffffffe",
        "fffffffffffffff0",
        "8000000000000000",
        "ffffffffffffffffff",
        "10000000000000000",
    ] {
        let answer = format!(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n{size}\r\nxx\r\n0\r\n\r\n"
        );
        let addr = answering(answer.into_bytes());
        let uri = format!("http://{addr}/chunked");
        let e = fetch(&rt, &[&uri]).unwrap_err();
        assert!(matches!(e.kind(), "protocol" | "too_large"), "{size}: {e}");
        assert!(e.to_string().contains(&uri), "{e}");
        still_serving(&rt);
    }
    assert_eq!(rt.stats().panics, 0);
}

#[test]
fn endless_chunk_lines_and_trailers_are_bounded() {
    let rt = runtime_with(|c| {
        c.retries(0);
    });
    let mut long_line = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;".to_vec();
    long_line.extend(std::iter::repeat_n(b'x', 200_000));
    let mut long_trailer =
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: ".to_vec();
    long_trailer.extend(std::iter::repeat_n(b'y', 200_000));
    for answer in [long_line, long_trailer] {
        let addr = answering(answer);
        let uri = format!("http://{addr}/endless");
        assert_error(fetch(&rt, &[&uri]), "protocol", &uri);
    }
    // A body length far beyond the limit is refused before anything is read.
    let addr =
        answering(b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\n".to_vec());
    let uri = format!("http://{addr}/huge");
    assert_error(fetch(&rt, &[&uri]), "too_large", &uri);
    still_serving(&rt);
}

#[test]
fn a_redis_peer_that_never_ends_a_line_is_a_protocol_error() {
    let addr = tcp_server(|mut stream| {
        let mut buf = [0u8; 1024];
        let _ = std::io::Read::read(&mut stream, &mut buf);
        let _ = stream.write_all(b"+");
        let _ = stream.write_all(&vec![b'a'; 200_000]);
        std::thread::sleep(Duration::from_secs(5));
    });
    let rt = runtime_with(|c| {
        c.redis(format!("redis://{addr}")).retries(0);
    });
    let e = rt
        .call(Call::KvGet {
            keys: vec![Item::new("k", 0, "key")],
        })
        .unwrap_err();
    assert_eq!(e.kind(), "protocol", "{e}");
    still_serving(&rt);
}

#[test]
fn a_panicking_task_fails_its_call_and_the_runtime_keeps_serving() {
    // The forbidden hook runs inside the call's task: a panic there is a panic
    // in an I/O task.
    let rt = runtime_with(|c| {
        c.on_forbidden(|authority, e| panic!("hook bug for {}: {e}", authority.name()));
    });
    let tenant = std::sync::Arc::new(
        Authority::new(&IoPolicy::default())
            .unwrap()
            .named("tenant-a"),
    );
    for _ in 0..3 {
        let e = rt
            .call_as(
                &tenant,
                Call::Fetch {
                    uris: vec![Item::new("u", 0, "file:///etc/hostname")],
                },
            )
            .unwrap_err();
        assert_eq!(e.kind(), "internal", "{e}");
        assert!(e.to_string().contains("hook bug for tenant-a"), "{e}");
        still_serving(&rt);
    }
    assert_eq!(rt.stats().panics, 3);
    assert_eq!(rt.health().task_panics, 3);
    assert_eq!(rt.health().restarts, 0);
}

#[test]
fn the_forbidden_hook_sees_whose_call_was_refused() {
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let rt = runtime_with(move |c| {
        c.on_forbidden(move |authority, e| {
            if let Ok(tx) = tx.lock() {
                let _ = tx.send((authority.name().to_owned(), e.kind()));
            }
        });
    });
    let tenant = std::sync::Arc::new(
        Authority::new(&IoPolicy::default())
            .unwrap()
            .named("tenant-b"),
    );
    let res = rt.call_as(
        &tenant,
        Call::Fetch {
            uris: vec![Item::new("u", 0, "file:///etc/hostname")],
        },
    );
    assert_eq!(res.unwrap_err().kind(), "forbidden");
    assert_eq!(rx.recv().unwrap(), ("tenant-b".to_owned(), "forbidden"));
    assert_eq!(rt.stats().forbidden, 1);
}

#[test]
fn calls_beyond_the_queue_bound_are_refused_at_once() {
    let addr = stalling_server();
    let rt = runtime_with(|c| {
        c.max_queued_calls(1)
            .timeout(Duration::from_secs(2))
            .retries(0);
    });
    let (tx, rx) = mpsc::channel();
    rt.submit(
        Call::Fetch {
            uris: vec![Item::new("u", 0, format!("http://{addr}/stall"))],
        },
        Box::new(move |res| {
            let _ = tx.send(res.map(|_| ()).map_err(|e| e.kind()));
        }),
    );
    // The first call holds the only place until its deadline.
    let e = fetch(&rt, &["file:///etc/hostname"]).unwrap_err();
    assert_eq!(e.kind(), "overloaded", "{e}");
    assert!(e.to_string().contains("queued calls"), "{e}");
    assert_eq!(rx.recv().unwrap(), Err("timeout"));
    // Once it is done, calls are accepted again.
    still_serving(&rt);
}
