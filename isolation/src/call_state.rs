//! The state of one guest call that its store carries: its memory limit
//! (wasmtime's [`ResourceLimiter`]), its deadline, cutoff and cancel token for
//! the watchdog, and the mapping of a failed call to [`Error`].
//!
//! Shared by ABI v1 calls (`runtime`) and WASI calls (`wasi::call`), so that
//! neither module needs the other's internals.

use std::time::Instant;

use wasmtime::{Engine, PoolConcurrencyLimitError, ResourceLimiter, Store, Trap};

use crate::interrupt::{Armed, CodeMap, Watchdog};
use crate::{CancelToken, Error, Limits};

/// Largest table any guest may have, in elements.
pub(crate) const TABLE_ELEMENTS: usize = 10_000;

/// Per-call store data: the memory limiter and the interruption state.
pub(crate) struct CallState {
    memory_limit: usize,
    refused_growth: bool,
    deadline: Instant,
    /// When the caller gives up on the call (before the deadline), if it does.
    cutoff: Option<Instant>,
    cancel: Option<CancelToken>,
}

impl CallState {
    /// The state of a call that started at `started`, when its deadline
    /// starts to run.
    pub(crate) fn new(
        limits: &Limits,
        cancel: Option<&CancelToken>,
        cutoff: Option<Instant>,
        started: Instant,
    ) -> CallState {
        CallState {
            memory_limit: usize::try_from(limits.memory_bytes).unwrap_or(usize::MAX),
            refused_growth: false,
            deadline: started + limits.timeout,
            cutoff,
            cancel: cancel.cloned(),
        }
    }

    /// Watches the call on this thread until the guard is finished: it is
    /// stopped at its deadline, at the cutoff, or once cancelled.
    pub(crate) fn watch<'a>(&self, watchdog: &'a Watchdog, code: &'a CodeMap) -> Armed<'a> {
        let stop_at = match self.cutoff {
            Some(cutoff) => cutoff.min(self.deadline),
            None => self.deadline,
        };
        watchdog.arm(code, stop_at, self.cancel.as_ref())
    }

    /// The failure of a call the watchdog stopped: why it was stopped.
    fn stopped(&self, function: String, limits: &Limits) -> Error {
        if self.cancel.as_ref().is_some_and(CancelToken::is_cancelled) {
            Error::Cancelled { function }
        } else if Instant::now() < self.deadline && self.cutoff.is_some() {
            Error::Cutoff { function }
        } else {
            Error::Timeout {
                function,
                limit: limits.timeout,
            }
        }
    }
}

/// Store data that carries a [`CallState`] (ABI v1's is the state itself).
pub(crate) trait HasCallState: Sized + 'static {
    fn call_state_mut(&mut self) -> &mut CallState;
}

impl HasCallState for CallState {
    fn call_state_mut(&mut self) -> &mut CallState {
        self
    }
}

/// A store for one call, with its memory limiter.
pub(crate) fn new_store<T: HasCallState>(engine: &Engine, data: T) -> Store<T> {
    let mut store = Store::new(engine, data);
    store.limiter(|state| state.call_state_mut());
    store
}

impl ResourceLimiter for CallState {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let ok = desired <= self.memory_limit;
        self.refused_growth |= !ok;
        Ok(ok)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= TABLE_ELEMENTS)
    }
}

/// Maps a wasmtime failure during instantiation or the call to our error;
/// `stopped` says the watchdog stopped the call (its trap is the stop's).
pub(crate) fn classify(
    name: &str,
    limits: &Limits,
    e: wasmtime::Error,
    state: &CallState,
    stopped: bool,
) -> Error {
    let function = name.to_owned();
    let refused_growth = state.refused_growth;
    if stopped {
        return state.stopped(function, limits);
    }
    if let Some(trap) = e.downcast_ref::<Trap>() {
        if refused_growth {
            return Error::MemoryLimit {
                function,
                limit_bytes: limits.memory_bytes,
            };
        }
        return Error::Trap {
            function,
            trap: trap.to_string(),
            stderr: String::new(),
        };
    }
    if e.downcast_ref::<PoolConcurrencyLimitError>().is_some() {
        return Error::Resources {
            function,
            detail: format!("{e:#}"),
        };
    }
    if refused_growth {
        return Error::MemoryLimit {
            function,
            limit_bytes: limits.memory_bytes,
        };
    }
    Error::Resources {
        function,
        detail: format!("{e:#}"),
    }
}
