//! `catch SET` (dsl/README.md, "Failures"): a failed shard of an application
//! with a `catch` clause becomes one item of that set instead of failing its
//! invocation, so one bad item does not sink the batch.
//!
//! Only failures of the shard's own work are caught: what the function or the
//! I/O call did with its input. Failures of the node (its capacity, its
//! configuration, a host bug) and cancellation still fail the invocation: a
//! batch that cannot run at all is not a batch with bad items.

use pappus_dsl::Mode;

use super::outcome::Cause;
use super::resolved::Resolved;
use super::shards::Unit;
use crate::Item;

/// Failure kinds that are the node's, not the shard's, and so never caught.
const NOT_CAUGHT: &[&str] = &[
    "cancelled",
    "cutoff",
    "internal",
    "resources",
    "overloaded",
    "shutdown",
    "io_unavailable",
    "not_configured",
    "config",
    "cache",
];

/// Whether a shard failing with `kind` may be caught.
pub(crate) fn catches(kind: &str) -> bool {
    !NOT_CAUGHT.contains(&kind)
}

/// The item recording a failed shard of `node`: named and keyed after the
/// shard's input (the first input that is not `all`: for `each` the item the
/// shard ran on, for `keyed` and `named` the first item of its group; `""`
/// and 0 when every input is `all` or empty), its data a JSON object with the
/// application, the shard, the failure kind, the message and the stderr tail.
pub(crate) fn failure_item(
    resolved: &Resolved,
    node: usize,
    units: &[Unit],
    application: &str,
    shard: &str,
    cause: &Cause,
) -> Item {
    let first = resolved.plan.nodes.get(node).and_then(|n| {
        n.inputs
            .iter()
            .zip(units)
            .filter(|(input, _)| input.mode != Mode::All)
            .find_map(|(_, unit)| unit.first())
    });
    let (name, key) = first.map_or((String::new(), 0), |item| (item.name.clone(), item.key));
    let record = serde_json::json!({
        "application": application,
        "shard": shard,
        "kind": cause.kind,
        "message": cause.cause,
        "stderr": cause.stderr,
    });
    Item::new(name, key, record.to_string())
}
