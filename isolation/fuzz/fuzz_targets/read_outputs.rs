//! Fuzz target: the host's reader of guest outputs on arbitrary memory
//! contents; nothing may panic or read beyond the limit.
//! Run with `cargo fuzz run read_outputs` from `isolation/` (see the crate README).
#![no_main]

include!("../body.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    fuzz_read_outputs(data);
});
