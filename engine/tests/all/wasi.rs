//! WASI functions in compositions: mixed with ABI v1 functions, sharded,
//! reporting their seed and time, and replayed bit for bit.

use pappus_engine::{Engine, Error, Item, Limits, WasiContext, WasiSettings};

use crate::support::*;

/// A WASI program: copies stdin to stdout, then appends 8 random bytes and the
/// realtime clock (8 bytes, little-endian nanoseconds).
const STAMP: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (memory (export "memory") 2)
  (func (export "_start")
    (block $done (loop $more
      (i32.store (i32.const 16) (i32.const 1000)) (i32.store (i32.const 20) (i32.const 60000))
      (drop (call $fd_read (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 24)))
      (br_if $done (i32.eqz (i32.load (i32.const 24))))
      (i32.store (i32.const 20) (i32.load (i32.const 24)))
      (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24)))
      (br $more)))
    (drop (call $random_get (i32.const 100) (i32.const 8)))
    (drop (call $clock_time_get (i32.const 0) (i64.const 0) (i32.const 108)))
    (i32.store (i32.const 16) (i32.const 100)) (i32.store (i32.const 20) (i32.const 16))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24)))))"#;

const MIXED: &str = "
function stamp (stdin) => (stdout);
composition Mixed (Docs) => (Out) {
    upper (in = each Docs) => (Up = out);
    stamp (stdin = each Up) => (Stamped = stdout);
    identity (in = all Stamped) => (Out = out);
}";

fn docs() -> Vec<Item> {
    vec![item("one.txt", 1, "first"), item("two.txt", 2, "second")]
}

/// `Out` sorted by name: (name, key, text part, random part, clock).
fn parts(outputs: &pappus_engine::Sets) -> Vec<(String, u64, String, Vec<u8>, u64)> {
    let mut out: Vec<_> = outputs["Out"]
        .iter()
        .map(|i| {
            let (text, tail) = i.data.split_at(i.data.len() - 16);
            let clock = u64::from_le_bytes(tail[8..].try_into().unwrap());
            (
                i.name.clone(),
                i.key,
                String::from_utf8_lossy(text).into_owned(),
                tail[..8].to_vec(),
                clock,
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn wasi_and_abi_v1_functions_mix_and_replay_bit_for_bit() {
    let engine = engine();
    engine
        .register_function("stamp", STAMP.as_bytes(), Limits::default())
        .unwrap();
    engine
        .register_compositions(&format!("{DECLS}\n{MIXED}"))
        .unwrap_or_else(|e| panic!("{e}"));
    let first = engine
        .invoke("Mixed", sets(&[("Docs", docs())]))
        .unwrap_or_else(|e| panic!("{e}"));
    let got = parts(&first.outputs);
    assert_eq!(got.len(), 2);
    // Names and keys follow the single stdin item of each shard.
    assert_eq!(
        (got[0].0.as_str(), got[0].1, got[0].2.as_str()),
        ("one.txt", 1, "FIRST")
    );
    assert_eq!(
        (got[1].0.as_str(), got[1].1, got[1].2.as_str()),
        ("two.txt", 2, "SECOND")
    );
    // One wall-clock value for the invocation, the one it reports.
    assert_eq!(got[0].4, first.wasi.time_secs * 1_000_000_000);
    assert_eq!(got[1].4, got[0].4);
    // Sibling shards draw different random streams.
    assert_ne!(got[0].3, got[1].3);

    // Replaying with the reported seed and time gives the same bytes.
    let replay = engine
        .invoke_with("Mixed", sets(&[("Docs", docs())]), first.wasi)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(replay.wasi, first.wasi);
    // (Sets are unordered: `all` sees the shards in completion order.)
    assert_eq!(parts(&replay.outputs), got);

    // Another seed: other random bytes; a given time: exactly that time.
    let other = WasiContext::new(first.wasi.seed.wrapping_add(1), 1_000_000_000);
    let changed = engine
        .invoke_with("Mixed", sets(&[("Docs", docs())]), other)
        .unwrap_or_else(|e| panic!("{e}"));
    let changed = parts(&changed.outputs);
    assert_ne!(changed[0].3, got[0].3);
    assert_eq!(changed[0].4, 1_000_000_000 * 1_000_000_000);
}

#[test]
fn a_failing_wasi_shard_reports_its_exit_status_and_stderr() {
    let engine = engine();
    let failing = r#"(module
      (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
      (memory (export "memory") 1)
      (data (i32.const 100) "bad input\n")
      (func (export "_start")
        (i32.store (i32.const 16) (i32.const 100)) (i32.store (i32.const 20) (i32.const 10))
        (drop (call $fd_write (i32.const 2) (i32.const 16) (i32.const 1) (i32.const 24)))
        (call $proc_exit (i32.const 4))))"#;
    engine
        .register_function("failing", failing.as_bytes(), Limits::default())
        .unwrap();
    engine
        .register_compositions(
            "function failing (stdin) => (stdout);
             composition Fails (Docs) => (Out) { failing (stdin = each Docs) => (Out = stdout); }",
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let replay = WasiContext::new(11, 22);
    let err = engine
        .invoke_with("Fails", sets(&[("Docs", docs())]), replay)
        .expect_err("fails");
    let text = err.to_string();
    assert!(
        text.contains("status 4") && text.contains("bad input"),
        "{text}"
    );
    // The failure carries the invocation's seed and time, to replay it.
    assert_eq!(err.wasi(), Some(replay));
    let fresh = engine
        .invoke("Fails", sets(&[("Docs", docs())]))
        .expect_err("fails");
    assert!(fresh.wasi().is_some(), "{fresh}");
}

#[test]
fn wasi_settings_are_registered_and_persisted() {
    let dir = tempfile::tempdir().unwrap();
    let settings = WasiSettings {
        args: vec!["stamp".into(), "--flag".into()],
        env: vec![("LANG".into(), "C".into())],
        ..WasiSettings::default()
    };
    {
        let engine = Engine::builder().data_dir(dir.path()).build().unwrap();
        engine
            .register_function_with(
                "stamp",
                STAMP.as_bytes(),
                Limits::default(),
                settings.clone(),
            )
            .unwrap();
        engine
            .register_function("plain", STAMP.as_bytes(), Limits::default())
            .unwrap();
        let bad = WasiSettings {
            env: vec![("A=B".into(), "x".into())],
            ..WasiSettings::default()
        };
        let refused =
            engine.register_function_with("bad", STAMP.as_bytes(), Limits::default(), bad);
        assert!(
            matches!(refused, Err(Error::InvalidInput { .. })),
            "{refused:?}"
        );
    }
    let engine = Engine::builder().data_dir(dir.path()).build().unwrap();
    assert_eq!(engine.get_function("stamp").unwrap().settings, settings);
    assert_eq!(
        engine.get_function("plain").unwrap().settings,
        WasiSettings::default()
    );
    assert!(engine.get_function("bad").is_none());
}
