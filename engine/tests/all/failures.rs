//! Failures name the composition, application, shard and cause; the rest is
//! cancelled and the engine keeps serving.

use std::time::Duration;

use pappus_engine::{Engine, Error, Limits};

use crate::support::*;

#[test]
fn failing_shard_is_named() {
    let engine = engine();
    let text = "composition Pow (M) => (Out) {
        identity (in = each M) => (Ms = out);
        matmul (in = each Ms) => (Out = out);
    }";
    engine
        .register_compositions(&format!("{DECLS}\n{text}"))
        .unwrap();
    let inputs = sets(&[(
        "M",
        vec![matrix("good", 1, 3, 1), item("bad", 7, "not a matrix")],
    )]);
    let err = engine.invoke("Pow", inputs).unwrap_err();
    let Error::Failure {
        composition,
        application,
        shard,
        cause,
        kind,
        ..
    } = &err
    else {
        panic!("not a failure: {err}");
    };
    assert_eq!(composition, "Pow");
    assert_eq!(application, "#2 `matmul` => (Out)");
    assert_eq!(shard, "in=\"bad\" (key 7)");
    assert_eq!(*kind, "guest_error");
    assert!(cause.contains("matmul"), "{cause}");
    assert_eq!(err.kind(), "failure");
    let message = err.to_string();
    for part in ["Pow", "#2 `matmul` => (Out)", "\"bad\"", "key 7"] {
        assert!(message.contains(part), "{message} lacks {part}");
    }
    // The engine keeps serving.
    let ok = engine
        .invoke("Pow", sets(&[("M", vec![matrix("good", 1, 2, 1)])]))
        .unwrap();
    assert_eq!(ok.outputs["Out"].len(), 1);
    assert_eq!(engine.metrics().in_flight, 0);
}

#[test]
fn trap_timeout_and_nested_failures() {
    let engine = Engine::builder().compute_threads(2).build().unwrap();
    let tenant = engine.tenant(pappus_engine::DEFAULT_TENANT);
    register_functions(
        &tenant,
        Limits {
            timeout: Duration::from_millis(200),
            ..Limits::default()
        },
    );
    let text = "
        composition Bad (In) => (Out) {
            trap (in = all In) => (Out = out);
        }
        composition Outer (A) => (Out) {
            upper (in = each A) => (U = out);
            Bad (In = keyed U) => (Out = Out);
        }
        composition Slow (A) => (Out, Fast) {
            spin (in = each A) => (Out = out);
            upper (in = each A) => (Fast = out);
        }
    ";
    engine
        .register_compositions(&format!("{DECLS}\n{text}"))
        .unwrap();
    let err = engine
        .invoke("Outer", sets(&[("A", vec![item("w", 5, "x")])]))
        .unwrap_err();
    let Error::Failure {
        composition,
        application,
        shard,
        kind,
        ..
    } = &err
    else {
        panic!("not a failure: {err}");
    };
    assert_eq!(composition, "Outer > Bad");
    assert_eq!(application, "#1 `trap` => (Out)");
    assert_eq!(shard, "in all (1 items)");
    assert_eq!(*kind, "trap");

    let err = engine
        .invoke(
            "Slow",
            sets(&[("A", vec![item("a", 0, "x"), item("b", 1, "y")])]),
        )
        .unwrap_err();
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
    assert_eq!(engine.metrics().invocations_failed, 2);
}
