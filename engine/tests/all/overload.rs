//! Bounded admission: beyond the queue, invoke answers Overloaded at once.

use std::time::Duration;

use pappus_engine::{Engine, Error, Limits};

use crate::support::*;

/// An engine with one compute thread that runs one invocation and queues one.
fn one_running_one_queued() -> Engine {
    Engine::builder()
        .compute_threads(1)
        .max_in_flight(1)
        .queue_bound(1)
        .build()
        .unwrap()
}

#[test]
fn queue_bound_refuses_at_once_and_accepted_ones_complete() {
    let engine = one_running_one_queued();
    let tenant = engine.tenant(pappus_engine::DEFAULT_TENANT);
    tenant
        .register_function(
            "spin",
            &wasm("spin"),
            Limits {
                timeout: Duration::from_millis(300),
                ..Limits::default()
            },
        )
        .unwrap();
    tenant
        .register_function("upper", &wasm("upper"), Limits::default())
        .unwrap();
    engine
        .register_compositions(
            "function spin (in) => (out);
             function upper (in) => (out);
             composition Slow (A) => (B) { spin (in = all A) => (B = out); }
             composition Up (A) => (B) { upper (in = all A) => (B = out); }",
        )
        .unwrap();
    let input = || sets(&[("A", vec![item("", 0, "x")])]);
    let running = engine.invoke_async("Slow", input());
    let queued = engine.invoke_async("Up", input());
    let m = engine.metrics();
    assert_eq!((m.in_flight, m.queue_depth), (1, 1));
    let refused = futures_executor::block_on(engine.invoke_async("Up", input()));
    // Refused without waiting: the spinning invocation is still running and
    // the queued one still waiting.
    let m = engine.metrics();
    assert_eq!((m.in_flight, m.queue_depth), (1, 1));
    assert!(
        matches!(refused, Err(Error::Overloaded { queue_bound: 1 })),
        "{refused:?}"
    );
    let err = futures_executor::block_on(running).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Failure {
                kind: "timeout",
                ..
            }
        ),
        "{err}"
    );
    let up = futures_executor::block_on(queued).unwrap();
    assert_eq!(show_set(&up.outputs, "B"), ["@0=X"]);
    assert!(
        up.timings.queued >= Duration::from_millis(200),
        "{:?}",
        up.timings
    );
    let m = engine.metrics();
    assert_eq!(m.invocations_rejected, 1);
    assert_eq!((m.in_flight, m.queue_depth), (0, 0));

    // Draining: finishes what runs, then refuses.
    assert!(engine.drain(Duration::from_secs(1)));
    let err = engine.invoke("Up", input()).unwrap_err();
    assert!(matches!(err, Error::Draining), "{err}");
}

/// Admission is a step of its own: an admitted invocation holds its slot (or
/// queue place) before its inputs exist, so a caller can refuse work while
/// the engine is full without preparing the inputs; dropping it unused gives
/// the slot back, and running it later works as an ordinary invocation.
#[test]
fn admission_holds_a_slot_before_the_inputs_exist() {
    let engine = one_running_one_queued();
    let tenant = engine.tenant("alpha");
    tenant
        .register_function("upper", &wasm("upper"), Limits::default())
        .unwrap();
    tenant
        .register_compositions(
            "function upper (in) => (out);
             composition Up (A) => (B) { upper (in = all A) => (B = out); }",
        )
        .unwrap();
    let input = || sets(&[("A", vec![item("", 0, "x")])]);

    let unknown = tenant.admit("Nowhere").map(|_| ());
    assert!(
        matches!(unknown, Err(Error::UnknownComposition { .. })),
        "{unknown:?}"
    );
    let running = tenant.admit("Up").unwrap();
    assert_eq!(running.composition(), "Up");
    let queued = tenant.admit("Up").unwrap();
    let m = engine.metrics();
    assert_eq!((m.in_flight, m.queue_depth), (1, 1));
    let refused = tenant.admit("Up").map(|_| ());
    assert!(
        matches!(refused, Err(Error::Overloaded { queue_bound: 1 })),
        "{refused:?}"
    );
    assert!(matches!(
        futures_executor::block_on(tenant.invoke_async("Up", input())),
        Err(Error::Overloaded { .. })
    ));

    // The queued one gives its place back unused; the running one runs.
    drop(queued);
    assert_eq!(engine.metrics().queue_depth, 0);
    let up = futures_executor::block_on(running.invoke_async(input())).unwrap();
    assert_eq!(show_set(&up.outputs, "B"), ["@0=X"]);
    let m = engine.metrics();
    assert_eq!((m.in_flight, m.queue_depth), (0, 0));

    // A queued admission whose slot frees before it runs starts at once;
    // invalid inputs give the slot back.
    let first = tenant.admit("Up").unwrap();
    let second = tenant.admit("Up").unwrap();
    let bad = futures_executor::block_on(first.invoke_async(sets(&[("Z", vec![])])));
    assert!(matches!(bad, Err(Error::InvalidInput { .. })), "{bad:?}");
    let up = futures_executor::block_on(second.invoke_async(input())).unwrap();
    assert_eq!(show_set(&up.outputs, "B"), ["@0=X"]);
    let m = engine.metrics();
    assert_eq!((m.in_flight, m.queue_depth), (0, 0));

    // Draining waits for an admitted invocation that has not run yet, which
    // still runs; new admissions are refused.
    let admitted = tenant.admit("Up").unwrap();
    let drained = std::thread::scope(|scope| {
        let drainer = scope.spawn(|| engine.drain(Duration::from_secs(60)));
        let up = futures_executor::block_on(admitted.invoke_async(input()));
        (up, drainer.join().unwrap())
    });
    assert!(drained.0.is_ok(), "{:?}", drained.0);
    assert!(drained.1);
    assert!(matches!(
        tenant.admit("Up").map(|_| ()),
        Err(Error::Draining)
    ));
}
