//! The registry persists under the data directory and reloads on build.

use std::time::Duration;

use pappus_engine::{Engine, Limits};

use crate::support::*;

fn build(dir: &std::path::Path) -> Engine {
    Engine::builder()
        .compute_threads(1)
        .data_dir(dir)
        .build()
        .unwrap()
}

#[test]
fn reload_keeps_functions_compositions_and_tenants() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        timeout: Duration::from_millis(1500),
        ..Limits::default()
    };
    {
        let engine = build(dir.path());
        let t = engine.tenant("acme");
        t.register_function("upper", &wasm("upper"), limits)
            .unwrap();
        t.register_function("concat", &wasm("concat"), limits)
            .unwrap();
        t.register_compositions(
            "function upper (in) => (out);
             composition Shout (A) => (B) { upper (in = each A) => (B = out); }",
        )
        .unwrap();
        // A later text calling the earlier composition.
        t.register_compositions(
            "function concat (in) => (out);
             function upper (in) => (out);
             composition Joined (A) => (C) {
                 Shout (A = each A) => (B = B);
                 concat (in = all B) => (C = out);
             }
             composition Scratch (A) => (B) { upper (in = all A) => (B = out); }",
        )
        .unwrap();
        t.delete_composition("Scratch").unwrap();
        // Replace Shout with a same-signature definition registered later.
        t.register_compositions(
            "function upper (in) => (out);
             composition Shout (A) => (B) { upper (in = all A) => (B = out); }",
        )
        .unwrap();
    }
    let engine = build(dir.path());
    let t = engine.tenant("acme");
    let names: Vec<String> = t.list_compositions().into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["Joined", "Shout"]);
    let f = t.get_function("upper").unwrap();
    assert_eq!(f.limits, limits);
    assert_eq!(f.module_bytes, wasm("upper").len() as u64);
    assert_eq!(t.function_module("upper").unwrap(), wasm("upper"));
    let answer = t
        .invoke(
            "Joined",
            sets(&[("A", vec![item("1", 1, "a"), item("2", 2, "b")])]),
        )
        .unwrap();
    assert_eq!(show_set(&answer.outputs, "C"), ["concat@0=AB"]);
    // The default tenant stayed empty.
    assert!(engine.tenant("default").list_functions().is_empty());
    // Precompiled code is cached in the data directory.
    assert!(dir.path().join("cache").exists());

    // Deletions persist too.
    t.delete_composition("Joined").unwrap();
    t.delete_composition("Shout").unwrap();
    t.delete_function("concat").unwrap();
    drop(t);
    drop(engine);
    let engine = build(dir.path());
    let t = engine.tenant("acme");
    assert!(t.list_compositions().is_empty());
    let names: Vec<String> = t.list_functions().into_iter().map(|f| f.name).collect();
    assert_eq!(names, ["upper"]);
}
