//! Stopping a running guest without checks in its compiled code.
//!
//! Wasmtime's epoch interruption puts a check on every loop back-edge and
//! function entry, which costs compute-bound guests 14–25% (`docs/performance.md`).
//! Here compiled code carries no check. Instead a [`Watchdog`] thread signals
//! the thread of an overdue or cancelled call, and the signal handler makes the
//! guest trap where it stands ([`signal`]). For that, every module is rewritten
//! before it is compiled ([`rewrite`]): it gets a stop function, and the bulk
//! memory instructions whose host routines take guest-chosen time become wasm
//! loops, so a guest cannot spend long stretches out of reach of the signal.

mod code;
pub(crate) mod rewrite;
mod signal;
mod watchdog;

pub(crate) use code::CodeMap;
pub(crate) use signal::stopping;
pub(crate) use watchdog::{Armed, Watchdog};
