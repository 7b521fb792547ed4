//! Integration tests of the engine, one module per feature. The guest
//! functions come from `examples/functions` (built on demand).
#![allow(clippy::unwrap_used, reason = "tests")]

mod builtins;
mod cli;
mod failures;
mod joins;
mod modes;
mod nested;
mod overload;
mod persistence;
mod pipelining;
mod registry;
mod support;
