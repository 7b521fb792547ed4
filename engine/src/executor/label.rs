//! Human-readable names of shards, for errors and trace events.

use pappus_dsl::Mode;

use super::resolved::Resolved;
use super::shards::Unit;

/// Describes a shard by its inputs: item names for `each` and `named`, keys
/// for `keyed`, sizes for `all`.
pub(crate) fn shard_label(resolved: &Resolved, node: usize, units: &[Unit]) -> String {
    let Some(node) = resolved.plan.nodes.get(node) else {
        return String::new();
    };
    let parts: Vec<String> = node
        .inputs
        .iter()
        .zip(units)
        .map(|(input, unit)| match (input.mode, unit.first()) {
            (_, None) => format!("{} empty", input.param),
            (Mode::Each, Some(item)) => {
                format!("{}={:?} (key {})", input.param, item.name, item.key)
            }
            (Mode::Keyed, Some(item)) => format!("{} key {}", input.param, item.key),
            (Mode::Named, Some(item)) => format!("{} name {:?}", input.param, item.name),
            (Mode::All, Some(_)) => format!("{} all ({} items)", input.param, unit.len()),
        })
        .collect();
    if parts.is_empty() {
        "(no inputs)".into()
    } else {
        parts.join(", ")
    }
}
