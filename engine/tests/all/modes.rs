//! Sharding modes, cross products and optional/empty inputs, compared on
//! full outputs.

use crate::support::*;

/// (case, composition body, inputs, expected `Out`)
type Case = (
    &'static str,
    &'static str,
    Vec<(&'static str, Vec<pappus_engine::Item>)>,
    Vec<&'static str>,
);

fn a() -> Vec<pappus_engine::Item> {
    vec![item("a", 1, "x"), item("b", 2, "y"), item("c", 1, "z")]
}

fn b() -> Vec<pappus_engine::Item> {
    vec![item("p", 1, "P"), item("q", 3, "Q")]
}

#[test]
fn modes_and_empty_inputs() {
    let engine = engine();
    let cases: Vec<Case> = vec![
        (
            "all",
            "concat (in = all A) => (Out = out);",
            vec![("A", a())],
            vec!["concat@0=xzy"],
        ),
        (
            "each",
            "concat (in = each A) => (Out = out);",
            vec![("A", a())],
            vec!["concat@0=x", "concat@0=y", "concat@0=z"],
        ),
        (
            "keyed",
            "concat (in = keyed A) => (Out = out);",
            vec![("A", a())],
            vec!["concat@0=xz", "concat@0=y"],
        ),
        (
            "all, empty",
            "concat (in = all A) => (Out = out);",
            vec![],
            vec![],
        ),
        (
            "each, empty",
            "concat (in = each A) => (Out = out);",
            vec![("A", vec![])],
            vec![],
        ),
        (
            "keyed, empty",
            "concat (in = keyed A) => (Out = out);",
            vec![],
            vec![],
        ),
        (
            "optional all, empty",
            "concat (in = optional all A) => (Out = out);",
            vec![],
            vec!["concat@0="],
        ),
        (
            "optional each, empty",
            "concat (in = optional each A) => (Out = out);",
            vec![],
            vec!["concat@0="],
        ),
        (
            "optional keyed, empty",
            "concat (in = optional keyed A) => (Out = out);",
            vec![],
            vec!["concat@0="],
        ),
        (
            "optional each, not empty",
            "concat (in = optional each A) => (Out = out);",
            vec![("A", a())],
            vec!["concat@0=x", "concat@0=y", "concat@0=z"],
        ),
        (
            "each x each: cross product",
            "merge (a = each A, b = each B) => (Out = out);",
            vec![("A", a()), ("B", b())],
            vec![
                "merge@1=x|P",
                "merge@1=x|Q",
                "merge@1=y|P",
                "merge@1=z|P",
                "merge@1=z|Q",
                "merge@2=y|Q",
            ],
        ),
        (
            "each x all",
            "merge (a = each A, b = all B) => (Out = out);",
            vec![("A", a()), ("B", b())],
            vec!["merge@1=x|PQ", "merge@1=y|PQ", "merge@1=z|PQ"],
        ),
        (
            "keyed x keyed without by: cross product",
            "merge (a = keyed A, b = keyed B) => (Out = out);",
            vec![("A", a()), ("B", b())],
            vec!["merge@1=xz|P", "merge@1=xz|Q", "merge@1=y|P", "merge@2=y|Q"],
        ),
        (
            "one empty input stops the application",
            "merge (a = each A, b = all B) => (Out = out);",
            vec![("A", a())],
            vec![],
        ),
        (
            "optional empty input runs it",
            "merge (a = each A, b = optional all B) => (Out = out);",
            vec![("A", a())],
            vec!["merge@1=x|", "merge@1=z|", "merge@2=y|"],
        ),
        (
            "optional each empty in a cross product",
            "merge (a = all A, b = optional each B) => (Out = out);",
            vec![("A", a())],
            vec!["merge@1=xzy|"],
        ),
        (
            "skipped application empties the chain after it",
            "identity (in = each B) => (C = out);\n    concat (in = all C) => (Out = out);",
            vec![("A", a())],
            vec![],
        ),
    ];
    for (i, (case, body, inputs, want)) in cases.into_iter().enumerate() {
        let name = format!("Case{i}");
        let text = format!("composition {name} (A, B) => (Out) {{\n    {body}\n}}");
        let outputs = run(&engine, &text, &name, sets(&inputs));
        assert_eq!(outputs.keys().collect::<Vec<_>>(), ["Out"], "{case}");
        assert_eq!(show_set(&outputs, "Out"), want, "{case}");
    }
}

#[test]
fn every_output_set_is_present_and_inputs_map_by_name() {
    let engine = engine();
    let text = "composition Two (A, B) => (X, Y) {
        upper (in = each A) => (X = out);
        upper (in = each B) => (Y = out);
    }";
    // B missing: Y is empty but present.
    let outputs = run(
        &engine,
        text,
        "Two",
        sets(&[("A", vec![item("n", 4, "hi")])]),
    );
    assert_eq!(show_set(&outputs, "X"), ["n@4=HI"]);
    assert_eq!(show_set(&outputs, "Y"), Vec::<String>::new());
    // Only B given: the sets are matched by name, not position.
    let outputs = engine
        .invoke("Two", sets(&[("B", vec![item("m", 1, "yo")])]))
        .unwrap()
        .outputs;
    assert_eq!(show_set(&outputs, "X"), Vec::<String>::new());
    assert_eq!(show_set(&outputs, "Y"), ["m@1=YO"]);
    // An unknown input set is refused.
    let err = engine.invoke("Two", sets(&[("C", vec![])])).unwrap_err();
    assert_eq!(err.kind(), "invalid_input", "{err}");
    assert!(err.to_string().contains("`C`"), "{err}");
}

