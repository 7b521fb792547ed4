//! `grow`: a hostile function that grows its memory one page at a time until the
//! host refuses, then traps (the host reports its memory limit).
#![no_std]

#[no_mangle]
pub extern "C" fn pappus_entry(_region: u32) -> u32 {
    loop {
        if core::arch::wasm32::memory_grow(0, 1) == usize::MAX {
            core::arch::wasm32::unreachable()
        }
    }
}

pub use pappus_guest::ABI_VERSION;
