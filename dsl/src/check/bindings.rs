//! The bindings pass: each application's parameters, outputs and `by` clause
//! against its callee's signature, and the dataflow edges its reads add.

use super::sets::{CompositionSets, Writer};
use super::{list, Checker, Graph, HashMap};
use crate::ast::{Application, Composition, Ident};
use crate::{Mode, Signature};

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

impl<'a> Checker<'a> {
    /// Checks application `a` of `comp` against `sig` (its callee's signature,
    /// `None` if the callee is unknown), marks the sets it reads and adds an
    /// edge to `flow` from each application whose output it reads.
    pub(super) fn application(
        &mut self,
        comp: &Composition,
        a: usize,
        sig: Option<&Signature>,
        sets: &mut CompositionSets<'_>,
        flow: &mut Graph,
    ) {
        let app = &comp.body[a];
        self.inputs(comp, a, sig, sets, flow);
        self.outputs(app, sig);
        self.join(app);
    }

    /// Input bindings: known and bound once, reading a set that exists; then
    /// the callee's parameters left unbound.
    fn inputs(
        &mut self,
        comp: &Composition,
        a: usize,
        sig: Option<&Signature>,
        sets: &mut CompositionSets<'_>,
        flow: &mut Graph,
    ) {
        let app = &comp.body[a];
        let fname = app.callee.name.as_str();
        let mut bound = Seen::default();
        for b in &app.inputs {
            let params = sig.map(|s| &s.inputs[..]);
            self.bound_once(fname, &b.param, params, &mut bound, ["parameter", "takes"]);
            match sets.get(&b.set.name) {
                Some(s) => {
                    sets.sets[s].read = true;
                    if let Writer::App(producer) = sets.sets[s].writer {
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
                        "it is not an input of `{}` and no application assigns it",
                        comp.name.name
                    ));
                }
            }
        }
        if let Some(sig) = sig {
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
    }

    /// Output bindings: known outputs of the callee, each bound once.
    fn outputs(&mut self, app: &Application, sig: Option<&Signature>) {
        let fname = app.callee.name.as_str();
        let mut outs = Seen::default();
        for b in &app.outputs {
            let outputs = sig.map(|s| &s.outputs[..]);
            self.bound_once(fname, &b.output, outputs, &mut outs, ["output", "outputs"]);
        }
    }

    /// One side of a binding to `fname`: `id` must be one of `known` (the
    /// callee's parameters or outputs; `None` if the callee is unknown) and be
    /// bound once in this application. `words` are the noun for `id` and the
    /// verb listing `known` (`["parameter", "takes"]`).
    fn bound_once<'n>(
        &mut self,
        fname: &str,
        id: &'n Ident,
        known: Option<&[String]>,
        seen: &mut Seen<'n>,
        words: [&str; 2],
    ) {
        let [noun, verb] = words;
        if let Some(known) = known {
            if !known.contains(&id.name) {
                self.error(id.span, format!("`{fname}` has no {noun} `{}`", id.name))
                    .notes
                    .push(format!("`{fname}` {verb} {}", list(known)));
            }
        }
        if seen.insert(&id.name) {
            self.error(id.span, format!("{noun} `{}` is bound twice", id.name));
        }
    }

    /// The `by` clause: each set named once, and bound to exactly one keyed input.
    fn join(&mut self, app: &Application) {
        let Some(join) = &app.join else {
            return;
        };
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
}
