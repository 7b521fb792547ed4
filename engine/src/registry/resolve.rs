//! Binding a plan's callees to registered functions and compositions, and
//! bounding how deeply compositions nest.
//!
//! The result, a [`Resolved`] plan, is the executor's input; this module
//! depends on the executor's types, never the other way round.
//!
//! Both walks memoise per composition name, so a composition that calls
//! another twice per level costs one visit per composition, not one per path
//! (2^N for N levels): resolved plans share their nested plans.

use std::collections::HashMap;
use std::sync::Arc;

use pappus_dsl::{Callee, Plan};

use super::TenantState;
use crate::executor::resolved::{Resolved, Target};
use crate::{Error, Result};

/// Resolves `name` in `state`; `memo` holds the compositions already
/// resolved (by name), `stack` those being resolved (to refuse recursion,
/// which registration order normally prevents).
pub(crate) fn resolve(
    state: &TenantState,
    name: &str,
    memo: &mut HashMap<String, Arc<Resolved>>,
    stack: &mut Vec<String>,
) -> Result<Arc<Resolved>> {
    if let Some(done) = memo.get(name) {
        return Ok(done.clone());
    }
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
                let inner = resolve(state, c, memo, stack)?;
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
    let recent = plan.nodes.iter().map(|_| Default::default()).collect();
    let resolved = Arc::new(Resolved {
        plan,
        targets,
        labels,
        declared_outputs,
        recent,
    });
    memo.insert(name.to_string(), resolved.clone());
    Ok(resolved)
}

/// Per composition: how many levels of compositions its deepest call chain
/// has (1 for one calling only functions), and the callee on that chain.
pub(crate) type Depths = HashMap<String, (usize, Option<String>)>;

/// Checks that no chain of nested calls starting at `name` is longer than
/// `limit` compositions. `plans` looks a composition up by name; a name it
/// does not know, or a recursive call, ends the chain (both are refused
/// elsewhere).
///
/// # Errors
/// [`Error::NestingTooDeep`] naming the first chain found that is too long.
pub(crate) fn check_depth<'p>(
    plans: &dyn Fn(&str) -> Option<&'p Plan>,
    name: &str,
    limit: usize,
    memo: &mut Depths,
    stack: &mut Vec<String>,
) -> Result<usize> {
    if let Some((depth, _)) = memo.get(name) {
        return Ok(*depth);
    }
    let Some(plan) = plans(name) else {
        return Ok(0);
    };
    if stack.iter().any(|s| s == name) {
        return Ok(0);
    }
    let too_deep = |stack: &[String], tail: Vec<String>| Error::NestingTooDeep {
        chain: stack.iter().cloned().chain(tail).collect(),
        limit,
    };
    // Cut the walk (and the recursion) as soon as the path is too long.
    if stack.len() >= limit {
        return Err(too_deep(stack, vec![name.to_string()]));
    }
    stack.push(name.to_string());
    let mut deepest = (1, None);
    for node in &plan.nodes {
        if let Callee::Composition(callee) = &node.callee {
            let below = check_depth(plans, callee, limit, memo, stack)?;
            if below + 1 > deepest.0 {
                deepest = (below + 1, Some(callee.clone()));
            }
        }
    }
    stack.pop();
    let depth = deepest.0;
    memo.insert(name.to_string(), deepest);
    if stack.len() + depth > limit {
        return Err(too_deep(stack, chain_below(memo, name)));
    }
    Ok(depth)
}

/// `name` and the deepest chain below it, as recorded in `memo`.
fn chain_below(memo: &Depths, name: &str) -> Vec<String> {
    let mut chain = vec![name.to_string()];
    let mut at = name;
    while let Some((_, Some(next))) = memo.get(at) {
        // A memoised chain is acyclic and at most as long as the memo.
        if chain.len() > memo.len() {
            break;
        }
        chain.push(next.clone());
        at = next;
    }
    chain
}
