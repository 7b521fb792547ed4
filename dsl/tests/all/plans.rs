//! Table tests: the plan has the expected structure for each shard mode, join and
//! kind of callee.

use std::sync::Arc;

use pappus_dsl::builtins::Builtin;
use pappus_dsl::{
    check, parse, Callee, Env, Join, JoinKind, Mode, NodeId, Plan, Producer, SetId, Signature,
};

fn plans_in(src: &str, env: &Env) -> Vec<Arc<Plan>> {
    let file = parse(src).unwrap_or_else(|e| panic!("{src}: {e:?}"));
    let checked = check(&file, env);
    assert!(!checked.has_errors(), "{src}: {:#?}", checked.diagnostics);
    checked.plans
}

fn plan(src: &str) -> Arc<Plan> {
    plans_in(src, &Env::new()).pop().unwrap()
}

#[test]
fn each_shard_mode() {
    for (word, mode) in [
        ("all", Mode::All),
        ("each", Mode::Each),
        ("keyed", Mode::Keyed),
        ("named", Mode::Named),
    ] {
        for optional in [false, true] {
            let opt = if optional { "optional " } else { "" };
            let p = plan(&format!(
                "function F (x) => (y);\ncomposition C (A) => (B) {{ F (x = {opt}{word} A) => (B = y); }}"
            ));
            let node = &p.nodes[0];
            assert_eq!(node.callee, Callee::Function("F".into()));
            assert_eq!(node.inputs.len(), 1);
            assert_eq!(node.inputs[0].mode, mode, "{word}");
            assert_eq!(node.inputs[0].optional, optional);
            assert_eq!(node.inputs[0].param, "x");
            let a = p.set_id("A").unwrap();
            let b = p.set_id("B").unwrap();
            assert_eq!(node.inputs[0].set, a);
            assert_eq!(p.input_sets, vec![a]);
            assert_eq!(p.output_sets, vec![b]);
            assert_eq!(p.set(a).producer, Producer::Input(0));
            assert_eq!(p.set(a).consumers, vec![(NodeId(0), 0)]);
            assert_eq!(
                p.set(b).producer,
                Producer::Node {
                    node: NodeId(0),
                    output: 0
                }
            );
            assert!(p.set(b).consumers.is_empty());
            assert_eq!(node.outputs[0].set, b);
            assert_eq!(node.join, None);
            assert_eq!(p.order, vec![NodeId(0)]);
        }
    }
}

const KINDS: [(&str, JoinKind); 5] = [
    ("inner", JoinKind::Inner),
    ("left", JoinKind::Left),
    ("right", JoinKind::Right),
    ("outer", JoinKind::Outer),
    ("cross", JoinKind::Cross),
];

#[test]
fn each_two_way_join() {
    for (word, kind) in KINDS {
        // Sets named in reverse parameter order: indices are into the node's inputs.
        let p = plan(&format!(
            "function J (l, r) => (y);\ncomposition C (L, R) => (Y) {{ J (r = keyed R, l = keyed L) => (Y = y) by R {word} L; }}"
        ));
        let node = &p.nodes[0];
        assert_eq!(node.inputs[0].param, "l");
        assert_eq!(node.inputs[1].param, "r");
        assert_eq!(
            node.join,
            Some(Join {
                first: 1,
                rest: vec![(kind, 0)]
            }),
            "{word}"
        );
    }
}

#[test]
fn each_three_way_join_pair() {
    for (w1, k1) in KINDS {
        for (w2, k2) in KINDS {
            let p = plan(&format!(
                "function J (a, b, c) => (y);\ncomposition C (A, B, X) => (Y) {{ J (a = keyed A, b = optional keyed B, c = keyed X) => (Y = y) by A {w1} B {w2} X; }}"
            ));
            let node = &p.nodes[0];
            assert_eq!(
                node.join,
                Some(Join {
                    first: 0,
                    rest: vec![(k1, 1), (k2, 2)]
                })
            );
            assert!(node.inputs[1].optional);
        }
    }
}

#[test]
fn join_mixed_with_unkeyed_inputs() {
    let p = plan(
        "function J (cfg, a, b) => (y);\ncomposition C (Cfg, A, B) => (Y) { J (a = keyed A, cfg = all Cfg, b = keyed B) => (Y = y) by B inner A; }",
    );
    assert_eq!(p.nodes[0].inputs[0].mode, Mode::All);
    assert_eq!(
        p.nodes[0].join,
        Some(Join {
            first: 2,
            rest: vec![(JoinKind::Inner, 1)]
        })
    );
}

