//! Bounds on fetched bytes: object size limits given per call (what the
//! consumer can take), and the memory budgets beyond which objects are
//! spilled to disk.

use std::io::Write;
use std::thread;

use pappus_io::{CallOptions, MemoryBudget};

use crate::support::*;

#[test]
fn objects_beyond_the_memory_budget_are_spilled_and_read_back_intact() {
    let nginx = nginx();
    let spill = tempfile::tempdir().unwrap();
    let rt = runtime_with(|c| {
        c.fetch_memory_bytes(1 << 20).spill_dir(spill.path());
    });
    let sizes = [3 << 20, 100, 5 << 20, (1 << 20) + 1];
    for (i, &n) in sizes.iter().enumerate() {
        put_file(&nginx.root, &format!("big/{i}.bin"), &pattern(n));
    }
    let uris: Vec<String> = (0..sizes.len())
        .map(|i| format!("{}/big/{i}.bin", nginx.url()))
        .collect();
    let refs: Vec<&str> = uris.iter().map(String::as_str).collect();
    let items = fetch(&rt, &refs).unwrap();
    for (item, &n) in items.iter().zip(&sizes) {
        assert_eq!(item.data.as_ref(), pattern(n).as_slice());
    }
    let stats = rt.stats();
    assert!(stats.spills >= 3, "{stats:?}");
    assert!(stats.fetch_memory_bytes <= 1 << 20, "{stats:?}");
    assert!(stats.spill_bytes >= (8 << 20), "{stats:?}");
    // Spill files have no name: nothing is left in the directory.
    assert_eq!(std::fs::read_dir(spill.path()).unwrap().count(), 0);
    drop(items);
    let stats = rt.stats();
    assert_eq!(
        (stats.fetch_memory_bytes, stats.spill_bytes),
        (0, 0),
        "{stats:?}"
    );
}

#[test]
fn an_invocation_budget_is_shared_by_its_calls() {
    let nginx = nginx();
    put_file(&nginx.root, "a.bin", &pattern(600 << 10));
    let rt = runtime();
    let budget = MemoryBudget::new(1 << 20);
    let uri = format!("{}/a.bin", nginx.url());
    let mut options = CallOptions::new();
    options.budget(budget.clone());
    let local = tenant("local");
    let first = call_with(&rt, &local, fetch_call(&[&uri]), options.clone()).unwrap();
    assert!(budget.used() >= 600 << 10, "the first object is in memory");
    assert_eq!(rt.stats().spills, 0);
    let second = call_with(&rt, &local, fetch_call(&[&uri]), options).unwrap();
    assert_eq!(
        rt.stats().spills,
        1,
        "the second does not fit the invocation's budget"
    );
    assert_eq!(first[0].data, second[0].data);
    drop((first, second));
    assert_eq!(budget.used(), 0);
}

#[test]
fn an_object_larger_than_its_consumer_takes_fails_before_its_body_is_read() {
    let (nginx, log) = nginx_logging();
    put_file(&nginx.root, "huge.bin", &pattern(8 << 20));
    let rt = runtime();
    let uri = format!("{}/huge.bin", nginx.url());
    let mut options = CallOptions::new();
    options.max_object_bytes(1 << 20, "the memory limit of function `thumb`");
    let err = assert_error(
        call_with(&rt, &tenant("a"), fetch_call(&[&uri]), options),
        "too_large",
        &uri,
    );
    let text = err.to_string();
    assert!(
        text.contains("function `thumb`") && text.contains("1048576"),
        "{text}"
    );
    // The size came from the head: the error reports the whole declared size.
    assert!(text.contains(&(8u64 << 20).to_string()), "{text}");
    assert_eq!(rt.stats().bytes_fetched, 0, "no body byte was kept");
    // The runtime's own limit applies when the call's is larger.
    let mut loose = CallOptions::new();
    loose.max_object_bytes(u64::MAX, "nothing");
    let items = call_with(&rt, &tenant("a"), fetch_call(&[&uri]), loose).unwrap();
    assert_eq!(items[0].data.len(), 8 << 20);
    assert!(!logged_body_bytes(&log, "/huge.bin").is_empty());
}

