//! The dataflow pass: once every application is checked, the composition's
//! outputs are produced, no set depends on itself, and every set is used.

use super::sets::{CompositionSets, Writer};
use super::{Checker, Graph};
use crate::ast::Composition;
use crate::Diagnostic;

impl<'a> Checker<'a> {
    /// Each output of `comp` is a set it writes (and so counts as read).
    pub(super) fn composition_outputs(&mut self, comp: &Composition, sets: &mut CompositionSets) {
        for id in &comp.outputs {
            match sets.get(&id.name) {
                Some(s) => sets.sets[s].read = true,
                None => {
                    self.error(
                        id.span,
                        format!(
                            "output `{}` of `{}` is never produced",
                            id.name, comp.name.name
                        ),
                    )
                    .notes
                    .push("assign it in an application, e.g. `=> (NAME = out)`".to_string());
                }
            }
        }
    }

    /// One error per cycle of `flow` (finished), naming the sets on it.
    pub(super) fn cycles(&mut self, comp: &Composition, sets: &CompositionSets, flow: &Graph) {
        for scc in flow.cyclic_components() {
            let start = scc[0];
            let labels = flow.cycle_labels(start, &scc);
            let mut names: Vec<String> = labels
                .iter()
                .map(|&s| format!("`{}`", sets.sets[s].name))
                .collect();
            if let Some(first) = names.first().cloned() {
                names.push(first);
            }
            let message = if labels.len() == 1 {
                format!(
                    "cycle through set `{}`: the application reads its own output",
                    sets.sets[labels[0]].name
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
    }

    /// Warnings for sets nobody reads.
    pub(super) fn unused_sets(&mut self, comp: &Composition, sets: &CompositionSets) {
        let cname = comp.name.name.as_str();
        for set in sets.sets.iter().filter(|s| !s.read) {
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
    }
}
