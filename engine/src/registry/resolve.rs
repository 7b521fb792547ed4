//! Binding a plan's callees to registered functions and compositions.
//!
//! The result, a [`Resolved`] plan, is the executor's input; this module
//! depends on the executor's types, never the other way round.

use std::sync::Arc;

use pappus_dsl::Callee;

use super::TenantState;
use crate::executor::resolved::{Resolved, Target};
use crate::{Error, Result};

/// Resolves `name` in `state`; `stack` holds the compositions being resolved
/// (to refuse recursion, which registration order normally prevents).
pub(crate) fn resolve(
    state: &TenantState,
    name: &str,
    stack: &mut Vec<String>,
) -> Result<Arc<Resolved>> {
    let entry = state
        .compositions
        .get(name)
        .ok_or_else(|| Error::UnknownComposition {
            name: name.to_string(),
        })?;
    if stack.iter().any(|s| s == name) {
        return Err(Error::Conflict {
            reason: format!(
                "composition `{name}` calls itself through {}",
                stack.join(" > ")
            ),
        });
    }
    stack.push(name.to_string());
    let plan = entry.plan.clone();
    let mut targets = Vec::with_capacity(plan.nodes.len());
    let mut labels = Vec::with_capacity(plan.nodes.len());
    let mut declared_outputs = Vec::with_capacity(plan.nodes.len());
    for (index, node) in plan.nodes.iter().enumerate() {
        let target = match &node.callee {
            Callee::Function(f) => Target::Function(
                state
                    .functions
                    .get(f)
                    .ok_or_else(|| Error::UnknownFunction { name: f.clone() })?
                    .function
                    .clone(),
            ),
            Callee::Composition(c) => {
                let inner = resolve(state, c, stack)?;
                let params: Vec<&str> = node.inputs.iter().map(|i| i.param.as_str()).collect();
                if inner.plan.inputs.iter().map(String::as_str).ne(params) {
                    return Err(Error::Conflict {
                        reason: format!(
                            "composition `{name}` calls `{c}` with inputs that no longer match its signature"
                        ),
                    });
                }
                Target::Composition(inner)
            }
            Callee::Builtin(b) => Target::Builtin(*b),
        };
        targets.push(target);
        declared_outputs.push(match &node.callee {
            Callee::Function(f) => entry
                .declared
                .iter()
                .find(|(name, _)| name == f)
                .map(|(_, signature)| signature.outputs.clone())
                // The checker refuses an application of an undeclared function.
                .ok_or_else(|| Error::UnknownFunction { name: f.clone() })?,
            _ => Vec::new(),
        });
        let outputs: Vec<&str> = node
            .outputs
            .iter()
            .filter_map(|o| plan.sets.get(o.set.0).map(|s| s.name.as_str()))
            .collect();
        labels.push(format!(
            "#{} `{}` => ({})",
            index + 1,
            node.callee.name(),
            outputs.join(", ")
        ));
    }
    stack.pop();
    Ok(Arc::new(Resolved {
        plan,
        targets,
        labels,
        declared_outputs,
    }))
}
