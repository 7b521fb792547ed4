//! Nested compositions behave like functions with the same signature.

use crate::support::*;

#[test]
fn nested_in_the_same_text_and_registered_separately() {
    let engine = engine();
    let inner = "composition Shout (In) => (Loud) {
        upper (in = each In) => (Loud = out);
    }";
    let outer = "composition Report (Docs) => (Result, Parts) {
        Shout (In = each Docs) => (Parts = Loud);
        concat (in = all Parts) => (Result = out);
    }";
    let docs = vec![item("1", 1, "ab"), item("2", 2, "cd")];
    // Both in one text.
    let outputs = run(
        &engine,
        &format!("{inner}\n{outer}"),
        "Report",
        sets(&[("Docs", docs.clone())]),
    );
    assert_eq!(show_set(&outputs, "Result"), ["concat@0=ABCD"]);
    assert_eq!(show_set(&outputs, "Parts"), ["1@1=AB", "2@2=CD"]);

    // The inner one registered first, the outer one calling it by name.
    let engine = self::engine();
    engine
        .register_compositions(&format!("{DECLS}\n{inner}"))
        .unwrap();
    engine
        .register_compositions(&format!("function concat (in) => (out);\n{outer}"))
        .unwrap();
    let answer = engine.invoke("Report", sets(&[("Docs", docs)])).unwrap();
    assert_eq!(show_set(&answer.outputs, "Result"), ["concat@0=ABCD"]);
    // A composition that others call cannot be deleted.
    let err = engine.delete_composition("Shout").unwrap_err();
    assert_eq!(err.kind(), "conflict", "{err}");
}

#[test]
fn nested_keyed_and_empty() {
    let engine = engine();
    let text = "
        composition Pair (a, b) => (out) {
            merge (a = all a, b = optional all b) => (out = out);
        }
        composition Outer (A, B) => (Out) {
            Pair (a = keyed A, b = all B) => (Out = out);
        }
    ";
    let outputs = run(
        &engine,
        text,
        "Outer",
        sets(&[
            (
                "A",
                vec![item("x", 1, "x"), item("y", 2, "y"), item("z", 1, "z")],
            ),
            ("B", vec![item("b", 0, "B")]),
        ]),
    );
    assert_eq!(show_set(&outputs, "Out"), ["merge@0=xz|B", "merge@0=y|B"]);
    // B empty and not optional in Outer: the nested composition does not run.
    let outputs = engine
        .invoke("Outer", sets(&[("A", vec![item("x", 1, "x")])]))
        .unwrap()
        .outputs;
    assert_eq!(show_set(&outputs, "Out"), Vec::<String>::new());
}
