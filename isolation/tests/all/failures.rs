//! Every failure type, each naming the function, and the runtime still working after.

use std::time::{Duration, Instant};

use pappus_isolation::{CancelToken, Config, Error, InputSet, Limits, Runtime};

use crate::support::{function, function_with, item, run1, runtime, wasm};

/// After any failure the runtime must run the next call normally.
fn still_works(rt: &Runtime) {
    let f = function(rt, "upper");
    let out = run1(rt, &f, "in", &[item("a", 1, b"ok")]);
    assert_eq!(out[0].items[0].data, "OK");
}

fn expect_kind(
    result: pappus_isolation::Result<impl std::fmt::Debug>,
    kind: &str,
    name: &str,
) -> Error {
    let err = result.expect_err("expected a failure");
    assert_eq!(err.kind(), kind, "unexpected error: {err}");
    assert_eq!(err.function(), Some(name), "{err}");
    assert!(err.to_string().contains(name), "{err}");
    err
}

#[test]
fn import_is_refused_with_its_name() {
    let rt = runtime();
    let err = expect_kind(
        rt.compile(
            "imports_something",
            &wasm("imports_something"),
            Limits::default(),
        ),
        "invalid_module",
        "imports_something",
    );
    assert!(err.to_string().contains("host_function"), "{err}");
    still_works(&rt);
}

#[test]
fn malformed_modules_are_refused() {
    let rt = runtime();
    let cases: &[(&str, &[u8], &str)] = &[
        ("garbage", b"\0asm\x01\0\0\0garbage", ""),
        ("text", b"not a module", ""),
        ("no_memory", b"(module (func (export \"pappus_entry\") (param i32) (result i32) i32.const 0))", "memory"),
        ("no_entry", b"(module (memory (export \"memory\") 1))", "pappus_entry"),
        (
            "wrong_entry",
            b"(module (memory (export \"memory\") 1) (func (export \"pappus_entry\") (result i32) i32.const 0))",
            "pappus_entry",
        ),
        (
            "too_big",
            b"(module (memory (export \"memory\") 1 65536) (func (export \"pappus_entry\") (param i32) (result i32) i32.const 0))",
            "maximum memory",
        ),
        (
            "imported_memory",
            b"(module (import \"env\" \"mem\" (memory 1)) (export \"memory\" (memory 0)) (func (export \"pappus_entry\") (param i32) (result i32) i32.const 0))",
            "env",
        ),
    ];
    for (name, module, needle) in cases {
        let err = expect_kind(
            rt.compile(name, module, Limits::default()),
            "invalid_module",
            name,
        );
        assert!(err.to_string().contains(needle), "{name}: {err}");
    }
    still_works(&rt);
}

#[test]
fn trap_is_reported_with_its_code() {
    let rt = runtime();
    let f = function(&rt, "trap");
    let err = expect_kind(rt.run(&f, &[], None), "trap", "trap");
    assert!(err.to_string().contains("unreachable"), "{err}");
    still_works(&rt);
}

#[test]
fn spinning_guest_times_out() {
    let rt = runtime();
    let limits = Limits {
        timeout: Duration::from_millis(100),
        ..Limits::default()
    };
    let f = function_with(&rt, "spin", limits);
    let err = expect_kind(rt.run(&f, &[], None), "timeout", "spin");
    assert!(matches!(err, Error::Timeout { limit, .. } if limit == Duration::from_millis(100)));
    still_works(&rt);
}

#[test]
fn a_call_past_its_callers_cutoff_stops_there() {
    let rt = runtime();
    let limits = Limits {
        timeout: Duration::from_secs(3600),
        ..Limits::default()
    };
    let f = function_with(&rt, "spin", limits);
    // Stopped at the cutoff, long before the function's own deadline.
    let err = expect_kind(
        rt.run_until(&f, &[], None, None, Instant::now()),
        "cutoff",
        "spin",
    );
    assert!(matches!(err, Error::Cutoff { .. }), "{err}");
    // A call that ends before its cutoff is as if run without one.
    let g = function(&rt, "upper");
    let items = [item("a", 1, b"ok")];
    let inputs = [InputSet {
        name: "in",
        items: &items,
    }];
    let far = Instant::now() + Duration::from_secs(3600);
    let out = rt
        .run_until(&g, &inputs, None, None, far)
        .expect("upper before its cutoff");
    assert_eq!(out[0].items[0].data, "OK");
    still_works(&rt);
}

