//! Running one function shard in a fresh sandbox.

use std::time::Instant;

use pappus_dsl::Mode;
use pappus_isolation::{CallOptions, CancelToken, Function, InputSet, WasiContext};

use super::outcome::{Cause, ShardResult};
use super::resolved::Resolved;
use super::shards::Unit;
use super::Core;
use crate::metrics::{Counters, TimingSums};

/// Runs `function` on the shard's `units` (one per input of plan node
/// `node`), counting bytes and sandboxes in `core` and the time spent in
/// `sums`. A cancelled invocation starts no sandbox. With a `cutoff`, a call
/// still running then fails with kind [`CUTOFF`] (see [`super::placement`]).
#[allow(
    clippy::too_many_arguments,
    reason = "the invocation's parts are borrowed separately from its Arc on the compute thread"
)]
pub(crate) fn run(
    core: &Core,
    sums: &TimingSums,
    cancel: &CancelToken,
    wasi: &WasiContext,
    function: &Function,
    resolved: &Resolved,
    node: usize,
    units: &[Unit],
    cutoff: Option<Instant>,
) -> ShardResult {
    if cancel.is_cancelled() {
        return Err(Cause::cancelled());
    }
    let index = node;
    let Some(node) = resolved.plan.nodes.get(node) else {
        return Err(Cause {
            cause: "internal error: node out of range".into(),
            kind: "internal",
            refused: None,
            stderr: String::new(),
        });
    };
    let inputs: Vec<InputSet<'_>> = node
        .inputs
        .iter()
        .zip(units)
        .map(|(input, unit)| InputSet {
            name: &input.param,
            items: unit,
        })
        .collect();
    let counters = &core.counters;
    let bytes_in: usize = units
        .iter()
        .flat_map(|u| u.iter())
        .map(|i| i.data.len())
        .sum();
    Counters::add(&counters.bytes_in, bytes_in as u64);
    Counters::add(&counters.sandboxes_created, 1);
    let begun = Instant::now();
    // WASI programs see output sets as directories and stdio, and get the
    // invocation's time and a seed derived for this shard; ABI v1 functions
    // need no options.
    let outputs: Vec<&str>;
    let options = if function.is_wasi() {
        outputs = node.outputs.iter().map(|o| o.param.as_str()).collect();
        let shard_key = node
            .inputs
            .iter()
            .zip(units)
            .find(|(input, _)| input.mode == Mode::Keyed)
            .and_then(|(_, unit)| unit.first())
            .map(|item| item.key);
        Some(CallOptions {
            outputs: &outputs,
            shard_key,
            context: wasi.for_shard(index as u64, &inputs),
        })
    } else {
        None
    };
    let runtime = &core.runtime;
    let cancel = Some(cancel);
    let result = match (cutoff, &options) {
        (Some(cutoff), options) => {
            runtime.run_until(function, &inputs, options.as_ref(), cancel, cutoff)
        }
        (None, Some(options)) => runtime.call(function, &inputs, options, cancel),
        (None, None) => runtime.run(function, &inputs, cancel),
    };
    let spent = begun.elapsed();
    // Inputs fetched to disk were read in through their mapping; the
    // sandbox is done with them, so their pages need not stay resident.
    for item in units.iter().flat_map(|u| u.iter()) {
        pappus_io::release_resident(&item.data);
    }
    TimingSums::add(&sums.sandbox, spent);
    if let Some(recent) = resolved.recent.get(index) {
        recent.record(spent);
    }
    match result {
        Ok(outputs) => {
            let declared = resolved
                .declared_outputs
                .get(index)
                .map(Vec::as_slice)
                .unwrap_or_default();
            if let Some(stray) = outputs.iter().find(|o| !declared.contains(&o.name)) {
                return Err(undeclared_output(function, &stray.name, declared));
            }
            let bytes_out: usize = outputs
                .iter()
                .flat_map(|s| s.items.iter())
                .map(|i| i.data.len())
                .sum();
            Counters::add(&counters.bytes_out, bytes_out as u64);
            Ok(outputs)
        }
        Err(e) => Err(Cause {
            cause: e.to_string(),
            kind: e.kind(),
            refused: None,
            stderr: match &e {
                pappus_isolation::Error::Trap { stderr, .. }
                | pappus_isolation::Error::Exit { stderr, .. } => stderr.clone(),
                _ => String::new(),
            },
        }),
    }
}

/// The kind of a shard's failure when it was stopped at its cutoff: not a
/// failure of the function, the shard is run again on the compute pool.
pub(crate) const CUTOFF: &str = "cutoff";

/// The failure of a shard whose function wrote `set`, which its declaration
/// does not have: without it the items would silently go nowhere.
fn undeclared_output(function: &Function, set: &str, declared: &[String]) -> Cause {
    Cause {
        cause: format!(
            "function `{}` wrote output set `{set}`, which its declaration does not have (declared outputs: {})",
            function.name(),
            if declared.is_empty() {
                "none".to_string()
            } else {
                declared.join(", ")
            }
        ),
        kind: "undeclared_output",
        refused: None,
        stderr: String::new(),
    }
}
