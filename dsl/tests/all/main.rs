//! Integration tests of pappus-dsl, one module per feature.
#![allow(
    clippy::unwrap_used,
    reason = "a test should fail loudly on anything unexpected"
)]

mod diagnostics;
mod fuzz;
mod golden;
mod parse;
mod plans;
mod roundtrip;
