//! `catch SET`: a failed shard becomes an item of SET and the others complete;
//! without it the invocation stays all-or-nothing. The failing guests are
//! real: `matmul` refusing a malformed matrix, `trap` executing `unreachable`.

use pappus_engine::{Error, Item, Sets};
use serde_json::Value;

use crate::support::*;

const MATMUL_CAUGHT: &str = "composition Squares (M) => (Out, Failed) {
    matmul (in = each M) => (Out = out) catch Failed;
}";

/// Three matrices, the middle one malformed (its length is not 8 * (n*n + 1)).
fn batch() -> Sets {
    sets(&[(
        "M",
        vec![
            matrix("a", 1, 2, 1),
            item("broken", 7, "not a matrix"),
            matrix("c", 3, 3, 2),
        ],
    )])
}

fn record(item: &Item) -> Value {
    serde_json::from_slice(&item.data).expect("a failure record is JSON")
}

#[test]
fn without_catch_one_bad_item_fails_the_invocation() {
    let engine = engine();
    engine
        .register_compositions(&format!(
            "{DECLS}\ncomposition Squares (M) => (Out) {{ matmul (in = each M) => (Out = out); }}"
        ))
        .unwrap();
    let err = engine.invoke("Squares", batch()).unwrap_err();
    let Error::Failure { shard, .. } = &err else {
        panic!("not a shard failure: {err}");
    };
    assert!(shard.contains("\"broken\""), "{shard}");
}

#[test]
fn with_catch_the_bad_item_is_recorded_and_the_rest_complete() {
    let engine = engine();
    let out = run(&engine, MATMUL_CAUGHT, "Squares", batch());
    let mut names: Vec<&str> = out["Out"].iter().map(|i| i.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["a", "c"]);
    let failed = &out["Failed"];
    assert_eq!(failed.len(), 1, "{failed:?}");
    // Named and keyed after the input item that failed.
    assert_eq!((failed[0].name.as_str(), failed[0].key), ("broken", 7));
    let r = record(&failed[0]);
    assert_eq!(r["kind"], "guest_error", "{r}");
    assert!(
        r["message"].as_str().is_some_and(|m| m.contains("matmul")),
        "{r}"
    );
    assert!(
        r["application"]
            .as_str()
            .is_some_and(|a| a.contains("matmul")),
        "{r}"
    );
    assert!(
        r["shard"].as_str().is_some_and(|s| s.contains("broken")),
        "{r}"
    );
    assert_eq!(r["stderr"], "", "ABI v1 functions have no stderr");
    // The good results are exactly what an all-good batch gives.
    let clean = engine
        .invoke(
            "Squares",
            sets(&[("M", vec![matrix("a", 1, 2, 1), matrix("c", 3, 3, 2)])]),
        )
        .unwrap()
        .outputs;
    assert_eq!(show_set(&out, "Out"), show_set(&clean, "Out"));
    assert!(clean["Failed"].is_empty());
}

#[test]
fn caught_failures_feed_other_applications() {
    // Every `trap` shard fails; each failure is an item that `concat` reads.
    let engine = engine();
    let out = run(
        &engine,
        "composition Report (In) => (Out, Report) {
            trap (in = each In) => (Out = out) catch Failed;
            concat (in = all Failed) => (Report = out);
        }",
        "Report",
        sets(&[("In", vec![item("x", 1, "1"), item("y", 2, "2")])]),
    );
    assert!(out["Out"].is_empty());
    assert_eq!(out["Report"].len(), 1);
    // `concat` joins the items' data: two trap records.
    let report = String::from_utf8_lossy(&out["Report"][0].data).into_owned();
    assert_eq!(report.matches("\"kind\":\"trap\"").count(), 2, "{report}");
    assert!(report.contains("unreachable"), "{report}");
}

#[test]
fn limits_of_the_invocation_are_not_caught() {
    let engine = engine_with(|b| b.max_shards_per_application(2));
    engine
        .register_compositions(&format!("{DECLS}\n{MATMUL_CAUGHT}"))
        .unwrap();
    let err = engine.invoke("Squares", batch()).unwrap_err();
    assert!(matches!(err, Error::TooManyShards { .. }), "{err}");
}

#[test]
fn catch_on_a_nested_composition_is_refused() {
    let engine = engine();
    let err = engine
        .register_compositions(&format!(
            "{DECLS}
            composition Inner (In) => (Out) {{ upper (in = each In) => (Out = out); }}
            composition Outer (In) => (Out, Failed) {{
                Inner (In = all In) => (Out = Out) catch Failed;
            }}"
        ))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("`catch` applies to function and builtin"),
        "{err}"
    );
}