#[test]
fn passthrough_and_diamond() {
    let engine = engine();
    // A composition output may be an input set.
    let outputs = run(
        &engine,
        "composition Echo (A) => (A, Up) { upper (in = all A) => (Up = out); }",
        "Echo",
        sets(&[("A", vec![item("k", 0, "v")])]),
    );
    assert_eq!(show_set(&outputs, "A"), ["k@0=v"]);
    assert_eq!(show_set(&outputs, "Up"), ["k@0=V"]);
    // A diamond: two branches from one set, merged.
    let text = "composition Diamond (A) => (Out) {
        upper (in = each A) => (U = out);
        identity (in = each A) => (I = out);
        merge (a = all U, b = all I) => (Out = out);
    }";
    let outputs = run(
        &engine,
        text,
        "Diamond",
        sets(&[("A", vec![item("1", 1, "a"), item("2", 2, "b")])]),
    );
    assert_eq!(show_set(&outputs, "Out"), ["merge@1=AB|ab"]);
}

#[test]
fn wordcount_pipeline() {
    let engine = engine();
    let text = "composition WordCount (Docs) => (Counts, Report) {
        split_words (text = each Docs) => (Words = words);
        count (in = keyed Words) => (Counts = counts);
        concat (in = all Counts) => (Report = out);
    }";
    let outputs = run(
        &engine,
        text,
        "WordCount",
        sets(&[(
            "Docs",
            vec![item("d1", 0, "to be or not"), item("d2", 0, "to be")],
        )]),
    );
    assert_eq!(
        show_set(&outputs, "Counts"),
        ["be@2=2", "not@3=1", "or@2=1", "to@2=2"]
    );
    // Report: counts in (key, name) order: be, or, to (key 2), not (key 3).
    assert_eq!(show_set(&outputs, "Report"), ["concat@0=2121"]);
}

#[test]
fn async_invoke_is_runtime_agnostic() {
    let engine = engine();
    engine
        .register_compositions(&format!(
            "{DECLS}\ncomposition Up (A) => (B) {{ upper (in = each A) => (B = out); }}"
        ))
        .unwrap();
    let futures: Vec<_> = (0..8)
        .map(|i| engine.invoke_async("Up", sets(&[("A", vec![item("x", i, "abc")])])))
        .collect();
    for (i, f) in futures.into_iter().enumerate() {
        let answer = futures_executor::block_on(f).unwrap();
        assert_eq!(show_set(&answer.outputs, "B"), [format!("x@{i}=ABC")]);
        assert!(answer.timings.total >= answer.timings.queued);
    }
    let m = engine.metrics();
    assert_eq!(m.sandboxes_created, 8);
    assert_eq!(m.invocations_succeeded, 8);
    assert_eq!(m.in_flight, 0);
}
