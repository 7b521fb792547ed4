//! Bounded spinning before parking a thread.
//!
//! A sandbox call takes a few microseconds, about what it costs to wake a
//! parked thread through a futex on a virtual machine. A synchronous
//! [`Engine::invoke`](crate::Engine::invoke) hands its job to a compute thread
//! and waits for the answer: two such wake-ups per call, which would cost more
//! than the call itself. So a waiter first watches a flag for a short, bounded
//! time (yielding the core to any other runnable thread while it does) and only
//! then parks. Under load the flag is usually set at once and nothing spins.
//!
//! Compute threads spin for their next job only while synchronous callers are
//! active (one waited within [`SYNC_RECENT`]): in the daemon, whose callers
//! await instead, an idle compute thread parks at once and leaves the cores to
//! the HTTP threads.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long a waiter spins before parking: longer than a typical small call,
/// short enough that an idle engine goes quiet at once.
pub(crate) const SPIN_FOR: Duration = Duration::from_micros(50);

/// Spins until `ready()` or [`SPIN_FOR`] has passed (callers look again under
/// their lock either way).
pub(crate) fn spin_until(mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    let mut round = 0u32;
    loop {
        if ready() {
            return;
        }
        round = round.wrapping_add(1);
        if round.is_multiple_of(16) {
            if start.elapsed() >= SPIN_FOR {
                return;
            }
            // Let a thread that has work (perhaps the one we wait for) run.
            std::thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
    }
}

/// How recent a synchronous wait must be for idle compute threads to spin.
const SYNC_RECENT: Duration = Duration::from_millis(1);

/// When the last synchronous wait began, in nanoseconds since [`epoch`] (0: never).
static LAST_SYNC_WAIT: AtomicU64 = AtomicU64::new(0);

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_nanos() -> u64 {
    u64::try_from(epoch().elapsed().as_nanos())
        .unwrap_or(u64::MAX)
        .max(1)
}

/// Records that a caller is about to block for an answer.
pub(crate) fn note_sync_wait() {
    LAST_SYNC_WAIT.store(now_nanos(), Ordering::Relaxed);
}

/// Whether a caller blocked for an answer within [`SYNC_RECENT`].
pub(crate) fn sync_wait_recent() -> bool {
    let last = LAST_SYNC_WAIT.load(Ordering::Relaxed);
    last != 0 && now_nanos().saturating_sub(last) < SYNC_RECENT.as_nanos() as u64
}
