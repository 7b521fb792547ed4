//! Bounded admission: beyond the queue, invoke answers Overloaded at once.

use std::time::Duration;

use pappus_engine::{Engine, Error, Limits};

use crate::support::*;

#[test]
fn queue_bound_refuses_at_once_and_accepted_ones_complete() {
    let engine = Engine::builder()
        .compute_threads(1)
        .max_in_flight(1)
        .queue_bound(1)
        .build()
        .unwrap();
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
