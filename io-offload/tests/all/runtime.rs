//! The runtime itself: configuration, submit, threads, shutdown, stats.

use std::sync::mpsc;
use std::time::Duration;

use pappus_io::{Call, IoRuntime, Item, RingConfig};

use crate::support::*;

#[test]
fn invalid_configurations_are_refused() {
    let mut c = RingConfig::new();
    c.io_threads(0);
    assert_eq!(IoRuntime::start(&c).unwrap_err().kind(), "config");
    let mut c = RingConfig::new();
    c.ring_entries(100);
    assert_eq!(IoRuntime::start(&c).unwrap_err().kind(), "config");
    let mut c = RingConfig::new();
    c.redis("http://not-redis");
    assert_eq!(IoRuntime::start(&c).unwrap_err().kind(), "config");
    let mut c = RingConfig::new();
    c.s3(pappus_io::S3Config {
        endpoint: "https://s3.example.com".into(),
        region: "r".into(),
        access_key: "a".into(),
        secret_key: "s".into(),
    });
    let e = IoRuntime::start(&c).unwrap_err();
    assert_eq!(e.kind(), "config");
    assert!(!format!("{c:?}").contains("\"s\""), "secret printed: {c:?}");
}

#[test]
fn submit_calls_back_on_an_io_thread() {
    let rt = runtime();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), b"cb").unwrap();
    let (tx, rx) = mpsc::channel();
    rt.submit(
        Call::Fetch {
            uris: vec![Item::new("f", 1, file_uri(file.path()))],
        },
        Box::new(move |res| {
            let thread = std::thread::current().name().map(str::to_owned);
            let _ = tx.send((res.map(|items| items[0].data.clone()), thread));
        }),
    );
    let (res, thread) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(res.unwrap().as_ref(), b"cb");
    assert!(thread.unwrap_or_default().starts_with("pappus-io-"));
}

#[test]
fn many_concurrent_calls_on_several_threads() {
    let nginx = nginx();
    for i in 0..20 {
        put_file(
            &nginx.root,
            &format!("f{i}"),
            format!("file {i}").as_bytes(),
        );
    }
    let rt = runtime_with(|c| {
        c.io_threads(2).max_in_flight(8);
    });
    let (tx, rx) = mpsc::channel();
    for round in 0..30 {
        let uris = (0..20)
            .map(|i| Item::new("u", i, format!("{}/f{i}", nginx.url())))
            .collect();
        let tx = tx.clone();
        rt.submit(
            Call::Fetch { uris },
            Box::new(move |res| {
                let _ = tx.send((round, res));
            }),
        );
    }
    drop(tx);
    let mut done = 0;
    for (_, res) in rx.iter() {
        let items = res.unwrap();
        for (i, item) in items.iter().enumerate() {
            assert_eq!(item.data.as_ref(), format!("file {i}").as_bytes());
        }
        done += 1;
    }
    assert_eq!(done, 30);
    let stats = rt.stats();
    assert_eq!((stats.calls, stats.failed_calls), (30, 0));
    assert_eq!(rt.io_threads(), 2);
}

#[test]
fn dropping_the_runtime_finishes_or_fails_pending_calls() {
    let addr = stalling_server();
    let rt = runtime_with(|c| {
        c.timeout(Duration::from_millis(200));
    });
    let (tx, rx) = mpsc::channel();
    rt.submit(
        Call::Fetch {
            uris: vec![Item::new("u", 0, format!("http://{addr}/"))],
        },
        Box::new(move |res| {
            let _ = tx.send(res.map(|_| ()));
        }),
    );
    drop(rt);
    // The call was running: it ends by its deadline, and its callback ran.
    let res = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(res.unwrap_err().kind(), "timeout");
}

#[test]
fn empty_calls_answer_empty_sets() {
    let rt = runtime();
    assert!(rt.call(Call::Fetch { uris: vec![] }).unwrap().is_empty());
    assert!(rt.call(Call::Http { requests: vec![] }).unwrap().is_empty());
    assert!(rt
        .call(Call::Store {
            objects: vec![],
            uris: vec![]
        })
        .unwrap()
        .is_empty());
}
