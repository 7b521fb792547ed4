//! The checker: name resolution, dataflow checks and plan construction.
//!
//! Every check runs even after earlier ones failed, so one call reports every
//! problem; later checks work around earlier failures (an unknown callee still
//! produces its output sets) to avoid cascades of follow-on errors.
//!
//! The passes, in the order they run:
//! - [`definitions`]: duplicate definitions, builtin shadowing, duplicate names
//!   in signatures (whole file);
//! - [`resolve`]: the call graph between compositions and what each callee name
//!   means (per application);
//! - [`sets`]: the sets a composition writes, each assigned once;
//! - [`bindings`]: each application's parameters, outputs and `by` clause;
//! - [`dataflow`]: the composition's outputs, cycles and unused sets;
//! - [`build`]: the plan of an error-free composition.

mod bindings;
mod build;
mod dataflow;
mod definitions;
mod graph;
mod resolve;
mod sets;

use std::sync::Arc;

use crate::ast::{self, Composition, Ident, Item};
use crate::{Checked, Diagnostic, Env, Plan, Signature};
use graph::Graph;
use resolve::Resolved;

/// The checker's name tables: FxHash, as it hashes many short names and SipHash's
/// DoS resistance buys nothing here (a hostile file can only slow its own check).
type HashMap<K, V> = rustc_hash::FxHashMap<K, V>;

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

/// The state the passes share: the file, the environment, the diagnostics so
/// far and the file's own definitions.
struct Checker<'a> {
    file: &'a ast::File,
    env: &'a Env,
    diags: Vec<Diagnostic>,
    /// Functions declared in the file (first declaration wins).
    functions: HashMap<&'a str, Signature>,
    /// Compositions defined in the file: name -> index among compositions (first wins).
    compositions: HashMap<&'a str, usize>,
}

impl<'a> Checker<'a> {
    fn error(&mut self, span: crate::Span, message: String) -> &mut Diagnostic {
        self.diags.push(Diagnostic::error(span, message));
        let last = self.diags.len() - 1;
        &mut self.diags[last]
    }

    fn error_count(&self) -> usize {
        self.diags.iter().filter(|d| d.is_error()).count()
    }

    /// Checks one composition; returns its plan if it has no error of its own.
    fn composition(
        &mut self,
        index: usize,
        comp: &'a Composition,
        calls: &Graph,
        comps: &[&Composition],
    ) -> Option<Plan> {
        let errors_before = self.error_count();
        let mut sets = self.composition_sets(comp);
        // Sized up front: growing large vectors is a measurable part of checking
        // big files.
        let reads: usize = comp.body.iter().map(|a| a.inputs.len()).sum();
        let mut flow = Graph::with_capacity(comp.body.len(), reads);
        let mut resolved: Vec<Option<Resolved>> = Vec::with_capacity(comp.body.len());
        // Clean resolutions per callee name; failed ones are redone so every
        // offending application gets its diagnostic.
        let mut cache: HashMap<&'a str, Resolved> = HashMap::default();
        for (a, app) in comp.body.iter().enumerate() {
            let callee = self.resolve_cached(&mut cache, index, comp, app, calls, comps);
            let sig = callee.as_ref().map(|r| &*r.sig);
            self.application(comp, a, sig, &mut sets, &mut flow);
            if let (Some(catch), Some(resolve::Kind::Composition)) =
                (&app.catch, callee.as_ref().map(|r| r.kind))
            {
                self.error(
                    catch.span,
                    format!(
                        "`catch` applies to function and builtin applications; `{}` is a composition",
                        app.callee.name
                    ),
                )
                .notes
                .push(format!(
                    "add `catch` to the applications inside `{}` whose shards may fail",
                    app.callee.name
                ));
            }
            resolved.push(callee);
        }
        self.composition_outputs(comp, &mut sets);
        flow.finish();
        self.cycles(comp, &sets, &flow);
        self.unused_sets(comp, &sets);
        if self.error_count() > errors_before {
            return None;
        }
        let order = flow.topological_order()?;
        Some(build::plan(comp, &sets, &resolved, order))
    }
}
