//! Fuzz target: the JSON inputs parser (`pappus_engine::json`) on arbitrary
//! bytes; nothing may panic, and what parses round-trips.
//! Run with `cargo fuzz run json_sets` from `engine/`.
#![no_main]

include!("../body.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    fuzz_json_sets(data);
});