#[test]
fn growing_guest_hits_the_memory_limit() {
    let rt = runtime();
    let limits = Limits {
        memory_bytes: 4 << 20,
        ..Limits::default()
    };
    let f = function_with(&rt, "grow", limits);
    let err = expect_kind(rt.run(&f, &[], None), "memory_limit", "grow");
    assert!(matches!(err, Error::MemoryLimit { limit_bytes, .. } if limit_bytes == 4 << 20));
    still_works(&rt);
}

#[test]
fn inputs_larger_than_memory_hit_the_memory_limit() {
    let rt = runtime();
    let limits = Limits {
        memory_bytes: 1 << 20,
        ..Limits::default()
    };
    let f = function_with(&rt, "identity", limits);
    let big = vec![7u8; 2 << 20];
    let items = [item("big", 0, &big)];
    expect_kind(
        rt.run(
            &f,
            &[InputSet {
                name: "in",
                items: &items,
            }],
            None,
        ),
        "memory_limit",
        "identity",
    );
    still_works(&rt);
}

#[test]
fn lying_output_descriptor_is_an_abi_violation() {
    let rt = runtime();
    let f = function(&rt, "liar");
    let err = expect_kind(rt.run(&f, &[], None), "abi_violation", "liar");
    assert!(err.to_string().contains("outside"), "{err}");
    still_works(&rt);
}

/// Hand-written liars for each field the host reads.
#[test]
fn every_output_field_is_bounds_checked() {
    let rt = runtime();
    // (output descriptor at 128, set descriptor at 144, item descriptor at 160)
    let cases = [
        ("out_desc", "(i32.store offset=20 (local.get 0) (i32.const 0xFFFFFFF8))"),
        ("set_table", "(i32.store (i32.const 128) (i32.const 0x10000000)) (i32.store (i32.const 132) (i32.const 144)) (i32.store offset=20 (local.get 0) (i32.const 128))"),
        ("set_name", "(i32.store (i32.const 128) (i32.const 1)) (i32.store (i32.const 132) (i32.const 144)) (i32.store (i32.const 144) (i32.const 0xFFFFFF00)) (i32.store (i32.const 148) (i32.const 0x1000)) (i32.store offset=20 (local.get 0) (i32.const 128))"),
        ("item_table", "(i32.store (i32.const 128) (i32.const 1)) (i32.store (i32.const 132) (i32.const 144)) (i32.store (i32.const 152) (i32.const 160)) (i32.store (i32.const 156) (i32.const 0x7FFFFFFF)) (i32.store offset=20 (local.get 0) (i32.const 128))"),
        ("item_name", "(i32.store (i32.const 128) (i32.const 1)) (i32.store (i32.const 132) (i32.const 144)) (i32.store (i32.const 152) (i32.const 160)) (i32.store (i32.const 156) (i32.const 1)) (i32.store (i32.const 160) (i32.const 0xFFFFFFFF)) (i32.store (i32.const 164) (i32.const 2)) (i32.store offset=20 (local.get 0) (i32.const 128))"),
        ("bad_utf8", "(i32.store (i32.const 128) (i32.const 1)) (i32.store (i32.const 132) (i32.const 144)) (i32.store (i32.const 144) (i32.const 300)) (i32.store (i32.const 148) (i32.const 1)) (i32.store8 (i32.const 300) (i32.const 0xFF)) (i32.store offset=20 (local.get 0) (i32.const 128))"),
        ("duplicate", "(i32.store (i32.const 128) (i32.const 2)) (i32.store (i32.const 132) (i32.const 144)) (i32.store offset=20 (local.get 0) (i32.const 128))"),
    ];
    for (name, body) in cases {
        let wat = format!(
            "(module (memory (export \"memory\") 1) (func (export \"pappus_entry\") (param i32) (result i32) {body} i32.const 0))"
        );
        let f = rt
            .compile(name, wat.as_bytes(), Limits::default())
            .expect("compile");
        expect_kind(rt.run(&f, &[], None), "abi_violation", name);
    }
    still_works(&rt);
}

