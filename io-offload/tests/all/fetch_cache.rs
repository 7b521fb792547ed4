//! The tenants' fetch cache against real nginx (which sends `ETag` and
//! `Last-Modified`) and Garage: a repeated fetch revalidates and transfers no
//! body, a changed object is fetched again, tenants never share entries.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime};

use pappus_io::{Call, CallOptions, Item};

use crate::support::*;

fn cached_runtime(
    dir: &Path,
    tune: impl FnOnce(&mut pappus_io::RingConfig),
) -> pappus_io::IoRuntime {
    runtime_with(|c| {
        c.fetch_cache(dir);
        tune(c);
    })
}

fn fetch_as(rt: &pappus_io::IoRuntime, who: &str, uri: &str) -> Vec<u8> {
    match call_with(rt, &tenant(who), fetch_call(&[uri]), CallOptions::new()) {
        Ok(items) => items[0].data.to_vec(),
        Err(e) => panic!("fetch {uri} as {who} failed: {e}"),
    }
}

/// Rewrites a file nginx serves with new contents and a new modification
/// time (nginx's ETag is made of both).
fn change(root: &Path, path: &str, data: &[u8], age: u64) {
    put_file(root, path, data);
    let file = std::fs::File::options()
        .write(true)
        .open(root.join(path))
        .unwrap();
    file.set_modified(SystemTime::now() - Duration::from_secs(age))
        .unwrap();
}

#[test]
fn a_repeated_fetch_revalidates_and_transfers_no_body() {
    let (nginx, log) = nginx_logging();
    let dir = tempfile::tempdir().unwrap();
    let rt = cached_runtime(dir.path(), |_| {});
    put_file(&nginx.root, "model.bin", &pattern(4 << 20));
    let uri = format!("{}/model.bin", nginx.url());
    assert_eq!(fetch_as(&rt, "a", &uri), pattern(4 << 20));
    assert_eq!(fetch_as(&rt, "a", &uri), pattern(4 << 20));
    assert_eq!(fetch_as(&rt, "a", &uri), pattern(4 << 20));
    assert_eq!(
        logged_body_bytes(&log, "/model.bin"),
        vec![(200, 4 << 20), (304, 0), (304, 0)],
        "the body crossed the network once"
    );
    let stats = rt.stats();
    assert_eq!((stats.cache_hits, stats.cache_misses), (2, 1), "{stats:?}");
    assert_eq!(stats.cache_bytes, 4 << 20);
    assert_eq!(stats.cache_bytes_saved, 8 << 20);
}

#[test]
fn a_changed_object_is_fetched_again_and_replaces_the_entry() {
    let (nginx, log) = nginx_logging();
    let dir = tempfile::tempdir().unwrap();
    let rt = cached_runtime(dir.path(), |_| {});
    change(&nginx.root, "table.csv", b"version one", 100);
    let uri = format!("{}/table.csv", nginx.url());
    assert_eq!(fetch_as(&rt, "a", &uri), b"version one");
    // Same size, new contents and time: a new validator.
    change(&nginx.root, "table.csv", b"version two", 50);
    assert_eq!(fetch_as(&rt, "a", &uri), b"version two");
    assert_eq!(fetch_as(&rt, "a", &uri), b"version two");
    assert_eq!(
        logged_body_bytes(&log, "/table.csv"),
        vec![(200, 11), (200, 11), (304, 0)]
    );
    let stats = rt.stats();
    assert_eq!(
        stats.cache_bytes, 11,
        "the old entry was replaced: {stats:?}"
    );
    // A deleted object is an error, and its entry is gone with it.
    std::fs::remove_file(nginx.root.join("table.csv")).unwrap();
    let e = assert_error(
        call_with(&rt, &tenant("a"), fetch_call(&[&uri]), CallOptions::new()),
        "status",
        &uri,
    );
    assert!(e.to_string().contains("404"), "{e}");
    assert_eq!(rt.stats().cache_bytes, 0, "the entry went with the object");
}

#[test]
fn tenants_never_share_entries() {
    let (nginx, log) = nginx_logging();
    let dir = tempfile::tempdir().unwrap();
    let rt = cached_runtime(dir.path(), |_| {});
    put_file(&nginx.root, "shared.bin", &pattern(100_000));
    let uri = format!("{}/shared.bin", nginx.url());
    fetch_as(&rt, "a", &uri);
    fetch_as(&rt, "b", &uri);
    fetch_as(&rt, "a", &uri);
    fetch_as(&rt, "b", &uri);
    assert_eq!(
        logged_body_bytes(&log, "/shared.bin"),
        vec![(200, 100_000), (200, 100_000), (304, 0), (304, 0)],
        "b's first fetch transferred the body although a had it cached"
    );
    assert_eq!(rt.stats().cache_bytes, 200_000, "two entries");
    // Each tenant's files lie in a directory of its own.
    let dirs: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
    assert_eq!(dirs.len(), 2);
}

#[test]
fn the_authority_is_asked_before_the_cache() {
    let nginx = nginx();
    let dir = tempfile::tempdir().unwrap();
    let rt = cached_runtime(dir.path(), |_| {});
    put_file(&nginx.root, "secret.bin", b"for tenants that may");
    let uri = format!("{}/secret.bin", nginx.url());
    fetch_as(&rt, "a", &uri);
    // The same tenant name with an authority that may not reach loopback:
    // refused, although the object is in the cache under that name.
    let policy = pappus_io::IoPolicy::default();
    let barred = std::sync::Arc::new(pappus_io::Authority::new(&policy).unwrap().named("a"));
    let res = call_with(&rt, &barred, fetch_call(&[&uri]), CallOptions::new());
    assert_error(res, "forbidden", &uri);
    assert_eq!(rt.stats().cache_hits, 0);
}

