//! Where shards run: a function that was fast so far and spins on its next
//! input holds neither the thread that started the invocation nor the
//! invocation's answer beyond its own deadline.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Waker};
use std::time::Duration;

use pappus_engine::{Engine, Error, Limits};

use crate::support::*;

/// ABI v1: no outputs; spins forever when its first input item starts with `S`.
const SPIN_ON_S: &str = r#"(module
  (memory (export "memory") 1)
  (func (export "pappus_entry") (param $region i32) (result i32)
    (local $sets i32) (local $items i32)
    (if (i32.eqz (i32.load offset=12 (local.get $region))) (then (return (i32.const 0))))
    (local.set $sets (i32.load offset=16 (local.get $region)))
    (if (i32.eqz (i32.load offset=12 (local.get $sets))) (then (return (i32.const 0))))
    (local.set $items (i32.load offset=8 (local.get $sets)))
    (if (i32.eqz (i32.load offset=20 (local.get $items))) (then (return (i32.const 0))))
    (if (i32.eq (i32.load8_u (i32.load offset=16 (local.get $items))) (i32.const 83))
      (then (loop $spin (br $spin))))
    (i32.const 0)))"#;

/// Whether `future` is still pending after one poll.
fn pending<F: Future + Unpin>(future: &mut F) -> bool {
    Pin::new(future)
        .poll(&mut Context::from_waker(Waker::noop()))
        .is_pending()
}

#[test]
fn a_fast_function_that_starts_spinning_does_not_hold_the_starting_thread() {
    let engine = Engine::builder().compute_threads(2).build().unwrap();
    let tenant = engine.tenant(pappus_engine::DEFAULT_TENANT);
    tenant
        .register_function(
            "maybe_spin",
            SPIN_ON_S.as_bytes(),
            Limits {
                // Far longer than the test: only cancellation ends the spin.
                timeout: Duration::from_secs(3600),
                ..Limits::default()
            },
        )
        .unwrap();
    engine
        .register_compositions(
            "function maybe_spin (in) => (out);
             composition Maybe (A) => (B) { maybe_spin (in = all A) => (B = out); }",
        )
        .unwrap();
    let input = |data: &str| sets(&[("A", vec![item("", 0, data)])]);
    // Fast runs make the function a candidate for the starting thread.
    for _ in 0..20 {
        let done = engine.invoke("Maybe", input("x")).unwrap();
        assert!(show_set(&done.outputs, "B").is_empty());
    }

    // Starting the spinning invocation returns while it still runs: wherever
    // its shard began, it did not keep this thread until its deadline.
    let mut spinning = engine.invoke_async("Maybe", input("S"));
    assert!(pending(&mut spinning));
    // This thread and the other compute thread still serve invocations.
    let done = engine.invoke("Maybe", input("x")).unwrap();
    assert!(show_set(&done.outputs, "B").is_empty());
    assert!(pending(&mut spinning));

    // Dropping the future cancels the spin; the engine then drains at once.
    drop(spinning);
    assert!(engine.drain(Duration::from_secs(600)));
    let err = engine.invoke("Maybe", input("x")).unwrap_err();
    assert!(matches!(err, Error::Draining), "{err}");
}