#[test]
fn non_zero_status_is_a_guest_error_with_message() {
    let rt = runtime();
    let wat = r#"(module
        (memory (export "memory") 1)
        (data (i32.const 300) "boom")
        (func (export "pappus_entry") (param i32) (result i32)
            (i32.store (i32.const 136) (i32.const 300))
            (i32.store (i32.const 140) (i32.const 4))
            (i32.store offset=20 (local.get 0) (i32.const 128))
            i32.const 7))"#;
    let f = rt
        .compile("failing", wat.as_bytes(), Limits::default())
        .expect("compile");
    let err = expect_kind(rt.run(&f, &[], None), "guest_error", "failing");
    assert!(
        matches!(&err, Error::GuestError { status: 7, message, .. } if message == "boom"),
        "{err:?}"
    );
    still_works(&rt);
}

#[test]
fn outputs_over_the_limit_are_refused() {
    let rt = runtime();
    let limits = Limits {
        max_output_bytes: 8,
        ..Limits::default()
    };
    let f = function_with(&rt, "identity", limits);
    let items = [item("a", 0, &[1u8; 16])];
    let err = expect_kind(
        rt.run(
            &f,
            &[InputSet {
                name: "in",
                items: &items,
            }],
            None,
        ),
        "output_too_large",
        "identity",
    );
    assert!(
        matches!(
            err,
            Error::OutputTooLarge {
                limit_bytes: 8,
                actual_bytes: 9..,
                ..
            }
        ),
        "{err:?}"
    );
    still_works(&rt);
}

#[test]
fn cancellation_stops_a_running_guest() {
    let rt = runtime();
    let limits = Limits {
        timeout: Duration::from_secs(60),
        ..Limits::default()
    };
    let f = function_with(&rt, "spin", limits);
    let token = CancelToken::new();
    let canceller = {
        let token = token.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            token.cancel();
        })
    };
    expect_kind(rt.run(&f, &[], Some(&token)), "cancelled", "spin");
    canceller.join().expect("canceller thread");
    assert!(token.is_cancelled());
    // An already cancelled token fails at once.
    let g = function(&rt, "noop");
    expect_kind(rt.run(&g, &[], Some(&token)), "cancelled", "noop");
    still_works(&rt);
}

#[test]
fn exhausted_pool_is_a_resources_error() {
    let rt = Runtime::new(
        Config::new()
            .pool_size(1)
            .watch_tick(Duration::from_millis(2)),
    )
    .expect("runtime");
    let limits = Limits {
        timeout: Duration::from_secs(60),
        ..Limits::default()
    };
    let spin = function_with(&rt, "spin", limits);
    let noop = function(&rt, "noop");
    // The spinner and noop race for the single slot: retry until the spinner holds
    // it while noop asks.
    let mut seen = None;
    for _ in 0..200 {
        let token = CancelToken::new();
        let spinner = {
            let (rt, spin, token) = (rt.clone(), spin.clone(), token.clone());
            std::thread::spawn(move || rt.run(&spin, &[], Some(&token)).map(|_| ()))
        };
        std::thread::sleep(Duration::from_millis(20));
        let attempt = rt.run(&noop, &[], None);
        token.cancel();
        let spun = spinner.join().expect("spinner thread");
        if let Err(e) = attempt {
            assert_eq!(spun.expect_err("spinner").kind(), "cancelled");
            seen = Some(e);
            break;
        }
    }
    let err = seen.expect("the pool never ran out");
    assert_eq!(err.kind(), "resources", "{err}");
    assert_eq!(err.function(), Some("noop"));
    still_works(&rt);
}

#[test]
fn bad_configuration_is_refused() {
    let err = Runtime::new(Config::new().pool_size(0)).expect_err("pool 0");
    assert_eq!(err.kind(), "config");
    assert_eq!(err.function(), None);
    let err = Runtime::new(Config::new().max_memory_bytes(8 << 30)).expect_err("8 GiB");
    assert_eq!(err.kind(), "config");
    let rt = runtime();
    let limits = Limits {
        memory_bytes: 1 << 30,
        ..Limits::default()
    };
    let err = rt
        .compile("huge", &wasm("noop"), limits)
        .expect_err("over max");
    assert_eq!(err.kind(), "config");
}

#[test]
fn functions_of_another_runtime_are_refused() {
    let a = runtime();
    let b = runtime();
    let f = function(&a, "noop");
    assert_eq!(b.run(&f, &[], None).expect_err("foreign").kind(), "config");
}
