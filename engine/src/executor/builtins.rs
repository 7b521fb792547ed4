//! Dispatch of builtin (communication) shards to the I/O runtime.
//!
//! A builtin shard is handed to [`pappus_io::IoRuntime::submit`] together with a
//! callback; the callback runs on an I/O thread and hands the result to the
//! caller's continuation (which feeds the invocation's state machine). No
//! compute thread ever waits for I/O. The I/O runtime is started on first use,
//! so engines that never call a builtin start no I/O threads.
//!
//! Items go to the I/O runtime as they are: both sides use `pappus-model`'s
//! `Item`, so nothing is converted.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use pappus_dsl::builtins::Builtin;
use pappus_io::{Authority, Call, CallOptions, IoRuntime, RingConfig};
use pappus_isolation::{CancelToken, OutputSet};

use super::outcome::{Cause, ShardResult};
use super::shards::Unit;
use crate::{Item, Refusal};

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

    /// The health of the runtime's threads, if it was started.
    pub(crate) fn health(&self) -> Option<pappus_io::IoHealth> {
        self.runtime
            .get()
            .and_then(|r| r.as_ref().ok())
            .map(IoRuntime::health)
    }

    /// The memory budget to give each invocation's fetches.
    pub(crate) fn invocation_fetch_memory_bytes(&self) -> u64 {
        self.config.get_invocation_fetch_memory_bytes()
    }

    /// The runtime's byte counters, if it was started.
    pub(crate) fn stats(&self) -> Option<pappus_io::IoStats> {
        self.runtime
            .get()
            .and_then(|r| r.as_ref().ok())
            .map(IoRuntime::stats)
    }
}

/// A unit's items, as the I/O runtime takes them (the same type: cloning
/// shares the data).
fn items(unit: Option<&Unit>) -> Vec<Item> {
    unit.map(|u| u.to_vec()).unwrap_or_default()
}

/// Builds the call for `builtin` from the shard's inputs, in the builtin's
/// signature order (the plan binds every parameter).
fn call_for(builtin: Builtin, units: &[Unit]) -> Call {
    let first = || items(units.first());
    match builtin {
        Builtin::Http => Call::Http { requests: first() },
        Builtin::Fetch => Call::Fetch { uris: first() },
        Builtin::Store => Call::Store {
            objects: first(),
            uris: items(units.get(1)),
        },
        Builtin::KvGet => Call::KvGet { keys: first() },
        Builtin::KvPut => Call::KvPut { pairs: first() },
    }
}

/// Whether the builtin reads (counted as fetching) or writes (storing).
pub(crate) fn is_store(builtin: Builtin) -> bool {
    matches!(builtin, Builtin::Store | Builtin::KvPut)
}

/// Starts a builtin shard on `io`'s runtime with `authority` (the tenant's;
/// `None`: the runtime's default) and the invocation's `options`; `done` receives the shard's result and the
/// time the I/O took, on an I/O thread. Fails at once (and drops `done`) when
/// the invocation was cancelled, or the engine has no I/O runtime or it could
/// not start.
pub(crate) fn dispatch(
    io: Option<&Io>,
    authority: Option<&Arc<Authority>>,
    cancel: &CancelToken,
    builtin: Builtin,
    units: &[Unit],
    options: CallOptions,
    done: impl FnOnce(ShardResult, Duration) + Send + 'static,
) -> Result<(), Cause> {
    if cancel.is_cancelled() {
        return Err(Cause::cancelled());
    }
    let runtime = match io.map(Io::runtime) {
        Some(Ok(runtime)) => runtime,
        Some(Err(reason)) => {
            return Err(Cause {
                cause: format!(
                    "builtin `{}` requires the io runtime, which could not start: {reason}",
                    builtin.name()
                ),
                kind: "io_unavailable",
                refused: None,
                stderr: String::new(),
            });
        }
        None => {
            return Err(Cause {
                cause: format!("builtin `{}` requires the io runtime", builtin.name()),
                kind: "io_unavailable",
                refused: None,
                stderr: String::new(),
            });
        }
    };
    let output_name = builtin
        .signature()
        .outputs
        .into_iter()
        .next()
        .unwrap_or_default();
    let call = call_for(builtin, units);
    let begun = Instant::now();
    let done: pappus_io::Done = Box::new(move |result: pappus_io::Result<Vec<Item>>| {
        let spent = begun.elapsed();
        let result = match result {
            Ok(items) => Ok(vec![OutputSet {
                name: output_name,
                items,
            }]),
            Err(e) => Err(Cause {
                refused: match &e {
                    pappus_io::Error::Forbidden { uri, rule } => Some(Box::new(Refusal {
                        uri: uri.clone(),
                        rule: rule.clone(),
                    })),
                    _ => None,
                },
                cause: e.to_string(),
                kind: e.kind(),
                stderr: String::new(),
            }),
        };
        done(result, spent);
    });
    match authority {
        Some(authority) => runtime.submit_with(authority, call, options, done),
        None => runtime.submit_with(&runtime.default_authority(), call, options, done),
    }
    Ok(())
}
