//! Table tests of the machine's transitions: each case is a composition, the
//! events fed to the machine in order, and the effects expected after each.
//!
//! Functions are bound to a real compiled (empty) module, which the machine
//! only carries in [`Effect::Compute`]; builtins to themselves. Effects are
//! written as short strings: `run CALLEE SHARD` for a compute shard, `io
//! CALLEE SHARD` for a builtin one, `trace start|finish CALLEE SHARD`,
//! `cancel`, `answer SET=[names] ...` and `fail KIND: MESSAGE`.

use std::collections::HashMap;
use std::sync::Arc;

use pappus_dsl::{Callee, Checked, Env};
use pappus_isolation::{Config, Function, Limits, OutputSet, Runtime, WasiContext};

use super::{Effect, Machine};
use crate::executor::label::shard_label;
use crate::executor::outcome::Cause;
use crate::executor::resolved::{Resolved, Target};
use crate::metrics::EventKind;
use crate::Item;

/// A module with the guest ABI's exports that reports no outputs.
const EMPTY_GUEST: &str = r#"(module
    (memory (export "memory") 1)
    (func (export "pappus_entry") (param i32) (result i32) i32.const 0))"#;

/// Binds `name` from `checked` the way the registry does, every function to
/// `function`.
fn bind(checked: &Checked, name: &str, function: &Function) -> Arc<Resolved> {
    let Some(plan) = checked.plan(name) else {
        panic!("composition `{name}` is not in the test text");
    };
    let targets = plan
        .nodes
        .iter()
        .map(|node| match &node.callee {
            Callee::Function(_) => Target::Function(function.clone()),
            Callee::Composition(inner) => Target::Composition(bind(checked, inner, function)),
            Callee::Builtin(b) => Target::Builtin(*b),
        })
        .collect();
    let labels = plan
        .nodes
        .iter()
        .map(|n| n.callee.name().to_string())
        .collect();
    let declared_outputs = plan.nodes.iter().map(|_| Vec::new()).collect();
    Arc::new(Resolved {
        plan: plan.clone(),
        targets,
        labels,
        declared_outputs,
        recent: plan.nodes.iter().map(|_| Default::default()).collect(),
    })
}

/// One event fed to the machine.
enum Event {
    Start,
    /// The shard whose description is `.0` finished with these outputs
    /// (`(output, item names)`); every item has key 0 and empty data.
    Done(
        &'static str,
        &'static [(&'static str, &'static [&'static str])],
    ),
    /// The shard whose description is `.0` failed.
    Failed(&'static str),
    /// A result for a shard that was never launched.
    Unknown(usize),
}