#[test]
fn answers_without_validators_or_with_no_store_are_not_cached() {
    let dir = tempfile::tempdir().unwrap();
    let rt = cached_runtime(dir.path(), |_| {});
    // nginx's `return` answers carry no validator.
    let nginx = nginx();
    let fixed = format!("{}/fixed", nginx.url());
    fetch_as(&rt, "a", &fixed);
    // A server that sends an ETag but forbids storing, and reports whether
    // it was asked conditionally.
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let addr = tcp_server(move |mut stream| {
        let head = read_head(&mut stream);
        let conditional = String::from_utf8_lossy(&head)
            .to_ascii_lowercase()
            .contains("if-none-match");
        let _ = tx.lock().unwrap().send(conditional);
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\nETag: \"v1\"\r\nCache-Control: private, no-store\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody",
        );
    });
    let uri = format!("http://{addr}/private");
    assert_eq!(fetch_as(&rt, "a", &uri), b"body");
    assert_eq!(fetch_as(&rt, "a", &uri), b"body");
    assert!(!rx.recv().unwrap());
    assert!(
        !rx.recv().unwrap(),
        "the second request was not conditional"
    );
    let stats = rt.stats();
    assert_eq!((stats.cache_stores, stats.cache_bytes), (0, 0), "{stats:?}");
    assert_eq!(
        std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|d| std::fs::read_dir(d.path()).unwrap().count())
            .sum::<usize>(),
        0,
        "no file left"
    );
}

#[test]
fn file_uris_are_never_cached() {
    let dir = tempfile::tempdir().unwrap();
    let rt = cached_runtime(dir.path(), |_| {});
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), b"local").unwrap();
    let uri = file_uri(file.path());
    assert_eq!(fetch_as(&rt, "a", &uri), b"local");
    assert_eq!(fetch_as(&rt, "a", &uri), b"local");
    let stats = rt.stats();
    assert_eq!(
        (stats.cache_stores, stats.cache_hits, stats.cache_misses),
        (0, 0, 0)
    );
}

#[test]
fn the_bounds_evict_least_recently_used_entries() {
    let (nginx, log) = nginx_logging();
    let dir = tempfile::tempdir().unwrap();
    let rt = cached_runtime(dir.path(), |c| {
        c.fetch_cache_tenant_bytes(3 << 20)
            .fetch_cache_node_bytes(5 << 20);
    });
    for name in ["1", "2", "3", "4"] {
        put_file(&nginx.root, &format!("{name}.bin"), &pattern(1 << 20));
    }
    let url = |n: &str| format!("{}/{n}.bin", nginx.url());
    // Tenant a: 1, 2, 3, then 1 again (now the most recent), then 4: 2 goes.
    for n in ["1", "2", "3", "1", "4"] {
        fetch_as(&rt, "a", &url(n));
    }
    assert_eq!(rt.stats().cache_evictions, 1);
    fetch_as(&rt, "a", &url("1"));
    fetch_as(&rt, "a", &url("2"));
    assert_eq!(
        logged_body_bytes(&log, "/1.bin"),
        vec![(200, 1 << 20), (304, 0), (304, 0)]
    );
    assert_eq!(
        logged_body_bytes(&log, "/2.bin"),
        vec![(200, 1 << 20), (200, 1 << 20)]
    );
    // Tenant b pushes the node over its 5 MiB: the oldest entries of any tenant go.
    for n in ["1", "2", "3"] {
        fetch_as(&rt, "b", &url(n));
    }
    let stats = rt.stats();
    assert!(stats.cache_bytes <= 5 << 20, "{stats:?}");
    // An object larger than a tenant's share is fetched, not cached.
    put_file(&nginx.root, "big.bin", &pattern(4 << 20));
    let before = rt.stats().cache_stores;
    assert_eq!(fetch_as(&rt, "a", &url("big")).len(), 4 << 20);
    assert_eq!(rt.stats().cache_stores, before);
}

#[test]
fn s3_objects_are_revalidated_with_their_etag() {
    let garage = garage();
    let dir = tempfile::tempdir().unwrap();
    let rt = cached_runtime(dir.path(), |c| {
        c.s3(s3_config(&garage));
    });
    let uri = format!("s3://{}/models/m.bin", garage.bucket);
    let store = |data: Vec<u8>| {
        rt.call(Call::Store {
            objects: vec![Item::new("o", 0, data)],
            uris: vec![Item::new("u", 0, uri.clone())],
        })
        .unwrap();
    };
    store(pattern(3 << 20));
    assert_eq!(fetch_as(&rt, "a", &uri), pattern(3 << 20));
    let fetched = rt.stats().bytes_fetched;
    assert_eq!(fetch_as(&rt, "a", &uri), pattern(3 << 20));
    let stats = rt.stats();
    assert_eq!(stats.cache_hits, 1, "{stats:?}");
    assert!(
        stats.bytes_fetched - fetched < 4096,
        "no body transferred: {stats:?}"
    );
    // A changed object: a new ETag, transferred again.
    store(b"changed".to_vec());
    assert_eq!(fetch_as(&rt, "a", &uri), b"changed");
    assert_eq!(fetch_as(&rt, "b", &uri), b"changed");
    let stats = rt.stats();
    assert_eq!((stats.cache_hits, stats.cache_misses), (1, 3), "{stats:?}");
}
