//! Fuzz target: parse + check arbitrary input; nothing may panic.
//! Run with `cargo +nightly fuzz run parse` from `dsl/`.
#![no_main]

include!("../body.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    fuzz_one(data);
});
