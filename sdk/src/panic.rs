//! Making a guest panic's message reach the host.
//!
//! A panic traps, and after a trap the host reads no outputs; but it does look at
//! the region header's `output` slot (`docs/abi.md`, "Traps"). [`run`](crate::run)
//! remembers the region's address, and the panic handler writes an output
//! descriptor with no sets and the panic's message (location and text, at most
//! 1 KiB) from static memory, so that even a panic on a full arena reports it, then
//! traps.

use core::sync::atomic::{AtomicU32, Ordering};

/// The current call's input region (0 before [`enter`]).
static REGION: AtomicU32 = AtomicU32::new(0);

/// Records the region of the call that starts (one store per call).
pub(crate) fn enter(region: u32) {
    REGION.store(region, Ordering::Relaxed);
}

#[cfg(all(feature = "panic-handler", target_arch = "wasm32"))]
mod handler {
    use super::{Ordering, REGION};
    use crate::message::Fill;
    use core::cell::UnsafeCell;
    use core::fmt::Write;
    use core::sync::atomic::AtomicBool;

    /// Longest panic message kept, in bytes.
    const PANIC_MESSAGE: usize = 1024;

    /// Static storage the handler writes into: the message and its descriptor.
    struct Report {
        message: UnsafeCell<[u8; PANIC_MESSAGE]>,
        desc: UnsafeCell<[u32; 4]>,
    }

    // SAFETY: a wasm32 guest without threads runs one call at a time, and only
    // the panic handler touches `Report`, once (the `PANICKING` flag below).
    unsafe impl Sync for Report {}

    static REPORT: Report = Report {
        message: UnsafeCell::new([0; PANIC_MESSAGE]),
        desc: UnsafeCell::new([0; 4]),
    };
    static PANICKING: AtomicBool = AtomicBool::new(false);

    #[panic_handler]
    fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
        let region = REGION.load(Ordering::Relaxed);
        // A panic while formatting the first one traps without a message.
        if region != 0 && !PANICKING.swap(true, Ordering::Relaxed) {
            // SAFETY: see `Report`: nothing else refers to it, and this runs once.
            let (buf, desc) = unsafe { (&mut *REPORT.message.get(), &mut *REPORT.desc.get()) };
            let mut fill = Fill { buf, len: 0 };
            let _ = match info.location() {
                Some(at) => write!(
                    fill,
                    "panicked at {}:{}: {}",
                    at.file(),
                    at.line(),
                    info.message()
                ),
                None => write!(fill, "panicked: {}", info.message()),
            };
            let message = fill.as_str();
            *desc = [0, 0, message.as_ptr() as u32, message.len() as u32];
            let slot = (region + 20) as usize as *mut u32;
            // SAFETY: the slot is in the region header the host placed (ABI v1),
            // 4-byte aligned since the region is page-aligned, and guest memory.
            unsafe { slot.write(desc.as_ptr() as u32) };
        }
        core::arch::wasm32::unreachable()
    }
}
