//! Integration tests of the engine, one module per feature. The guest
//! functions come from `examples/functions` (built on demand).
#![allow(clippy::unwrap_used, reason = "tests")]

mod authority;
mod bounds;
mod builtins;
mod catch;
mod durability;
mod failures;
mod io_faults;
mod joins;
mod json_fuzz;
mod modes;
mod nested;
mod overload;
mod persistence;
mod pipelining;
mod placement;
mod quotas;
mod registry;
mod render_logs;
mod static_sets;
mod storage;
mod support;
mod wasi;
mod wiring;
