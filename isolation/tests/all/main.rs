//! Integration tests of pappus-isolation: one binary, one module per feature.

mod cache;
mod concurrency;
mod counting_alloc;
mod examples;
mod failures;
mod fuzz;
mod input_area;
mod isolation;
mod lying_outputs;
mod stopping;
mod support;
mod wasi;
mod wasi_c;
mod wasi_programs;
mod wiring;