struct Case {
    name: &'static str,
    text: &'static str,
    /// Root inputs, in the root composition's input order.
    inputs: &'static [&'static [&'static str]],
    trace: bool,
    steps: &'static [(Event, &'static [&'static str])],
}

/// Drives one case, naming the case and step of any mismatch.
struct Harness {
    machine: Machine,
    /// Shards in flight, by description.
    shards: HashMap<String, usize>,
}

impl Harness {
    fn describe(&mut self, effects: Vec<Effect>) -> Vec<String> {
        effects
            .into_iter()
            .map(|effect| match effect {
                Effect::Compute {
                    shard,
                    resolved,
                    node,
                    units,
                    ..
                } => self.launched("run", shard, &resolved, node, &units),
                Effect::Builtin {
                    shard,
                    builtin,
                    units,
                    ..
                } => {
                    let text = format!("io {} {}", builtin.name(), units_text(&units));
                    self.shards.insert(text.clone(), shard);
                    text
                }
                Effect::Trace {
                    kind,
                    application,
                    shard,
                    ..
                } => {
                    let kind = match kind {
                        EventKind::ShardStarted => "start",
                        EventKind::ShardFinished => "finish",
                    };
                    format!("trace {kind} {application} {shard}")
                }
                Effect::Cancel => "cancel".into(),
                Effect::Answer(Ok(sets)) => {
                    let sets: Vec<String> = sets
                        .iter()
                        .map(|(name, items)| {
                            let mut names: Vec<&str> =
                                items.iter().map(|i| i.name.as_str()).collect();
                            names.sort_unstable();
                            format!("{name}=[{}]", names.join(","))
                        })
                        .collect();
                    format!("answer {}", sets.join(" "))
                }
                Effect::Answer(Err(e)) => format!("fail {}: {e}", e.kind()),
            })
            .collect()
    }

    fn launched(
        &mut self,
        what: &str,
        shard: usize,
        resolved: &Resolved,
        node: usize,
        units: &[crate::executor::shards::Unit],
    ) -> String {
        let callee = resolved.plan.nodes[node].callee.name();
        let text = format!("{what} {callee} {}", shard_label(resolved, node, units));
        self.shards.insert(text.clone(), shard);
        text
    }

    fn shard(&mut self, case: &str, description: &str) -> usize {
        match self.shards.remove(description) {
            Some(shard) => shard,
            None => panic!(
                "{case}: no shard `{description}` in flight (in flight: {:?})",
                self.shards.keys()
            ),
        }
    }
}

/// Item names of every unit, for builtin shards (which have no plan label).
fn units_text(units: &[crate::executor::shards::Unit]) -> String {
    let names: Vec<&str> = units
        .iter()
        .flat_map(|u| u.iter().map(|i| i.name.as_str()))
        .collect();
    names.join(",")
}

fn items(names: &[&str]) -> Vec<Item> {
    names.iter().map(|n| Item::new(*n, 0, "")).collect()
}

const CASES: &[Case] = &[
    Case {
        name: "a `named` consumer waits for the whole set, then runs once per name",
        text: "function f (in) => (out);
               function n (in) => (out);
               composition C (A) => (Z) {
                   f (in = each A) => (B = out);
                   n (in = named B) => (Z = out);
               }",
        inputs: &[&["a1", "a2"]],
        trace: false,
        steps: &[
            (
                Event::Start,
                &[r#"run f in="a1" (key 0)"#, r#"run f in="a2" (key 0)"#],
            ),
            (
                Event::Done(r#"run f in="a1" (key 0)"#, &[("out", &["y", "x"])]),
                &[],
            ),
            (
                Event::Done(r#"run f in="a2" (key 0)"#, &[("out", &["x"])]),
                &[r#"run n in name "x""#, r#"run n in name "y""#],
            ),
            (Event::Done(r#"run n in name "x""#, &[("out", &["z1"])]), &[]),
            (
                Event::Done(r#"run n in name "y""#, &[("out", &["z2"])]),
                &["answer Z=[z1,z2]"],
            ),
        ],
    },
    Case {
        name: "each item of a streamed set launches as soon as it is written",
        text: "function f (in) => (out);
               function g (in) => (out);
               composition C (A) => (Z) {
                   f (in = each A) => (B = out);
                   g (in = each B) => (Z = out);
               }",
        inputs: &[&["a1", "a2"]],
        trace: false,
        steps: &[
            (
                Event::Start,
                &[r#"run f in="a1" (key 0)"#, r#"run f in="a2" (key 0)"#],
            ),
            (
                Event::Done(r#"run f in="a1" (key 0)"#, &[("out", &["b1"])]),
                &[r#"run g in="b1" (key 0)"#],
            ),
            (
                Event::Done(r#"run g in="b1" (key 0)"#, &[("out", &["z1"])]),
                &[],
            ),
            (
                Event::Done(r#"run f in="a2" (key 0)"#, &[("out", &[])]),
                &["answer Z=[z1]"],
            ),
        ],
    },
    Case {
        name: "a chain answers when its last shard finishes",
        text: "function f (in) => (out);
               composition C (A) => (Z) {
                   f (in = each A) => (Z = out);
               }",
        inputs: &[&["a1"]],
        trace: false,
        steps: &[
            (Event::Start, &[r#"run f in="a1" (key 0)"#]),
            (
                Event::Done(r#"run f in="a1" (key 0)"#, &[("out", &["z2", "z1"])]),
                &["answer Z=[z1,z2]"],
            ),
        ],
    },
    Case {
        name: "an `all` consumer waits for the whole set",
        text: "function f (in) => (out);
               function h (in) => (out);
               composition C (A) => (Z) {
                   f (in = each A) => (B = out);
                   h (in = all B) => (Z = out);
               }",
        inputs: &[&["a1", "a2"]],
        trace: false,
        steps: &[
            (
                Event::Start,
                &[r#"run f in="a1" (key 0)"#, r#"run f in="a2" (key 0)"#],
            ),
            (
                Event::Done(r#"run f in="a1" (key 0)"#, &[("out", &["b1"])]),
                &[],
            ),
            (
                Event::Done(r#"run f in="a2" (key 0)"#, &[("out", &["b2"])]),
                &["run h in all (2 items)"],
            ),
            (
                Event::Done("run h in all (2 items)", &[("out", &["z"])]),
                &["answer Z=[z]"],
            ),
        ],
    },
    Case {
        name: "an empty non-optional input skips the application and answers empty sets",
        text: "function f (in) => (out);
               function g (in) => (out);
               composition C (A) => (Y, Z) {
                   f (in = all A) => (B = out);
                   g (in = each B) => (Y = out);
                   f (in = each A) => (Z = out);
               }",
        inputs: &[&[]],
        trace: false,
        steps: &[(Event::Start, &["answer Y=[] Z=[]"])],
    },
    Case {
        name: "a failed shard cancels, and the answer waits for running sandboxes",
        text: "function f (in) => (out);
               composition C (A) => (Z) {
                   f (in = each A) => (Z = out);
               }",
        inputs: &[&["a1", "a2"]],
        trace: false,
        steps: &[
            (
                Event::Start,
                &[r#"run f in="a1" (key 0)"#, r#"run f in="a2" (key 0)"#],
            ),
            (Event::Failed(r#"run f in="a1" (key 0)"#), &["cancel"]),
            (
                Event::Done(r#"run f in="a2" (key 0)"#, &[("out", &["z2"])]),
                &[r#"fail failure: composition `C` failed in application f, shard in="a1" (key 0): trap"#],
            ),
        ],
    },
    Case {
        name: "a nested composition runs once per shard and answers its caller's shard",
        text: "function f (in) => (out);
               composition Inner (x) => (y) {
                   f (in = each x) => (y = out);
               }
               composition Outer (A) => (Z) {
                   Inner (x = each A) => (Z = y);
               }",
        inputs: &[&["a1"]],
        trace: false,
        steps: &[
            (Event::Start, &[r#"run f in="a1" (key 0)"#]),
            (
                Event::Done(r#"run f in="a1" (key 0)"#, &[("out", &["z1"])]),
                &["answer Z=[z1]"],
            ),
        ],
    },
    Case {
        name: "builtin shards go to the I/O runtime; trace brackets every shard",
        text: "composition C (U) => (O) {
                   fetch (uris = each U) => (O = objects);
               }",
        inputs: &[&["u1"]],
        trace: true,
        steps: &[
            (
                Event::Start,
                &[r#"trace start fetch uris="u1" (key 0)"#, "io fetch u1"],
            ),
            (
                Event::Done("io fetch u1", &[("objects", &["o1"])]),
                &[r#"trace finish fetch uris="u1" (key 0)"#, "answer O=[o1]"],
            ),
        ],
    },
    Case {
        name: "a late builtin result after a failed invocation answered is ignored",
        text: "function f (in) => (out);
               composition C (A, U) => (Z, O) {
                   f (in = each A) => (Z = out);
                   fetch (uris = each U) => (O = objects);
               }",
        inputs: &[&["a1"], &["u1"]],
        trace: false,
        steps: &[
            (Event::Start, &[r#"run f in="a1" (key 0)"#, "io fetch u1"]),
            (
                Event::Failed(r#"run f in="a1" (key 0)"#),
                &[
                    "cancel",
                    r#"fail failure: composition `C` failed in application f, shard in="a1" (key 0): trap"#,
                ],
            ),
            (Event::Done("io fetch u1", &[("objects", &["o1"])]), &[]),
        ],
    },
    Case {
        name: "a result for an unknown shard fails the invocation naming the invariant",
        text: "function f (in) => (out);
               composition C (A) => (Z) {
                   f (in = each A) => (Z = out);
               }",
        inputs: &[&["a1"]],
        trace: false,
        steps: &[
            (Event::Start, &[r#"run f in="a1" (key 0)"#]),
            (Event::Unknown(99), &["cancel"]),
            (
                Event::Done(r#"run f in="a1" (key 0)"#, &[("out", &["z1"])]),
                &["fail internal: internal error: broken invariant: a finishing shard is in flight"],
            ),
        ],
    },
    Case {
        name: "a second start fails the invocation instead of running it twice",
        text: "composition C (A) => (Z) {
                   fetch (uris = each A) => (Z = objects);
               }",
        inputs: &[&["u1"]],
        trace: false,
        steps: &[
            (Event::Start, &["io fetch u1"]),
            (
                Event::Start,
                &[
                    "cancel",
                    "fail internal: internal error: broken invariant: an invocation is started once",
                ],
            ),
            (Event::Done("io fetch u1", &[("objects", &["o1"])]), &[]),
        ],
    },
];

#[test]
fn transitions() {
    let runtime = Runtime::new(Config::new().pool_size(1)).expect("a sandbox runtime starts");
    let function = runtime
        .compile("f", EMPTY_GUEST.as_bytes(), Limits::default())
        .expect("the empty guest compiles");
    for case in CASES {
        let file = pappus_dsl::parse(case.text)
            .unwrap_or_else(|d| panic!("{}: test text does not parse: {d:?}", case.name));
        let checked = pappus_dsl::check(&file, &Env::new());
        assert!(
            !checked.has_errors(),
            "{}: test text has errors: {:?}",
            case.name,
            checked.diagnostics
        );
        let root = checked
            .plans
            .last()
            .map(|p| p.name.clone())
            .unwrap_or_default();
        let resolved = bind(&checked, &root, &function);
        let inputs = case.inputs.iter().map(|names| items(names)).collect();
        let mut harness = Harness {
            machine: Machine::new(resolved, inputs, case.trace, WasiContext::new(0, 0)),
            shards: HashMap::new(),
        };
        for (index, (event, expected)) in case.steps.iter().enumerate() {
            let effects = match event {
                Event::Start => harness.machine.start(),
                Event::Done(shard, outputs) => {
                    let shard = harness.shard(case.name, shard);
                    let outputs = outputs
                        .iter()
                        .map(|(name, names)| OutputSet {
                            name: (*name).to_string(),
                            items: items(names),
                        })
                        .collect();
                    harness.machine.shard_done(shard, Ok(outputs))
                }
                Event::Failed(shard) => {
                    let shard = harness.shard(case.name, shard);
                    let cause = Cause {
                        cause: "trap".into(),
                        kind: "trap",
                        refused: None,
                        stderr: String::new(),
                    };
                    harness.machine.shard_done(shard, Err(cause))
                }
                Event::Unknown(shard) => harness.machine.shard_done(*shard, Ok(Vec::new())),
            };
            let got = harness.describe(effects);
            assert_eq!(
                got, *expected,
                "{}: step {} gave the wrong effects",
                case.name, index
            );
        }
        assert!(
            harness.shards.is_empty(),
            "{}: shards left in flight: {:?}",
            case.name,
            harness.shards.keys()
        );
    }
}

#[test]
fn launched_shards_are_counted_once() {
    let runtime = Runtime::new(Config::new().pool_size(1)).expect("a sandbox runtime starts");
    let function = runtime
        .compile("f", EMPTY_GUEST.as_bytes(), Limits::default())
        .expect("the empty guest compiles");
    let file = pappus_dsl::parse(
        "function f (in) => (out);
         composition C (A) => (Z) { f (in = each A) => (Z = out); }",
    )
    .expect("parses");
    let checked = pappus_dsl::check(&file, &Env::new());
    let resolved = bind(&checked, "C", &function);
    let mut machine = Machine::new(
        resolved,
        vec![items(&["a", "b", "c"])],
        false,
        WasiContext::new(0, 0),
    );
    assert_eq!(machine.start().len(), 3);
    assert_eq!(machine.take_launched(), 3);
    assert_eq!(machine.take_launched(), 0);
}
