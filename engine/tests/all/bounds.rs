//! Bounds on what a composition can make the engine do: nesting depth (at
//! registration), shards per application and per invocation (before any shard
//! is built), and nested compositions resolved once per name.

use pappus_engine::Engine;

use crate::support::*;

/// `C0` runs identity; each `Ck` calls `Ck-1` twice, one after the other:
/// `levels` compositions whose full expansion has 2^levels leaves.
fn doubling(levels: usize) -> String {
    let mut text = String::from(
        "function identity (in) => (out);
         composition C0 (A) => (B) { identity (in = all A) => (B = out); }\n",
    );
    for k in 1..=levels {
        let below = k - 1;
        text.push_str(&format!(
            "composition C{k} (A) => (B) {{
                 C{below} (A = all A) => (X = B);
                 C{below} (A = all X) => (B = B);
             }}\n"
        ));
    }
    text
}

fn doubling_engine(
    levels: usize,
    configure: impl FnOnce(pappus_engine::EngineBuilder) -> pappus_engine::EngineBuilder,
) -> Engine {
    let engine = engine_with(|b| configure(b.max_nesting_depth(64)));
    engine.register_compositions(&doubling(levels)).unwrap();
    engine
}

#[test]
fn doubling_nesting_registers_and_runs_its_real_work_only() {
    // 48 levels would be 2^48 paths if expanded; registering and resolving
    // visit each composition once.
    let engine = doubling_engine(48, |b| b.max_shards_per_invocation(500));
    let err = engine
        .invoke("C48", sets(&[("A", vec![item("a", 1, "x")])]))
        .unwrap_err();
    assert_eq!(err.kind(), "too_many_shards", "{err}");
    assert!(err.to_string().contains("500"), "{err}");
    // A smaller one runs: 2 nested shards per level plus the 2^5 leaves.
    let before = engine.metrics().shards;
    let answer = engine
        .invoke("C5", sets(&[("A", vec![item("a", 1, "x")])]))
        .unwrap();
    assert_eq!(show_set(&answer.outputs, "B"), ["a@1=x"]);
    assert_eq!(engine.metrics().shards - before, 2 + 4 + 8 + 16 + 32 + 32);
}

#[test]
fn nesting_deeper_than_the_bound_is_refused_naming_the_chain() {
    let engine = engine_with(|b| b.max_nesting_depth(4));
    // C0..C3 is four levels: accepted.
    engine.register_compositions(&doubling(3)).unwrap();
    // C4 on top makes five.
    let err = engine
        .register_compositions("composition C4 (A) => (B) { C3 (A = all A) => (B = B); }")
        .unwrap_err();
    assert_eq!(err.kind(), "nesting_too_deep", "{err}");
    let message = err.to_string();
    assert!(message.contains("C4 > C3 > C2 > C1 > C0"), "{message}");
    assert!(message.contains("limit is 4"), "{message}");
    assert!(engine.get_composition("C4").is_none());
    // Replacing a callee with a deeper one is refused too: it would deepen C3.
    let err = engine
        .register_compositions(
            "function identity (in) => (out);
             composition Z (A) => (B) { identity (in = all A) => (B = out); }
             composition C0 (A) => (B) { Z (A = all A) => (B = B); }",
        )
        .unwrap_err();
    assert_eq!(err.kind(), "nesting_too_deep", "{err}");
}

#[test]
fn cross_product_over_the_bound_fails_before_building_and_the_engine_serves_on() {
    let engine = engine();
    engine
        .register_compositions(&format!(
            "{DECLS}
             composition Pairs (A, B) => (Out) {{
                 merge (a = each A, b = each B) => (Out = out);
             }}"
        ))
        .unwrap();
    let many = |prefix: &str| -> Vec<_> {
        (0..10_000)
            .map(|i| item(&format!("{prefix}{i}"), i, "x"))
            .collect()
    };
    let err = engine
        .invoke("Pairs", sets(&[("A", many("a")), ("B", many("b"))]))
        .unwrap_err();
    assert_eq!(err.kind(), "too_many_shards", "{err}");
    let message = err.to_string();
    assert!(message.contains("`merge`"), "{message}");
    assert!(message.contains("Pairs"), "{message}");
    assert!(message.contains("100000"), "{message}");
    // Nothing ran, and the next invocation is served.
    assert_eq!(engine.metrics().sandboxes_created, 0);
    let answer = engine
        .invoke(
            "Pairs",
            sets(&[
                ("A", vec![item("a", 1, "a")]),
                ("B", vec![item("b", 1, "b"), item("c", 2, "c")]),
            ]),
        )
        .unwrap();
    assert_eq!(show_set(&answer.outputs, "Out").len(), 2);
}

#[test]
fn per_application_bound_is_configurable() {
    let engine = engine_with(|b| b.max_shards_per_application(3));
    engine
        .register_compositions(&format!(
            "{DECLS}
             composition Loud (A) => (B) {{ upper (in = each A) => (B = out); }}"
        ))
        .unwrap();
    let items = |n: u64| (0..n).map(|i| item(&i.to_string(), i, "x")).collect();
    engine.invoke("Loud", sets(&[("A", items(3))])).unwrap();
    let err = engine.invoke("Loud", sets(&[("A", items(4))])).unwrap_err();
    assert_eq!(err.kind(), "too_many_shards", "{err}");
}
