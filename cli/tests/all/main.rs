//! Integration tests of the `pappus` command, run for real. The guest functions
//! come from `examples/functions` (built on demand).
#![allow(clippy::unwrap_used, reason = "tests")]

mod cli;
mod wasi;
