//! One call of a WASI function: a fresh store holding its file system, `_start`
//! run to completion, the exit status read, the output directories collected.

use std::sync::Arc;

use wasmtime::{Engine, Extern, InstancePre, ModuleExport};

use super::ctx::{CollectError, WasiCtx};
use super::preview1::{ExitCode, WasiState};
use crate::call_state::{classify, new_store, CallState};
use crate::interrupt::{CodeMap, Watchdog};
use crate::{CallOptions, Error, InputSet, Limits, OutputSet, Result, WasiSettings};

/// The entry of a WASI command.
pub(crate) const START: &str = "_start";

/// A compiled WASI program and its registration settings.
pub(crate) struct Program {
    pre: InstancePre<WasiState>,
    start: ModuleExport,
    settings: Arc<WasiSettings>,
    /// `argv[0]` when the settings give none: the function's name.
    name: Arc<str>,
}

impl Program {
    pub(crate) fn new(
        name: &str,
        pre: InstancePre<WasiState>,
        start: ModuleExport,
        settings: WasiSettings,
    ) -> Program {
        Program {
            pre,
            start,
            settings: Arc::new(settings),
            name: name.into(),
        }
    }
}

/// Runs `program` once over `inputs` (see [`Runtime::call`](crate::Runtime::call)),
/// under `call`'s limits, deadline, cutoff and cancellation.
#[allow(clippy::too_many_arguments)] // one call's whole context, passed once
pub(crate) fn call(
    engine: &Engine,
    watchdog: &Watchdog,
    code: &CodeMap,
    name: &str,
    limits: &Limits,
    program: &Program,
    inputs: &[InputSet<'_>],
    options: &CallOptions<'_>,
    call: CallState,
) -> Result<Vec<OutputSet>> {
    let ctx = WasiCtx::new(
        program.settings.clone(),
        program.name.clone(),
        inputs,
        options,
        limits.max_output_bytes,
    )
    .map_err(|reason| Error::Config {
        reason: format!("function `{name}`: {reason}"),
    })?;
    let mut store = new_store(engine, WasiState { call, ctx });
    let armed = store.data().call.watch(watchdog, code);
    let instance = match program.pre.instantiate(&mut store) {
        Ok(instance) => instance,
        Err(e) => {
            let stopped = armed.finish();
            return Err(classify(name, limits, e, &store.data().call, stopped));
        }
    };
    let Some(Extern::Func(start)) = instance.get_module_export(&mut store, &program.start) else {
        return Err(Error::AbiViolation {
            function: name.to_owned(),
            detail: "the instance lacks its `_start` export".into(),
        });
    };
    let start = start
        .typed::<(), ()>(&store)
        .map_err(|e| Error::AbiViolation {
            function: name.to_owned(),
            detail: format!("`_start` has the wrong type: {e:#}"),
        })?;
    let ran = start.call(&mut store, ());
    let stopped = armed.finish();
    if let Err(e) = ran {
        let state = store.data();
        let stderr = state.ctx.tail.text();
        let exit = e.downcast_ref::<ExitCode>().map(|exit| exit.0);
        // A program that fails after a write was refused for lack of output
        // budget (its libc reports the EFBIG and exits, or Rust panics) failed
        // because of the limit: say so rather than report its exit status.
        if let (false, Some(actual), Some(1..) | None) =
            (stopped, state.ctx.vfs.budget.exceeded, exit)
        {
            if exit.is_some() || e.downcast_ref::<wasmtime::Trap>().is_some() {
                return Err(Error::OutputTooLarge {
                    function: name.to_owned(),
                    limit_bytes: limits.max_output_bytes,
                    actual_bytes: actual,
                });
            }
        }
        match exit {
            Some(0) => {}
            Some(code) => {
                return Err(Error::Exit {
                    function: name.to_owned(),
                    code,
                    stderr,
                })
            }
            None => {
                return Err(match classify(name, limits, e, &state.call, stopped) {
                    Error::Trap { function, trap, .. } => Error::Trap {
                        function,
                        trap,
                        stderr,
                    },
                    other => other,
                })
            }
        }
    }
    store
        .data_mut()
        .ctx
        .collect(inputs, options, limits.max_output_bytes)
        .map_err(|e| match e {
            CollectError::TooLarge(actual) => Error::OutputTooLarge {
                function: name.to_owned(),
                limit_bytes: limits.max_output_bytes,
                actual_bytes: actual,
            },
            CollectError::BadKey(detail) => Error::AbiViolation {
                function: name.to_owned(),
                detail,
            },
        })
}
