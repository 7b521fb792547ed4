//! Integration tests of the `pappus` command, run for real. The guest functions
//! come from `examples/functions` (built on demand).
#![allow(clippy::unwrap_used, reason = "tests")]

mod check_wiring;
mod cli;
mod project;
mod static_sets;
mod wasi;
