//! One call of a WASI function: a fresh store holding its file system, `_start`
//! run to completion, the exit status read, the output directories collected.

use std::sync::Arc;

use wasmtime::{Engine, Extern, InstancePre, ModuleExport};

use super::ctx::{CollectError, WasiCtx};
use super::preview1::{ExitCode, WasiState};
use crate::runtime::{classify, new_store, CallState};
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
pub(crate) fn call(
    engine: &Engine,
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
    let instance = program
        .pre
        .instantiate(&mut store)
        .map_err(|e| classify(name, limits, e, store.data().call.refused_growth()))?;
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
    if let Err(e) = start.call(&mut store, ()) {
        let state = store.data();
        let stderr = state.ctx.tail.text();
        let exit = e.downcast_ref::<ExitCode>().map(|exit| exit.0);
        // A program that fails after a write was refused for lack of output
        // budget (its libc reports the EFBIG and exits, or Rust panics) failed
        // because of the limit: say so rather than report its exit status.
        if let (Some(actual), Some(1..) | None) = (state.ctx.vfs.budget.exceeded, exit) {
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
                return Err(
                    match classify(name, limits, e, state.call.refused_growth()) {
                        Error::Trap { function, trap, .. } => Error::Trap {
                            function,
                            trap,
                            stderr,
                        },
                        other => other,
                    },
                )
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
