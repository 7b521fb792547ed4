//! Faults tried for real: each gives an error naming the URI, and the same
//! runtime keeps serving afterwards.

use std::time::{Duration, Instant};

use pappus_io::{Call, IoRuntime, Item};

use crate::support::*;

/// The runtime still serves: a fetch of a fresh local file succeeds.
fn still_serving(rt: &IoRuntime) {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), b"still here").unwrap();
    assert_eq!(fetch_one(rt, &file_uri(file.path())), b"still here");
}

#[test]
fn server_down_is_a_connect_error() {
    let rt = runtime_with(|c| {
        c.retries(2);
    });
    let mut nginx = nginx();
    put_file(&nginx.root, "a.txt", b"a");
    let uri = format!("{}/a.txt", nginx.url());
    assert_eq!(fetch_one(&rt, &uri), b"a");
    nginx.stop();
    let e = assert_error(fetch(&rt, &[&uri]), "connect", &uri);
    assert!(e.to_string().contains("refused"), "{e}");
    assert!(rt.stats().retries >= 2);
    still_serving(&rt);
}

#[test]
fn stalling_server_hits_the_timeout() {
    let addr = stalling_server();
    let rt = runtime_with(|c| {
        c.timeout(Duration::from_millis(300));
    });
    let uri = format!("http://{addr}/never");
    let start = Instant::now();
    let e = assert_error(fetch(&rt, &[&uri]), "timeout", &uri);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    assert!(e.to_string().contains("300ms"), "{e}");
    still_serving(&rt);
}

#[test]
fn truncated_body_is_a_protocol_error() {
    let addr = truncating_server(100, b"only this");
    let rt = runtime();
    let uri = format!("http://{addr}/short");
    let e = assert_error(fetch(&rt, &[&uri]), "protocol", &uri);
    assert!(e.to_string().contains("truncated"), "{e}");
    still_serving(&rt);
}

#[test]
fn objects_over_the_size_limit_are_refused() {
    let nginx = nginx();
    put_file(&nginx.root, "big.bin", &pattern(10_000));
    let rt = runtime_with(|c| {
        c.max_object_bytes(4096);
    });
    let uri = format!("{}/big.bin", nginx.url());
    let e = assert_error(fetch(&rt, &[&uri]), "too_large", &uri);
    assert!(e.to_string().contains("10000"), "{e}");
    let file_path = nginx.root.join("big.bin");
    let file = file_uri(&file_path);
    let e = assert_error(fetch(&rt, &[&file]), "too_large", &file);
    assert!(e.to_string().contains("10000"), "{e}");
    // Exactly at the limit is fine.
    put_file(&nginx.root, "exact.bin", &pattern(4096));
    let exact = file_uri(&nginx.root.join("exact.bin"));
    assert_eq!(fetch_one(&rt, &exact), pattern(4096));
    // Writing too much is refused before anything is written.
    let target = file_uri(&nginx.root.join("out.bin"));
    let res = rt.call(Call::Store {
        objects: vec![Item::new("o", 0, pattern(5000))],
        uris: vec![Item::new("u", 0, target.clone())],
    });
    assert_error(res, "too_large", &target);
    // Bodies without a length are cut off at the limit too.
    let addr = tcp_server(|mut stream| {
        use std::io::Write;
        read_head(&mut stream);
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
        let _ = stream.write_all(&[b'x'; 20_000]);
    });
    let uri = format!("http://{addr}/unframed");
    assert_error(fetch(&rt, &[&uri]), "too_large", &uri);
    still_serving(&rt);
}

#[test]
fn bad_uris_are_clear_errors() {
    let rt = runtime();
    let e = assert_error(
        fetch(&rt, &["ftp://host/file"]),
        "unsupported_scheme",
        "ftp://host/file",
    );
    assert!(e.to_string().contains("file://, http://, s3://"), "{e}");
    assert_error(fetch(&rt, &["not a uri"]), "invalid_uri", "not a uri");
    assert_error(
        fetch(&rt, &["s3://bucket-only"]),
        "invalid_uri",
        "s3://bucket-only",
    );
    assert_error(
        fetch(&rt, &["file://otherhost/x"]),
        "invalid_uri",
        "file://otherhost/x",
    );
    let e = rt
        .call(Call::Fetch {
            uris: vec![Item::new("bin", 0, vec![0xff, 0xfe])],
        })
        .unwrap_err();
    assert_eq!(e.kind(), "invalid_uri");
    still_serving(&rt);
}

#[test]
fn one_failing_uri_fails_the_call_but_not_the_runtime() {
    let nginx = nginx();
    put_file(&nginx.root, "ok.txt", b"ok");
    let rt = runtime();
    let good = format!("{}/ok.txt", nginx.url());
    let bad = format!("{}/status/404", nginx.url());
    assert_error(fetch(&rt, &[&good, &bad]), "status", &bad);
    assert_eq!(fetch_one(&rt, &good), b"ok");
}
