//! Fuzz target: the module rewrite on arbitrary bytes. It never panics; it
//! rewrites every module that validates, into a module that validates; and a
//! module that does not validate does not validate after the rewrite either,
//! since the runtime validates only the rewritten module.
//! Run with `cargo fuzz run rewrite_bytes` from `isolation/` (see the crate README).
#![no_main]

use wasmparser::{Validator, WasmFeatures};

fn valid(module: &[u8]) -> bool {
    Validator::new_with_features(WasmFeatures::all())
        .validate_all(module)
        .is_ok()
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let was_valid = valid(data);
    match pappus_isolation::fuzzing::rewritten_module(data) {
        Ok(rewritten) => assert_eq!(
            valid(&rewritten),
            was_valid,
            "the rewrite changed whether the module validates"
        ),
        Err(e) => assert!(!was_valid, "a valid module was refused: {e}"),
    }
});
