//! The checker: name resolution, dataflow checks and plan construction.
//!
//! Every check runs even after earlier ones failed, so one call reports every
//! problem; later checks work around earlier failures (an unknown callee still
//! produces its output sets) to avoid cascades of follow-on errors.

mod graph;

use std::collections::HashMap as StdHashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;
use std::sync::Arc;

use crate::ast::{self, Application, Composition, Ident, Item};
use crate::builtins::Builtin;
use crate::{
    Callee, Checked, Diagnostic, Env, Join, Mode, Node, NodeId, NodeInput, NodeOutput, Plan,
    Producer, SetDef, SetId, Signature,
};
use graph::Graph;

/// FxHash: the checker hashes many short names; SipHash's DoS resistance buys
/// nothing here (a hostile file can only slow its own check) and costs a lot.
#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(i)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn finish(&self) -> u64 {
        // The multiply leaves the low bits (the bucket index) weak: mix them.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^ (h >> 33)
    }
}

type HashMap<K, V> = StdHashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Names seen so far in one small list (parameters of one application): a linear
/// scan of an inline array while short (no allocation), a hash set beyond that so
/// huge lists stay linear.
#[derive(Default)]
struct Seen<'a> {
    few: [&'a str; 8],
    len: usize,
    many: HashMap<&'a str, ()>,
}

impl<'a> Seen<'a> {
    /// Records `name`; returns whether it was already there.
    fn insert(&mut self, name: &'a str) -> bool {
        if self.contains(name) {
            return true;
        }
        if self.len < self.few.len() {
            self.few[self.len] = name;
            self.len += 1;
        } else {
            self.many.insert(name, ());
        }
        false
    }

    fn contains(&self, name: &str) -> bool {
        self.few[..self.len].contains(&name) || self.many.contains_key(name)
    }
}

/// Checks a parsed file against `env` (registered functions and compositions; the
/// builtins are always known), reporting every error and warning at once.
///
/// A composition may call the builtins, functions declared anywhere in the file or
/// registered in `env`, compositions defined *earlier* in the file, and compositions
/// registered in `env`. Plans are returned only when there is no error at all.
pub fn check(file: &ast::File, env: &Env) -> Checked {
    let mut cx = Checker {
        file,
        env,
        diags: Vec::new(),
        functions: HashMap::default(),
        compositions: HashMap::default(),
    };
    cx.definitions();
    let comps: Vec<&Composition> = file
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Composition(c) => Some(c),
            Item::Function(_) => None,
        })
        .collect();
    let calls = cx.call_graph(&comps);
    let mut plans = Vec::new();
    for (index, comp) in comps.iter().enumerate() {
        if let Some(plan) = cx.composition(index, comp, &calls, &comps) {
            plans.push(Arc::new(plan));
        }
    }
    let functions = file
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Function(f) => Some((f.name.name.clone(), signature(&f.inputs, &f.outputs))),
            Item::Composition(_) => None,
        })
        .collect();
    let mut diagnostics = cx.diags;
    diagnostics.sort_by_key(|d| d.span.start);
    let mut checked = Checked {
        diagnostics,
        plans,
        functions,
    };
    if checked.has_errors() {
        checked.plans.clear();
    }
    checked
}

fn signature(inputs: &[Ident], outputs: &[Ident]) -> Signature {
    Signature {
        inputs: inputs.iter().map(|i| i.name.clone()).collect(),
        outputs: outputs.iter().map(|i| i.name.clone()).collect(),
    }
}

fn list(names: &[String]) -> String {
    format!("({})", names.join(", "))
}

/// What a callee name resolved to, with its signature (shared, as one callee is
/// typically applied many times).
#[derive(Clone)]
struct Resolved {
    kind: Kind,
    sig: Rc<Signature>,
}

#[derive(Clone, Copy)]
enum Kind {
    Builtin(Builtin),
    Function,
    Composition,
}

impl Resolved {
    fn new(kind: Kind, sig: Signature) -> Self {
        Resolved {
            kind,
            sig: Rc::new(sig),
        }
    }
}

struct Checker<'a> {
    file: &'a ast::File,
    env: &'a Env,
    diags: Vec<Diagnostic>,
    /// Functions declared in the file (first declaration wins).
    functions: HashMap<&'a str, Signature>,
    /// Compositions defined in the file: name -> index among compositions (first wins).
    compositions: HashMap<&'a str, usize>,
}