#[test]
fn a_chunked_body_is_cut_off_as_soon_as_it_crosses_the_limit() {
    // An endless chunked body: it must fail at the limit, not buffer on.
    let addr = tcp_server(|mut stream| {
        read_head(&mut stream);
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        let chunk = format!("{:x}\r\n{}\r\n", 64 << 10, "x".repeat(64 << 10));
        while stream.write_all(chunk.as_bytes()).is_ok() {}
    });
    let spill = tempfile::tempdir().unwrap();
    let rt = runtime_with(|c| {
        c.fetch_memory_bytes(256 << 10).spill_dir(spill.path());
    });
    let uri = format!("http://{addr}/endless");
    let mut options = CallOptions::new();
    options.max_object_bytes(3 << 20, "the memory limit of function `f`");
    let err = assert_error(
        call_with(&rt, &tenant("local"), fetch_call(&[&uri]), options),
        "too_large",
        &uri,
    );
    assert!(err.to_string().contains("function `f`"), "{err}");
    let stats = rt.stats();
    assert_eq!(
        (stats.fetch_memory_bytes, stats.spill_bytes),
        (0, 0),
        "{stats:?}"
    );
}

#[test]
fn a_lying_content_length_gets_what_it_declared_and_no_more() {
    // Declares 1 MiB and sends 3: the object is the declared megabyte.
    let addr = tcp_server(|mut stream| {
        read_head(&mut stream);
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n");
        let _ = stream.write_all(&vec![b'y'; 3 << 20]);
    });
    let spill = tempfile::tempdir().unwrap();
    for memory in [64 << 20, 0] {
        let rt = runtime_with(|c| {
            c.fetch_memory_bytes(memory).spill_dir(spill.path());
        });
        let items = fetch(&rt, &[&format!("http://{addr}/liar")]).unwrap();
        assert_eq!(items[0].data.len(), 1 << 20, "in memory: {}", memory > 0);
        assert!(items[0].data.iter().all(|&b| b == b'y'));
    }
    // Declares more than the limit: refused from the head.
    let addr = tcp_server(|mut stream| {
        read_head(&mut stream);
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999\r\n\r\nxx");
    });
    let rt = runtime();
    let uri = format!("http://{addr}/claims");
    assert_error(fetch(&rt, &[&uri]), "too_large", &uri);
}

#[test]
fn many_concurrent_calls_hold_no_more_than_the_node_budget() {
    let nginx = nginx();
    for i in 0..8 {
        put_file(&nginx.root, &format!("c/{i}.bin"), &pattern((2 << 20) + i));
    }
    let spill = tempfile::tempdir().unwrap();
    let rt = runtime_with(|c| {
        c.io_threads(2)
            .fetch_memory_bytes(4 << 20)
            .spill_dir(spill.path());
    });
    let url = nginx.url();
    let held: Vec<_> = thread::scope(|s| {
        let calls: Vec<_> = (0..8)
            .map(|t| {
                let rt = &rt;
                let url = &url;
                s.spawn(move || {
                    let uris: Vec<String> = (0..8)
                        .map(|i| format!("{url}/c/{}.bin", (i + t) % 8))
                        .collect();
                    let refs: Vec<&str> = uris.iter().map(String::as_str).collect();
                    fetch(rt, &refs).unwrap()
                })
            })
            .collect();
        calls.into_iter().map(|c| c.join().unwrap()).collect()
    });
    for items in &held {
        for item in items {
            let n = item.data.len();
            assert_eq!(item.data.as_ref(), pattern(n).as_slice());
        }
    }
    let stats = rt.stats();
    assert!(stats.fetch_memory_bytes <= 4 << 20, "{stats:?}");
    assert!(stats.spills >= 56, "{stats:?}");
}
