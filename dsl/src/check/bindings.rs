//! The bindings pass: each application's parameters, outputs and `by` clause
//! against its callee's signature, and the dataflow edges its reads add.

use super::sets::{CompositionSets, Writer};
use super::{list, Checker, Graph, HashMap};
use crate::ast::{Application, Composition};
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
            if let Some(sig) = sig {
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
            if let Some(sig) = sig {
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
