//! Every way a guest can spend its time is stopped at the deadline: compiled
//! code carries no checks, so these are the cases the watchdog's signal must
//! reach (pure loops, recursion, bulk memory and table instructions, failing
//! growth, host calls, a start function).

use std::time::Duration;

use pappus_isolation::{CallOptions, Error, Limits, Runtime};

use crate::support::{item, run1, runtime};

const DEADLINE: Duration = Duration::from_millis(60);

fn limits() -> Limits {
    Limits {
        timeout: DEADLINE,
        ..Limits::default()
    }
}

/// An ABI v1 guest whose entry runs `body` (which never returns) over a
/// 1 MiB memory, with `extra` module fields.
fn guest(extra: &str, body: &str) -> String {
    format!(
        r#"(module
            (memory (export "memory") 16)
            {extra}
            (func (export "pappus_entry") (param i32) (result i32)
                {body}
                unreachable))"#
    )
}

fn expect_stopped(rt: &Runtime, name: &str, wat: &str) {
    let f = rt
        .compile(name, wat.as_bytes(), limits())
        .unwrap_or_else(|e| panic!("compiling {name}: {e}"));
    let err = rt.run(&f, &[], None).expect_err(name);
    assert!(
        matches!(&err, Error::Timeout { limit, .. } if *limit == DEADLINE),
        "{name}: {err}"
    );
    still_works(rt);
}

fn still_works(rt: &Runtime) {
    let f = crate::support::function(rt, "upper");
    let out = run1(rt, &f, "in", &[item("a", 1, b"ok")]);
    assert_eq!(out[0].items[0].data, "OK");
}

#[test]
fn a_loop_without_calls_or_memory_is_stopped() {
    expect_stopped(&runtime(), "loop", &guest("", "(loop $l (br $l))"));
}

#[test]
fn exponential_recursion_without_loops_is_stopped() {
    let fib = r#"(func $fib (param i32) (result i32)
        (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
            (then (i32.const 1))
            (else (i32.add
                (call $fib (i32.sub (local.get 0) (i32.const 1)))
                (call $fib (i32.sub (local.get 0) (i32.const 2)))))))"#;
    expect_stopped(
        &runtime(),
        "fib",
        &guest(fib, "(drop (call $fib (i32.const 90)))"),
    );
}

#[test]
fn loops_of_whole_memory_bulk_instructions_are_stopped() {
    let rt = runtime();
    let whole = "(i32.mul (memory.size) (i32.const 65536))";
    expect_stopped(
        &rt,
        "fill",
        &guest(
            "",
            &format!("(loop $l (memory.fill (i32.const 0) (i32.const 7) {whole}) (br $l))"),
        ),
    );
    expect_stopped(
        &rt,
        "copy",
        &guest(
            "",
            "(loop $l (memory.copy (i32.const 1) (i32.const 0) (i32.const 1048575)) (br $l))",
        ),
    );
    let segment = format!(r#"(data $d "{}")"#, "x".repeat(64 << 10));
    expect_stopped(
        &rt,
        "init",
        &guest(
            &segment,
            "(loop $l (memory.init $d (i32.const 0) (i32.const 0) (i32.const 65536)) (br $l))",
        ),
    );
}

#[test]
fn loops_of_host_routines_are_stopped() {
    let rt = runtime();
    expect_stopped(
        &rt,
        "grow",
        &guest(
            "",
            "(loop $l (drop (memory.grow (i32.const 65535))) (br $l))",
        ),
    );
    expect_stopped(
        &rt,
        "table",
        &guest(
            "(table $t 10000 funcref)",
            "(loop $l (table.fill $t (i32.const 0) (ref.null func) (i32.const 10000)) (br $l))",
        ),
    );
}

#[test]
fn a_spinning_start_function_is_stopped_while_instantiating() {
    expect_stopped(
        &runtime(),
        "start",
        &guest("(func $spin (loop $l (br $l))) (start $spin)", "(nop)"),
    );
}

#[test]
fn unbounded_recursion_is_still_a_stack_overflow_trap() {
    let rt = runtime();
    let wat = guest(
        "(func $down (param i32) (result i32) (call $down (i32.add (local.get 0) (i32.const 1))))",
        "(drop (call $down (i32.const 0)))",
    );
    let f = rt.compile("down", wat.as_bytes(), limits()).expect("down");
    let err = rt.run(&f, &[], None).expect_err("down");
    assert_eq!(err.kind(), "trap", "{err}");
    still_works(&rt);
}

#[test]
fn a_wasi_program_looping_over_host_calls_is_stopped() {
    let rt = runtime();
    let wat = r#"(module
        (import "wasi_snapshot_preview1" "random_get"
            (func $random (param i32 i32) (result i32)))
        (memory (export "memory") 16)
        (func (export "_start")
            (loop $l
                (drop (call $random (i32.const 0) (i32.const 1048576)))
                (br $l))))"#;
    let f = rt
        .compile("random", wat.as_bytes(), limits())
        .expect("random");
    let err = rt
        .call(&f, &[], &CallOptions::default(), None)
        .expect_err("random");
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    still_works(&rt);
}

#[test]
fn many_spinning_calls_on_many_threads_are_all_stopped() {
    let rt = runtime();
    let wat = guest("", "(loop $l (br $l))");
    let f = rt.compile("loop", wat.as_bytes(), limits()).expect("loop");
    std::thread::scope(|scope| {
        let calls: Vec<_> = (0..8)
            .map(|_| scope.spawn(|| rt.run(&f, &[], None)))
            .collect();
        for call in calls {
            let err = call.join().expect("call thread").expect_err("spin");
            assert_eq!(err.kind(), "timeout", "{err}");
        }
    });
    still_works(&rt);
}
