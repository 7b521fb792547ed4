//! `kv_get` and `kv_put` against redis-server.

use pappus_io::{Call, Item};

use crate::support::*;

#[test]
fn put_then_get_round_trips_and_missing_keys_answer_nothing() {
    let redis = redis();
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let rt = runtime_with(|c| {
        c.redis(url.clone());
    });
    let pairs = vec![
        Item::new("user:1", 1, "alice"),
        Item::new("user:2", 2, pattern(300_000)),
        Item::new("empty", 3, ""),
    ];
    let receipts = rt.call(Call::KvPut { pairs }).unwrap();
    assert_eq!(receipts.len(), 3);
    let r: serde_json::Value = serde_json::from_slice(&receipts[0].data).unwrap();
    assert_eq!(r["key"], "user:1");
    assert_eq!(r["size"], 5);
    let keys = vec![
        Item::new("a", 10, "user:1"),
        Item::new("b", 11, "nobody"),
        Item::new("c", 12, "user:2"),
        Item::new("d", 13, "empty"),
    ];
    let values = rt.call(Call::KvGet { keys }).unwrap();
    let got: Vec<(u64, usize)> = values.iter().map(|v| (v.key, v.data.len())).collect();
    assert_eq!(got, vec![(10, 5), (12, 300_000), (13, 0)]);
    assert_eq!(values[0].data.as_ref(), b"alice");
    assert_eq!(values[0].name, "a");
    assert_eq!(values[1].data.as_ref(), pattern(300_000).as_slice());
    // Connections are reused across calls.
    for _ in 0..50 {
        let v = rt
            .call(Call::KvGet {
                keys: vec![Item::new("a", 0, "user:1")],
            })
            .unwrap();
        assert_eq!(v[0].data.as_ref(), b"alice");
    }
}

#[test]
fn kv_without_redis_configured_fails_clearly() {
    let rt = runtime();
    let e = rt
        .call(Call::KvGet {
            keys: vec![Item::new("a", 0, "k")],
        })
        .unwrap_err();
    assert_eq!(e.kind(), "not_configured");
}

#[test]
fn kv_with_redis_down_is_a_connect_error_and_recovers() {
    let mut redis = redis();
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let rt = runtime_with(|c| {
        c.redis(url.clone()).retries(1);
    });
    rt.call(Call::KvPut {
        pairs: vec![Item::new("k", 0, "v")],
    })
    .unwrap();
    redis.stop();
    let res = rt.call(Call::KvGet {
        keys: vec![Item::new("a", 0, "k")],
    });
    let e = res.unwrap_err();
    assert!(matches!(e.kind(), "connect" | "io"), "{e}");
    assert!(
        e.to_string().contains(&format!("127.0.0.1:{}", redis.port)),
        "{e}"
    );
    // A fresh server on another port, same runtime: still serving.
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), b"alive").unwrap();
    assert_eq!(fetch_one(&rt, &file_uri(file.path())), b"alive");
}
