//! The resolution pass: what each callee name means, and calls between the
//! file's compositions (no recursion, no forward calls).

use std::rc::Rc;

use super::{signature, Checker, Graph, HashMap};
use crate::ast::{Application, Composition};
use crate::builtins::Builtin;
use crate::Signature;

/// What a callee name resolved to, with its signature (shared, as one callee is
/// typically applied many times).
#[derive(Clone)]
pub(super) struct Resolved {
    pub(super) kind: Kind,
    pub(super) sig: Rc<Signature>,
}

#[derive(Clone, Copy)]
pub(super) enum Kind {
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

impl<'a> Checker<'a> {
    /// Calls between compositions of the file (edges to file compositions only).
    pub(super) fn call_graph(&self, comps: &[&'a Composition]) -> Graph {
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

    /// [`Checker::resolve`], remembering clean resolutions in `cache`: a callee
    /// whose resolution reported something is resolved again at every
    /// application, so each offending application gets its diagnostic.
    pub(super) fn resolve_cached(
        &mut self,
        cache: &mut HashMap<&'a str, Resolved>,
        index: usize,
        comp: &Composition,
        app: &'a Application,
        calls: &Graph,
        comps: &[&Composition],
    ) -> Option<Resolved> {
        if let Some(r) = cache.get(app.callee.name.as_str()) {
            return Some(r.clone());
        }
        let before = self.diags.len();
        let r = self.resolve(index, comp, app, calls, comps);
        if let (Some(r), true) = (&r, self.diags.len() == before) {
            cache.insert(&app.callee.name, r.clone());
        }
        r
    }

    /// The callee of `app` in composition `index`: a builtin, a file composition
    /// (reporting recursion and forward calls), a file function, or one
    /// registered in the environment; `None` if unknown.
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
            self.composition_call(index, j, comp, app, calls, comps);
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

    /// Reports a call from composition `index` to composition `j` of the file
    /// that is recursive or goes forward in the file.
    fn composition_call(
        &mut self,
        index: usize,
        j: usize,
        comp: &Composition,
        app: &Application,
        calls: &Graph,
        comps: &[&Composition],
    ) {
        let name = app.callee.name.as_str();
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
    }
}
