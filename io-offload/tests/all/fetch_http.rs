//! `fetch` over HTTP from nginx: keep-alive, framing, errors.

use std::io::Write;

use crate::support::*;

#[test]
fn fetch_reads_objects_from_nginx() {
    let nginx = nginx();
    let rt = runtime();
    let sizes = [0usize, 10, 70_000, 5 << 20];
    for &n in &sizes {
        put_file(&nginx.root, &format!("obj/{n}.bin"), &pattern(n));
    }
    let uris: Vec<String> = sizes
        .iter()
        .map(|n| format!("{}/obj/{n}.bin", nginx.url()))
        .collect();
    let refs: Vec<&str> = uris.iter().map(String::as_str).collect();
    // Twice: the second round reuses kept-alive connections.
    for _ in 0..2 {
        let items = fetch(&rt, &refs).unwrap();
        for (item, &n) in items.iter().zip(&sizes) {
            assert_eq!(item.data.len(), n);
            assert_eq!(item.data.as_ref(), pattern(n).as_slice());
        }
    }
}

#[test]
fn many_sequential_fetches_reuse_connections() {
    let nginx = nginx();
    put_file(&nginx.root, "small.txt", b"hello");
    let rt = runtime();
    let uri = format!("{}/small.txt", nginx.url());
    for _ in 0..200 {
        assert_eq!(fetch_one(&rt, &uri), b"hello");
    }
    assert_eq!(rt.stats().failed_calls, 0);
}

#[test]
fn fetch_404_is_an_error_naming_the_uri() {
    let nginx = nginx();
    let rt = runtime();
    let uri = format!("{}/missing.txt", nginx.url());
    let e = assert_error(fetch(&rt, &[&uri]), "status", &uri);
    assert!(e.to_string().contains("404"), "{e}");
    // 404 is not retried.
    assert_eq!(rt.stats().retries, 0);
}

#[test]
fn fetch_500_is_retried_then_reported() {
    let nginx = nginx();
    let rt = runtime_with(|c| {
        c.retries(2);
    });
    let uri = format!("{}/status/500", nginx.url());
    let e = assert_error(fetch(&rt, &[&uri]), "status", &uri);
    assert!(e.to_string().contains("500"), "{e}");
    assert_eq!(rt.stats().retries, 2);
}

#[test]
fn fetch_decodes_chunked_bodies() {
    let addr = tcp_server(|mut stream| {
        // Two requests on one connection: the second proves keep-alive after a
        // chunked body.
        for _ in 0..2 {
            let head = read_head(&mut stream);
            if head.is_empty() {
                return;
            }
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: yes\r\n\r\n",
            );
        }
    });
    let rt = runtime();
    let uri = format!("http://{addr}/chunked");
    assert_eq!(fetch_one(&rt, &uri), b"hello, world");
    assert_eq!(fetch_one(&rt, &uri), b"hello, world");
}

#[test]
fn fetch_reads_bodies_framed_by_connection_close() {
    let addr = tcp_server(|mut stream| {
        read_head(&mut stream);
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end");
    });
    let rt = runtime();
    assert_eq!(
        fetch_one(&rt, &format!("http://{addr}/x")),
        b"until the end"
    );
}

#[test]
fn fetch_resolves_localhost() {
    let nginx = nginx();
    put_file(&nginx.root, "named.txt", b"by name");
    let rt = runtime();
    let uri = format!("http://localhost:{}/named.txt", nginx.port);
    assert_eq!(fetch_one(&rt, &uri), b"by name");
}

#[test]
fn fetch_resolves_names_through_the_system_resolver() {
    // The machine's own host name goes through getaddrinfo on a helper thread.
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let name = name.trim();
    let loopback = std::net::ToSocketAddrs::to_socket_addrs(&(name, 80))
        .map(|mut addrs| addrs.any(|a| a.ip().is_loopback() && a.is_ipv4()))
        .unwrap_or(false);
    let nginx = nginx();
    put_file(&nginx.root, "named.txt", b"resolved");
    let rt = runtime_with(|c| {
        c.retries(0);
    });
    let uri = format!("http://{name}:{}/named.txt", nginx.port);
    if loopback {
        assert_eq!(fetch_one(&rt, &uri), b"resolved");
    } else {
        // Resolves elsewhere or not at all: a clear error naming the URI.
        let e = fetch(&rt, &[&uri]).unwrap_err();
        assert!(e.to_string().contains(&uri), "{e}");
    }
    let unknown = "http://no-such-host.invalid/x";
    assert_error(fetch(&rt, &[unknown]), "connect", unknown);
}

#[test]
fn keep_alive_connections_are_reused_and_close_is_honoured() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    let addr = tcp_server(move |mut stream| {
        counter.fetch_add(1, Ordering::SeqCst);
        loop {
            let head = read_head(&mut stream);
            if head.is_empty() {
                return;
            }
            let close = String::from_utf8_lossy(&head).contains("GET /close ");
            let answer: &[u8] = if close {
                b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbye"
            } else {
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
            };
            if stream.write_all(answer).is_err() || close {
                return;
            }
        }
    });
    let rt = runtime();
    for _ in 0..10 {
        assert_eq!(fetch_one(&rt, &format!("http://{addr}/keep")), b"hi");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
    assert_eq!(fetch_one(&rt, &format!("http://{addr}/close")), b"bye");
    assert_eq!(fetch_one(&rt, &format!("http://{addr}/keep")), b"hi");
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
}
