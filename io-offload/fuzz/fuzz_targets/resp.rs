//! Fuzz target: the RESP2 reply parser on arbitrary bytes; nothing may panic.
//! Run with `cargo fuzz run resp` from `io-offload/` (see the crate README).
#![no_main]

include!("../body.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    fuzz_resp(data);
});