/// How a composition set is written.
#[derive(Clone, Copy)]
enum Writer {
    Input(usize),
    App(usize),
}

struct SetInfo<'a> {
    name: &'a str,
    writer: Writer,
    /// The identifier that defines the set.
    def: &'a Ident,
    read: bool,
}

impl<'a> Checker<'a> {
    fn error(&mut self, span: crate::Span, message: String) -> &mut Diagnostic {
        self.diags.push(Diagnostic::error(span, message));
        let last = self.diags.len() - 1;
        &mut self.diags[last]
    }

    /// Duplicate definitions, builtin shadowing and duplicate names in signatures.
    fn definitions(&mut self) {
        let file = self.file;
        let mut seen: HashMap<&str, &str> = HashMap::default();
        let mut comp_index = 0;
        for item in &file.items {
            let (name, kind, inputs, outputs) = match item {
                Item::Function(f) => (&f.name, "function", &f.inputs, &f.outputs),
                Item::Composition(c) => (&c.name, "composition", &c.inputs, &c.outputs),
            };
            if let Some(b) = Builtin::from_name(&name.name) {
                let sig = b.signature();
                self.error(
                    name.span,
                    format!("{kind} `{}` shadows the builtin of that name", name.name),
                )
                .notes
                .push(format!(
                    "the builtin is `{b} {} => {}`; choose another name",
                    list(&sig.inputs),
                    list(&sig.outputs)
                ));
            }
            if let Some(first) = seen.get(name.name.as_str()) {
                self.error(name.span, format!("`{}` is defined twice", name.name))
                    .notes
                    .push(format!("it was first defined as a {first}"));
            } else {
                seen.insert(&name.name, kind);
                match item {
                    Item::Function(f) => {
                        self.functions
                            .insert(&f.name.name, signature(&f.inputs, &f.outputs));
                    }
                    Item::Composition(c) => {
                        self.compositions.insert(&c.name.name, comp_index);
                    }
                }
            }
            if let Item::Composition(_) = item {
                comp_index += 1;
            }
            let what = if kind == "function" {
                ["parameter", "output"]
            } else {
                ["input", "output"]
            };
            for (ids, what) in [(inputs, what[0]), (outputs, what[1])] {
                // name -> whether a repetition was already reported (once per name)
                let mut names: HashMap<&str, bool> = HashMap::default();
                for id in ids.iter() {
                    let first = !names.contains_key(id.name.as_str());
                    let reported = names.entry(&id.name).or_insert(false);
                    if !first && !std::mem::replace(reported, true) {
                        self.error(
                            id.span,
                            format!("{what} `{}` of `{}` is declared twice", id.name, name.name),
                        );
                    }
                }
            }
        }
    }

