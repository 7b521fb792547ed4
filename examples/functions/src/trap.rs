//! `trap`: a hostile function that executes `unreachable` at once.
#![no_std]

#[no_mangle]
pub extern "C" fn pappus_entry(_region: u32) -> u32 {
    core::arch::wasm32::unreachable()
}

// Link the SDK for its panic handler.
pub use pappus_guest::ABI_VERSION;
