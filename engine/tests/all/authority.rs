//! Every builtin call carries its tenant's authority: a tenant given a policy
//! is refused outside it with `forbidden`, while the default tenant keeps the
//! I/O runtime's default authority; and a dropped invocation future cancels.

use std::sync::Arc;

use pappus_engine::Error;
use pappus_io::{Authority, IoPolicy};

use crate::support::*;

#[test]
fn a_tenants_builtin_calls_carry_its_authority() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret.txt");
    std::fs::write(&file, "secret").unwrap();
    let uri = format!("file://{}", file.display());
    let least = Arc::new(Authority::new(&IoPolicy::default()).unwrap().named("t"));
    let engine = engine_with(|builder| builder.tenant_authority("t", least));
    let t = engine.tenant("t");
    register_functions(&t, pappus_engine::Limits::default());
    let compositions = format!("{DECLS}\n{LOAD}");
    t.register_compositions(&compositions).unwrap();
    engine.register_compositions(&compositions).unwrap();

    match t.invoke("Load", sets(&[("Uris", vec![item("u", 7, &uri)])])) {
        Err(Error::Failure { kind, cause, .. }) => {
            assert_eq!(kind, "forbidden", "{cause}");
            assert!(cause.contains(&uri), "{cause}");
        }
        other => panic!("expected forbidden, got {other:?}"),
    }
    // The default tenant has no authority of its own: the runtime's default
    // (the local user's, as in `pappus run`).
    assert_eq!(load(&engine, &uri).unwrap(), ["u@7=SECRET"]);
    assert_eq!(engine.metrics().io_forbidden, 1);
}

#[test]
fn dropping_the_future_cancels_the_invocation() {
    let engine = engine();
    engine
        .register_function(
            "spin",
            &wasm("spin"),
            pappus_engine::Limits {
                timeout: std::time::Duration::from_secs(600),
                ..pappus_engine::Limits::default()
            },
        )
        .unwrap();
    engine
        .register_compositions(
            "function spin (in) => (out);
             composition Slow (A) => (B) { spin (in = all A) => (B = out); }",
        )
        .unwrap();
    let pending = engine.invoke_async("Slow", sets(&[("A", vec![item("a", 0, "x")])]));
    assert_eq!(engine.metrics().in_flight, 1);
    drop(pending);
    assert_eq!(engine.metrics().invocations_cancelled, 1);
    // The spinning sandbox stops at the watchdog's next tick, not at its deadline.
    assert!(engine.drain(std::time::Duration::from_secs(60)));
    assert_eq!(engine.metrics().in_flight, 0);
}