#[test]
fn each_builtin_is_a_builtin_callee() {
    for b in Builtin::ALL {
        let sig = b.signature();
        let ins: Vec<String> = sig
            .inputs
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{p} = each I{i}"))
            .collect();
        let decl: Vec<String> = (0..sig.inputs.len()).map(|i| format!("I{i}")).collect();
        let src = format!(
            "composition C ({}) => (O) {{ {} ({}) => (O = {}); }}",
            decl.join(", "),
            b.name(),
            ins.join(", "),
            sig.outputs[0]
        );
        let p = plan(&src);
        assert_eq!(p.nodes[0].callee, Callee::Builtin(b));
        assert_eq!(Builtin::from_name(b.name()), Some(b));
        assert_eq!(p.nodes[0].inputs.len(), sig.inputs.len());
    }
    assert_eq!(Builtin::from_name("ftp"), None);
    assert_eq!(
        Builtin::Store.signature(),
        Signature::new(["objects", "uris"], ["receipts"])
    );
}

#[test]
fn nested_compositions_are_references() {
    let plans = plans_in(
        "function F (x) => (y);\ncomposition Inner (A) => (B) { F (x = each A) => (B = y); }\ncomposition Outer (A) => (B) { Inner (A = all A) => (B = B); }",
        &Env::new(),
    );
    assert_eq!(plans.len(), 2);
    assert_eq!(
        plans[1].nodes[0].callee,
        Callee::Composition("Inner".into())
    );
}

#[test]
fn registered_functions_and_compositions() {
    let mut env = Env::new();
    env.add_function("Up", Signature::new(["text"], ["upper"]));
    let inner =
        plan("function F (x) => (y);\ncomposition Reg (A) => (B) { F (x = each A) => (B = y); }");
    env.add_composition(inner);
    let p = plans_in(
        "composition C (A) => (B) { Up (text = each A) => (U = upper); Reg (A = all U) => (B = B); }",
        &env,
    )
    .pop()
    .unwrap();
    assert_eq!(p.nodes[0].callee, Callee::Function("Up".into()));
    assert_eq!(p.nodes[1].callee, Callee::Composition("Reg".into()));
    // Unknown without the environment.
    let file = parse("composition C (A) => (B) { Up (text = each A) => (B = upper); }").unwrap();
    assert!(check(&file, &Env::new()).has_errors());
}

#[test]
fn topological_order_and_fan_out() {
    // A diamond written bottom-up.
    let p = plan(
        "function F (x) => (y);\nfunction G (a, b) => (y);\ncomposition C (A) => (Z) {\n G (a = all L, b = all R) => (Z = y);\n F (x = each M) => (R = y);\n F (x = each M) => (L = y);\n F (x = all A) => (M = y);\n}",
    );
    assert_eq!(p.order, vec![NodeId(3), NodeId(1), NodeId(2), NodeId(0)]);
    let m = p.set_id("M").unwrap();
    assert_eq!(p.set(m).consumers, vec![(NodeId(1), 0), (NodeId(2), 0)]);
    assert_eq!(
        p.set(m).producer,
        Producer::Node {
            node: NodeId(3),
            output: 0
        }
    );
    // Inputs first, then produced sets in source order.
    let names: Vec<&str> = p.sets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["A", "Z", "R", "L", "M"]);
    assert_eq!(p.input_sets, vec![SetId(0)]);
}

#[test]
fn outputs_in_signature_order_and_only_bound_ones() {
    let p = plan(
        "function F (x) => (a, b, c);\ncomposition C (X) => (P, Q) { F (x = all X) => (Q = c, P = a); }",
    );
    let outs: Vec<&str> = p.nodes[0]
        .outputs
        .iter()
        .map(|o| o.param.as_str())
        .collect();
    assert_eq!(outs, ["a", "c"]);
    let q = p.set_id("Q").unwrap();
    assert_eq!(
        p.set(q).producer,
        Producer::Node {
            node: NodeId(0),
            output: 1
        }
    );
}

#[test]
fn input_passed_through_as_output() {
    let p = plan("composition Id (A) => (A) { }");
    assert_eq!(p.output_sets, p.input_sets);
    assert!(p.nodes.is_empty());
}

#[test]
fn checked_lists_function_declarations() {
    let file = parse("function F (x) => (y);\nfunction G () => ();").unwrap();
    let checked = check(&file, &Env::new());
    assert_eq!(
        checked.functions,
        vec![
            ("F".to_string(), Signature::new(["x"], ["y"])),
            ("G".to_string(), Signature::default())
        ]
    );
    assert!(checked.plans.is_empty());
}
