//! `spin`: a hostile function that loops forever (until the host's deadline).
#![no_std]

static COUNTER: u32 = 0;

#[no_mangle]
pub extern "C" fn pappus_entry(_region: u32) -> u32 {
    loop {
        // A volatile read keeps the loop from being optimised into anything else.
        // SAFETY: reading a valid static.
        unsafe { core::ptr::read_volatile(&COUNTER) };
    }
}

pub use pappus_guest::ABI_VERSION;
