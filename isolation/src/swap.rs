//! Whether the host can swap, which decides how a recycled memory is reset.
//!
//! The runtime prefers to reset a recycled linear memory (and table) by
//! `memset` of only the pages the call wrote, found with Linux's
//! `PAGEMAP_SCAN` (wasmtime's `pagemap_scan`). Wasmtime 48 asks that scan for
//! written pages that are *present*: a page a call wrote and the kernel then
//! swapped out before the reset is neither reset nor decommitted, so the next
//! call in that pool slot, perhaps another tenant's, would read it. So the scan
//! is used only on a host without swap. With swap, memories are decommitted
//! with `madvise` on every reset, which is always complete.
//!
//! Swap turned on after the runtime started is noticed by [`SwapWatch`] within
//! [`CHECK_EVERY`]; from then on a runtime that resets by scan refuses calls
//! until it is restarted (and then chooses `madvise`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often a running runtime looks at whether swap has appeared.
pub(crate) const CHECK_EVERY: Duration = Duration::from_secs(1);

/// Whether the host has any swap space (devices, files or compressed RAM),
/// from `sysinfo(2)`. A host that cannot tell counts as having swap.
pub(crate) fn host_has_swap() -> bool {
    let mut info = std::mem::MaybeUninit::<libc::sysinfo>::zeroed();
    // SAFETY: `sysinfo` writes a `struct sysinfo` into the pointer it is given,
    // which points to one.
    let rc = unsafe { libc::sysinfo(info.as_mut_ptr()) };
    if rc != 0 {
        return true;
    }
    // SAFETY: `sysinfo` succeeded, so it filled the struct (which was zeroed,
    // hence initialised, anyway).
    let info = unsafe { info.assume_init() };
    info.totalswap > 0
}

/// Notices swap appearing on a host that had none when the runtime started:
/// asks `probe` at most once per [`CHECK_EVERY`], from whichever call comes
/// first after the interval, and remembers a "yes" for good.
pub(crate) struct SwapWatch {
    start: Instant,
    /// Nanoseconds after `start` when `probe` is next asked.
    next_check: AtomicU64,
    seen: AtomicBool,
    probe: fn() -> bool,
}

impl SwapWatch {
    pub(crate) fn new(probe: fn() -> bool) -> SwapWatch {
        SwapWatch {
            start: Instant::now(),
            next_check: AtomicU64::new(0),
            seen: AtomicBool::new(false),
            probe,
        }
    }

    /// Whether swap has been seen by `now`. Costs an atomic load between
    /// checks; one call per interval asks the probe (a system call).
    pub(crate) fn swap_seen(&self, now: Instant) -> bool {
        if self.seen.load(Ordering::Acquire) {
            return true;
        }
        let elapsed =
            u64::try_from(now.saturating_duration_since(self.start).as_nanos()).unwrap_or(u64::MAX);
        let due = self.next_check.load(Ordering::Acquire);
        if elapsed < due {
            return false;
        }
        let next = elapsed.saturating_add(CHECK_EVERY.as_nanos() as u64);
        // One caller per interval probes; the others go on.
        if self
            .next_check
            .compare_exchange(due, next, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return false;
        }
        if (self.probe)() {
            self.seen.store(true, Ordering::Release);
            tracing::error!(
                "swap was turned on while the node runs: sandbox memories are reset by a \
                 dirty-page scan that misses swapped-out pages, so calls are refused until \
                 the node is restarted (it then resets them with madvise)"
            );
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    static PROBES: AtomicUsize = AtomicUsize::new(0);
    static SWAP_ON: AtomicBool = AtomicBool::new(false);

    fn counting_probe() -> bool {
        PROBES.fetch_add(1, Ordering::SeqCst);
        SWAP_ON.load(Ordering::SeqCst)
    }

    #[test]
    fn swap_is_probed_once_per_interval_and_a_yes_is_kept() {
        let watch = SwapWatch::new(counting_probe);
        let t0 = watch.start;
        assert!(!watch.swap_seen(t0));
        assert_eq!(PROBES.load(Ordering::SeqCst), 1);
        // Within the interval: no probe, even though swap is now on.
        SWAP_ON.store(true, Ordering::SeqCst);
        assert!(!watch.swap_seen(t0 + CHECK_EVERY / 2));
        assert_eq!(PROBES.load(Ordering::SeqCst), 1);
        // After it: probed, seen, and kept without probing again.
        assert!(watch.swap_seen(t0 + CHECK_EVERY));
        assert_eq!(PROBES.load(Ordering::SeqCst), 2);
        SWAP_ON.store(false, Ordering::SeqCst);
        assert!(watch.swap_seen(t0 + CHECK_EVERY * 5));
        assert_eq!(PROBES.load(Ordering::SeqCst), 2);
    }
}