    /// Calls between compositions of the file (edges to file compositions only).
    fn call_graph(&self, comps: &[&'a Composition]) -> Graph {
        let mut g = Graph::new(comps.len());
        for (i, c) in comps.iter().enumerate() {
            for app in &c.body {
                if Builtin::from_name(&app.callee.name).is_some() {
                    continue;
                }
                if let Some(&j) = self.compositions.get(app.callee.name.as_str()) {
                    g.add_edge(i, j, 0);
                }
            }
        }
        g.finish();
        g
    }

    fn resolve(
        &mut self,
        index: usize,
        comp: &Composition,
        app: &Application,
        calls: &Graph,
        comps: &[&Composition],
    ) -> Option<Resolved> {
        let name = app.callee.name.as_str();
        if let Some(b) = Builtin::from_name(name) {
            return Some(Resolved::new(Kind::Builtin(b), b.signature()));
        }
        if let Some(&j) = self.compositions.get(name) {
            let callee = comps[j];
            if j == index {
                self.error(
                    app.callee.span,
                    format!("composition `{name}` calls itself"),
                )
                .notes
                .push("compositions cannot be recursive".to_string());
            } else if j > index {
                if let Some(path) = calls.path(j, index) {
                    let mut names = vec![comp.name.name.as_str()];
                    names.extend(path.iter().map(|&k| comps[k].name.name.as_str()));
                    self.error(
                        app.callee.span,
                        format!(
                            "recursion between compositions: {}",
                            names
                                .iter()
                                .map(|n| format!("`{n}`"))
                                .collect::<Vec<_>>()
                                .join(" -> ")
                        ),
                    )
                    .notes
                    .push("compositions cannot be recursive".to_string());
                } else {
                    self.error(
                        app.callee.span,
                        format!(
                            "composition `{name}` is used before its definition in `{}`",
                            comp.name.name
                        ),
                    )
                    .notes
                    .push(
                        "a composition may only call compositions defined earlier in the file"
                            .to_string(),
                    );
                }
            }
            return Some(Resolved::new(
                Kind::Composition,
                signature(&callee.inputs, &callee.outputs),
            ));
        }
        if let Some(sig) = self.functions.get(name) {
            return Some(Resolved::new(Kind::Function, sig.clone()));
        }
        if let Some(plan) = self.env.composition(name) {
            return Some(Resolved::new(Kind::Composition, plan.signature()));
        }
        if let Some(sig) = self.env.function(name) {
            return Some(Resolved::new(Kind::Function, sig.clone()));
        }
        self.error(app.callee.span, format!("unknown function `{name}`"))
            .notes
            .push(format!(
                "declare it with `function {name} (...) => (...);`, register it, or define a composition `{name}` earlier in the file"
            ));
        None
    }

    /// Checks one composition; returns its plan if it has no error of its own.
    fn composition(
        &mut self,
        index: usize,
        comp: &'a Composition,
        calls: &Graph,
        comps: &[&Composition],
    ) -> Option<Plan> {
        let errors_before = self.diags.iter().filter(|d| d.is_error()).count();
        let cname = comp.name.name.as_str();
        // Sized up front: growing large vectors and tables is a measurable part of
        // checking big files.
        let produced: usize = comp.body.iter().map(|a| a.outputs.len()).sum();
        let reads: usize = comp.body.iter().map(|a| a.inputs.len()).sum();
        let mut sets: Vec<SetInfo<'a>> = Vec::with_capacity(comp.inputs.len() + produced);
        let mut by_name: HashMap<&'a str, usize> =
            HashMap::with_capacity_and_hasher(sets.capacity(), Default::default());

        // Sets written by the composition inputs and by every application.
        for (i, id) in comp.inputs.iter().enumerate() {
            if by_name.contains_key(id.name.as_str()) {
                continue; // reported as a duplicate input
            }
            by_name.insert(&id.name, sets.len());
            sets.push(SetInfo {
                name: &id.name,
                writer: Writer::Input(i),
                def: id,
                read: false,
            });
        }
        for (a, app) in comp.body.iter().enumerate() {
            for out in &app.outputs {
                if let Some(&first) = by_name.get(out.set.name.as_str()) {
                    let note = match sets[first].writer {
                        Writer::Input(_) => format!("`{}` is an input of `{cname}`", out.set.name),
                        Writer::App(fa) => format!(
                            "it is first assigned by the application of `{}`",
                            comp.body[fa].callee.name
                        ),
                    };
                    self.error(
                        out.set.span,
                        format!("set `{}` is assigned twice", out.set.name),
                    )
                    .notes
                    .push(note);
                    continue;
                }
                by_name.insert(&out.set.name, sets.len());
                sets.push(SetInfo {
                    name: &out.set.name,
                    writer: Writer::App(a),
                    def: &out.set,
                    read: false,
                });
            }
        }

        // Applications: callee, parameters, outputs, joins; dataflow edges.
        let mut flow = Graph::with_capacity(comp.body.len(), reads);
        let mut resolved: Vec<Option<Resolved>> = Vec::with_capacity(comp.body.len());
        // Clean resolutions per callee name; failed ones are redone so every
        // offending application gets its diagnostic.
        let mut cache: HashMap<&'a str, Resolved> = HashMap::default();
        for (a, app) in comp.body.iter().enumerate() {
            let callee = match cache.get(app.callee.name.as_str()) {
                Some(r) => Some(r.clone()),
                None => {
                    let before = self.diags.len();
                    let r = self.resolve(index, comp, app, calls, comps);
                    if let (Some(r), true) = (&r, self.diags.len() == before) {
                        cache.insert(&app.callee.name, r.clone());
                    }
                    r
                }
            };
            let sig = callee.as_ref().map(|r| Rc::clone(&r.sig));
            let fname = app.callee.name.as_str();

            let mut bound = Seen::default();
            for b in &app.inputs {
                if let Some(sig) = &sig {
                    if !sig.inputs.contains(&b.param.name) {
                        self.error(
                            b.param.span,
                            format!("`{fname}` has no parameter `{}`", b.param.name),
                        )
                        .notes
                        .push(format!("`{fname}` takes {}", list(&sig.inputs)));
                    }
                }
                if bound.insert(&b.param.name) {
                    self.error(
                        b.param.span,
                        format!("parameter `{}` is bound twice", b.param.name),
                    );
                }
                match by_name.get(b.set.name.as_str()) {
                    Some(&s) => {
                        sets[s].read = true;
                        if let Writer::App(producer) = sets[s].writer {
                            flow.add_edge(producer, a, s);
                        }
                    }
                    None => {
                        self.error(
                            b.set.span,
                            format!("set `{}` is read but never produced", b.set.name),
                        )
                        .notes
                        .push(format!(
                            "it is not an input of `{cname}` and no application assigns it"
                        ));
                    }
                }
            }
            if let Some(sig) = &sig {
                for param in &sig.inputs {
                    if !bound.contains(param) {
                        self.error(
                            app.callee.span,
                            format!("missing input `{param}` of `{fname}`"),
                        )
                        .notes
                        .push(format!("`{fname}` takes {}", list(&sig.inputs)));
                    }
                }
            }

            let mut outs = Seen::default();
            for b in &app.outputs {
                if let Some(sig) = &sig {
                    if !sig.outputs.contains(&b.output.name) {
                        self.error(
                            b.output.span,
                            format!("`{fname}` has no output `{}`", b.output.name),
                        )
                        .notes
                        .push(format!("`{fname}` outputs {}", list(&sig.outputs)));
                    }
                }
                if outs.insert(&b.output.name) {
                    self.error(
                        b.output.span,
                        format!("output `{}` is bound twice", b.output.name),
                    );
                }
            }

            if let Some(join) = &app.join {
                let mut named = Seen::default();
                for id in join.sets() {
                    let keyed = app
                        .inputs
                        .iter()
                        .filter(|b| b.set.name == id.name && b.mode == Mode::Keyed)
                        .count();
                    if named.insert(&id.name) {
                        self.error(id.span, format!("set `{}` appears twice in `by`", id.name));
                    } else if keyed == 0 {
                        let d = self.error(
                            id.span,
                            format!(
                                "`by` names `{}`, which is not a keyed input of this application",
                                id.name
                            ),
                        );
                        if let Some(b) = app.inputs.iter().find(|b| b.set.name == id.name) {
                            d.notes.push(format!(
                                "`{}` is bound with `{}`; `by` combines `keyed` inputs only",
                                id.name,
                                b.mode.keyword()
                            ));
                        } else {
                            d.notes
                                .push("`by` names composition sets bound with `keyed`".to_string());
                        }
                    } else if keyed > 1 {
                        self.error(
                            id.span,
                            format!(
                                "`by` names `{}`, which is bound to several keyed inputs",
                                id.name
                            ),
                        )
                        .notes
                        .push("bind each set to at most one keyed input".to_string());
                    }
                }
            }
            resolved.push(callee);
        }

        // Composition outputs.
        for id in &comp.outputs {
            match by_name.get(id.name.as_str()) {
                Some(&s) => sets[s].read = true,
                None => {
                    self.error(
                        id.span,
                        format!("output `{}` of `{cname}` is never produced", id.name),
                    )
                    .notes
                    .push("assign it in an application, e.g. `=> (NAME = out)`".to_string());
                }
            }
        }

        // Cycles.
        flow.finish();
        for scc in flow.cyclic_components() {
            let start = scc[0];
            let labels = flow.cycle_labels(start, &scc);
            let mut names: Vec<String> = labels
                .iter()
                .map(|&s| format!("`{}`", sets[s].name))
                .collect();
            if let Some(first) = names.first().cloned() {
                names.push(first);
            }
            let message = if labels.len() == 1 {
                format!(
                    "cycle through set `{}`: the application reads its own output",
                    sets[labels[0]].name
                )
            } else {
                format!("cycle through sets {}", names.join(" -> "))
            };
            let apps: Vec<String> = scc
                .iter()
                .map(|&a| format!("`{}`", comp.body[a].callee.name))
                .collect();
            self.error(comp.body[start].span, message)
                .notes
                .push(format!("applications on the cycle: {}", apps.join(", ")));
        }

        // Warnings: sets nobody uses.
        for set in &sets {
            if set.read {
                continue;
            }
            let d = match set.writer {
                Writer::Input(_) => Diagnostic::warning(
                    set.def.span,
                    format!("input `{}` of `{cname}` is never used", set.name),
                ),
                Writer::App(_) => {
                    Diagnostic::warning(set.def.span, format!("set `{}` is never used", set.name))
                        .with_note(format!(
                            "no application reads it and it is not an output of `{cname}`"
                        ))
                }
            };
            self.diags.push(d);
        }

        let errors_after = self.diags.iter().filter(|d| d.is_error()).count();
        if errors_after > errors_before {
            return None;
        }
        let order = flow.topological_order()?;
        Some(build(comp, &sets, &by_name, &resolved, order))
    }
}

/// Builds the plan of an error-free composition.
fn build(
    comp: &Composition,
    sets: &[SetInfo<'_>],
    by_name: &HashMap<&str, usize>,
    resolved: &[Option<Resolved>],
    order: Vec<usize>,
) -> Plan {
    let mut defs: Vec<SetDef> = sets
        .iter()
        .map(|s| SetDef {
            name: s.name.to_string(),
            producer: Producer::Input(0),
            consumers: Vec::new(),
        })
        .collect();
    for (i, s) in sets.iter().enumerate() {
        if let Writer::Input(k) = s.writer {
            defs[i].producer = Producer::Input(k);
        }
    }
    let mut nodes = Vec::with_capacity(comp.body.len());
    for (a, (app, callee)) in comp.body.iter().zip(resolved).enumerate() {
        let node_id = NodeId(a);
        let empty = Signature::default();
        let (callee, sig) = match callee {
            Some(r) => (
                match r.kind {
                    Kind::Builtin(b) => Callee::Builtin(b),
                    Kind::Function => Callee::Function(app.callee.name.clone()),
                    Kind::Composition => Callee::Composition(app.callee.name.clone()),
                },
                &*r.sig,
            ),
            None => (Callee::Function(app.callee.name.clone()), &empty),
        };
        let position = |names: &[String], n: &str| names.iter().position(|p| p == n);
        let mut ins: Vec<&ast::InputBinding> = app.inputs.iter().collect();
        ins.sort_by_key(|b| position(&sig.inputs, &b.param.name));
        let inputs: Vec<NodeInput> = ins
            .iter()
            .map(|b| NodeInput {
                param: b.param.name.clone(),
                set: SetId(by_name.get(b.set.name.as_str()).copied().unwrap_or(0)),
                mode: b.mode,
                optional: b.optional,
            })
            .collect();
        for (k, input) in inputs.iter().enumerate() {
            defs[input.set.0].consumers.push((node_id, k));
        }
        let mut outs: Vec<(usize, &ast::OutputBinding)> = app.outputs.iter().enumerate().collect();
        outs.sort_by_key(|(_, b)| position(&sig.outputs, &b.output.name));
        let mut outputs = Vec::with_capacity(outs.len());
        for (k, (_, b)) in outs.iter().enumerate() {
            let set = by_name.get(b.set.name.as_str()).copied().unwrap_or(0);
            defs[set].producer = Producer::Node {
                node: node_id,
                output: k,
            };
            outputs.push(NodeOutput {
                param: b.output.name.clone(),
                set: SetId(set),
            });
        }
        let keyed_index = |id: &Ident| {
            ins.iter()
                .position(|b| b.set.name == id.name && b.mode == Mode::Keyed)
                .unwrap_or(0)
        };
        let join = app.join.as_ref().map(|j| Join {
            first: keyed_index(&j.first),
            rest: j.rest.iter().map(|(k, s)| (*k, keyed_index(s))).collect(),
        });
        nodes.push(Node {
            callee,
            inputs,
            outputs,
            join,
            span: app.span,
        });
    }
    let ids = |names: &[Ident]| -> Vec<SetId> {
        names
            .iter()
            .map(|n| SetId(by_name.get(n.name.as_str()).copied().unwrap_or(0)))
            .collect()
    };
    Plan {
        name: comp.name.name.clone(),
        inputs: comp.inputs.iter().map(|i| i.name.clone()).collect(),
        outputs: comp.outputs.iter().map(|i| i.name.clone()).collect(),
        sets: defs,
        nodes,
        order: order.into_iter().map(NodeId).collect(),
        input_sets: ids(&comp.inputs),
        output_sets: ids(&comp.outputs),
    }
}
