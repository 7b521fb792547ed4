//! Integration tests of pappus-isolation: one binary, one module per feature.

mod cache;
mod concurrency;
mod examples;
mod failures;
mod isolation;
mod support;
mod wiring;
