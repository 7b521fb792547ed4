//! What the readers of a builtin's output can take: the largest object a
//! `fetch` shard may bring in before it is certain to be refused.
//!
//! An ABI v1 function receives its inputs in its own linear memory, so an
//! object larger than its memory limit can never be placed; fetching it
//! whole first would only hold memory for a failure. The executor therefore
//! gives each `fetch` call the smallest memory limit among the ABI v1
//! functions that read its output (through nested compositions too), and
//! the I/O runtime refuses a larger object with `too_large` as soon as its
//! size is known (`docs/io.md`, "Budgets"). WASI functions read their
//! inputs as files and so set no such bound; the object size limit of the
//! I/O runtime still applies to everything.

use pappus_dsl::{NodeId, SetId};

use super::resolved::{Resolved, Target};

/// How deep nested compositions are followed (they are registered ones; the
/// registry bounds nesting too).
const MAX_DEPTH: usize = 8;

/// The tightest bound the readers of `node`'s outputs set on one object:
/// bytes, and how to name it in the error. `None` when no reader bounds it.
pub(crate) fn object_limit(resolved: &Resolved, node: usize) -> Option<(u64, String)> {
    let outputs = resolved.plan.nodes.get(node)?.outputs.iter().map(|o| o.set);
    let mut best: Option<(u64, String)> = None;
    for set in outputs {
        readers_limit(resolved, set, 0, &mut best);
    }
    best
}

fn readers_limit(resolved: &Resolved, set: SetId, depth: usize, best: &mut Option<(u64, String)>) {
    let plan = &resolved.plan;
    let Some(def) = plan.sets.get(set.0) else {
        return;
    };
    for &(NodeId(reader), input) in &def.consumers {
        match resolved.targets.get(reader) {
            Some(Target::Function(function)) if !function.is_wasi() => {
                let bytes = function.limits().memory_bytes;
                if best.as_ref().is_none_or(|(b, _)| bytes < *b) {
                    *best = Some((
                        bytes,
                        format!(
                            "the memory limit of function `{}`, which reads it",
                            function.name()
                        ),
                    ));
                }
            }
            Some(Target::Composition(inner)) if depth < MAX_DEPTH => {
                let param = plan
                    .nodes
                    .get(reader)
                    .and_then(|n| n.inputs.get(input))
                    .map(|i| i.param.as_str());
                let inner_set = param.and_then(|p| {
                    let index = inner.plan.inputs.iter().position(|n| n == p)?;
                    inner.plan.input_sets.get(index).copied()
                });
                if let Some(inner_set) = inner_set {
                    readers_limit(inner, inner_set, depth + 1, best);
                }
            }
            _ => {}
        }
    }
}
