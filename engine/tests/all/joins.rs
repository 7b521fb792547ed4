//! `by` joins over keyed inputs, compared on full outputs.

use crate::support::*;

fn a() -> Vec<pappus_engine::Item> {
    vec![
        item("a1", 1, "a1"),
        item("a2", 2, "a2"),
        item("a2b", 2, "a2b"),
    ]
}

fn b() -> Vec<pappus_engine::Item> {
    vec![item("b2", 2, "b2"), item("b3", 3, "b3")]
}

#[test]
fn join_kinds() {
    let engine = engine();
    let table: &[(&str, &str, Vec<&str>)] = &[
        ("inner", "by A inner B", vec!["merge@2=a2a2b|b2"]),
        (
            "left",
            "by A left B",
            vec!["merge@1=a1|", "merge@2=a2a2b|b2"],
        ),
        (
            "right",
            "by A right B",
            vec!["merge@2=a2a2b|b2", "merge@3=|b3"],
        ),
        (
            "outer",
            "by A outer B",
            vec!["merge@1=a1|", "merge@2=a2a2b|b2", "merge@3=|b3"],
        ),
        (
            "cross",
            "by A cross B",
            vec![
                "merge@1=a1|b2",
                "merge@1=a1|b3",
                "merge@2=a2a2b|b2",
                "merge@2=a2a2b|b3",
            ],
        ),
        // The join order follows `by`, not the parameter order.
        (
            "B left A",
            "by B left A",
            vec!["merge@2=a2a2b|b2", "merge@3=|b3"],
        ),
    ];
    for (i, (case, by, want)) in table.iter().enumerate() {
        let name = format!("Join{i}");
        let text = format!(
            "composition {name} (A, B) => (Out) {{
                merge (a = keyed A, b = keyed B) => (Out = out) {by};
            }}"
        );
        let outputs = run(&engine, &text, &name, sets(&[("A", a()), ("B", b())]));
        assert_eq!(show_set(&outputs, "Out"), *want, "{case}");
    }
}

#[test]
fn joins_with_empty_and_optional_inputs() {
    let engine = engine();
    let table: &[(&str, &str, Vec<&str>)] = &[
        // A non-optional empty side: the application does not run.
        (
            "left, B empty",
            "b = keyed B) => (Out = out) by A left B",
            vec![],
        ),
        (
            "left, optional B empty",
            "b = optional keyed B) => (Out = out) by A left B",
            vec!["merge@1=a1|", "merge@2=a2a2b|"],
        ),
        (
            "inner, optional B empty",
            "b = optional keyed B) => (Out = out) by A inner B",
            vec![],
        ),
        (
            "cross, optional B empty",
            "b = optional keyed B) => (Out = out) by A cross B",
            vec!["merge@1=a1|", "merge@2=a2a2b|"],
        ),
    ];
    for (i, (case, rest, want)) in table.iter().enumerate() {
        let name = format!("EmptyJoin{i}");
        let text = format!(
            "composition {name} (A, B) => (Out) {{
                merge (a = keyed A, {rest};
            }}"
        );
        let outputs = run(&engine, &text, &name, sets(&[("A", a())]));
        assert_eq!(show_set(&outputs, "Out"), *want, "{case}");
    }
}

#[test]
fn join_chain_is_left_associative() {
    let engine = engine();
    // AB = A outer B, then AB inner C.
    let text = "
        composition Chain (A, B, C) => (Out) {
            merge (a = keyed A, b = keyed B) => (AB = out) by A outer B;
            merge (a = keyed AB, b = keyed C) => (Out = out) by AB inner C;
        }
    ";
    let c = vec![item("c1", 1, "c1"), item("c3", 3, "c3")];
    let outputs = run(
        &engine,
        text,
        "Chain",
        sets(&[("A", a()), ("B", b()), ("C", c)]),
    );
    // AB: key 1 "a1|", key 2 "a2a2b|b2", key 3 "|b3"; inner C keeps keys 1 and 3.
    assert_eq!(
        show_set(&outputs, "Out"),
        ["merge@1=a1||c1", "merge@3=|b3|c3"]
    );
}
