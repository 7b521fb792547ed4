//! Dispatch of builtin (communication) shards to the I/O runtime.
//!
//! A builtin shard is handed to [`pappus_io::IoRuntime::submit`] together with a
//! callback; the callback runs on an I/O thread and feeds the result back into
//! the invocation's state machine. No compute thread ever waits for I/O. The
//! I/O runtime is started on first use, so engines that never call a builtin
//! start no I/O threads.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use pappus_dsl::builtins::Builtin;
use pappus_io::{Call, IoRuntime, RingConfig};
use pappus_isolation::OutputSet;

use super::exec::{Cause, Exec};
use super::resolve::Resolved;
use super::shards::Unit;
use crate::metrics::TimingSums;
use crate::Item;

/// The lazily started I/O runtime.
pub(crate) struct Io {
    config: RingConfig,
    runtime: OnceLock<Result<IoRuntime, String>>,
}

impl Io {
    pub(crate) fn new(config: RingConfig) -> Io {
        Io {
            config,
            runtime: OnceLock::new(),
        }
    }

    fn runtime(&self) -> Result<&IoRuntime, &str> {
        self.runtime
            .get_or_init(|| IoRuntime::start(&self.config).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(String::as_str)
    }

    /// The runtime's byte counters, if it was started.
    pub(crate) fn stats(&self) -> Option<pappus_io::IoStats> {
        self.runtime
            .get()
            .and_then(|r| r.as_ref().ok())
            .map(IoRuntime::stats)
    }
}

fn to_io(unit: Option<&Unit>) -> Vec<pappus_io::Item> {
    unit.map(|u| {
        u.iter()
            .map(|i| pappus_io::Item::new(i.name.clone(), i.key, i.data.clone()))
            .collect()
    })
    .unwrap_or_default()
}

/// Builds the call for `builtin` from the shard's inputs, in the builtin's
/// signature order (the plan binds every parameter).
fn call_for(builtin: Builtin, units: &[Unit]) -> Call {
    let first = || to_io(units.first());
    match builtin {
        Builtin::Http => Call::Http { requests: first() },
        Builtin::Fetch => Call::Fetch { uris: first() },
        Builtin::Store => Call::Store {
            objects: first(),
            uris: to_io(units.get(1)),
        },
        Builtin::KvGet => Call::KvGet { keys: first() },
        Builtin::KvPut => Call::KvPut { pairs: first() },
    }
}

/// Whether the builtin reads (counted as fetching) or writes (storing).
fn is_store(builtin: Builtin) -> bool {
    matches!(builtin, Builtin::Store | Builtin::KvPut)
}

/// Starts a builtin shard; its result arrives through [`Exec::complete`].
pub(crate) fn dispatch(
    exec: &Arc<Exec>,
    shard: usize,
    builtin: Builtin,
    _resolved: &Resolved,
    _node: usize,
    units: Vec<Unit>,
) {
    let runtime = match exec.core().io.as_ref().map(Io::runtime) {
        Some(Ok(runtime)) => runtime.clone(),
        Some(Err(reason)) => {
            exec.complete(
                shard,
                Err(Cause {
                    cause: format!(
                        "builtin `{}` requires the io runtime, which could not start: {reason}",
                        builtin.name()
                    ),
                    kind: "io_unavailable",
                }),
            );
            return;
        }
        None => {
            exec.complete(
                shard,
                Err(Cause {
                    cause: format!("builtin `{}` requires the io runtime", builtin.name()),
                    kind: "io_unavailable",
                }),
            );
            return;
        }
    };
    let output_name = builtin
        .signature()
        .outputs
        .into_iter()
        .next()
        .unwrap_or_default();
    let call = call_for(builtin, &units);
    let exec = exec.clone();
    let begun = Instant::now();
    runtime.submit(
        call,
        Box::new(move |result| {
            let spent = begun.elapsed();
            let sums = exec.sums();
            if is_store(builtin) {
                TimingSums::add(&sums.storing, spent);
            } else {
                TimingSums::add(&sums.fetching, spent);
            }
            let result = match result {
                Ok(items) => Ok(vec![OutputSet {
                    name: output_name,
                    items: items
                        .into_iter()
                        .map(|i| Item::new(i.name, i.key, i.data))
                        .collect(),
                }]),
                Err(e) => Err(Cause {
                    cause: e.to_string(),
                    kind: e.kind(),
                }),
            };
            exec.complete(shard, result);
        }),
    );
}
