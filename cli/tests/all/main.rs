//! Integration tests of the `pappus` command, run for real. The guest functions
//! come from `examples/functions` (built on demand).
#![allow(clippy::unwrap_used, reason = "tests")]

mod build_c;
mod check_wiring;
mod cli;
mod code_cache;
mod project;
mod static_sets;
mod wasi;
