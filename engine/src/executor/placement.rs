//! Where a compute shard runs: on the thread that decided to run it, or on a
//! compute thread.
//!
//! Handing a shard to the compute pool and its answer back costs two thread
//! wake-ups (a futex each, then the scheduler's switch), which on a virtual
//! machine cost about as much CPU as a small sandbox call itself, and add
//! their latency to every request. So the last compute shard a transition
//! launches runs on the current thread when that thread may run it:
//!
//! - a **compute thread** runs it always: it would otherwise queue the shard
//!   and most likely take it off the queue itself (a chain's next shard, or
//!   the last of a fan-out whose others went to the pool);
//! - the **thread that started the invocation** (an HTTP thread of the daemon,
//!   a caller of [`Engine::invoke`](crate::Engine::invoke)) runs it when the
//!   shard's node has recently taken under [`INLINE_BOUND`] in its sandbox,
//!   and only while what it ran inline for this invocation stays under that
//!   bound. Such a thread serves other requests too, so it holds them up by
//!   at most about one small request's time; anything larger, or a node never
//!   run before, goes to the pool;
//! - any other thread (an I/O thread completing a builtin) hands it off.
//!
//! A node's recent time is only a forecast: a function fast so far may spin
//! on its next input. So a shard run on the starting thread is given a cutoff
//! at the end of that thread's budget; if it is still running then, it is
//! stopped at the sandbox watchdog's next tick and run again on the pool with its whole
//! deadline (functions are pure, so the second run computes what the first
//! would have), and its node's recent time sends the next ones to the pool.
//! A starting thread is thus held by one shard for at most its budget plus
//! a watchdog tick, whatever the guest does.
//!
//! Deadlines, cancellation and accounting are the same wherever a shard runs:
//! the sandbox runtime's watchdog stops an overdue guest on any thread, and
//! the shard's result goes through the same state machine.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Shards whose node recently took less than this in its sandbox may run on
/// the thread that started the invocation (and this is the most such a thread
/// runs inline for one invocation). About what the two hand-offs it replaces
/// and the rest of a small request cost together: holding a receiving thread
/// this long delays its other connections by about one request.
pub(crate) const INLINE_BOUND: Duration = Duration::from_micros(100);

/// What the current thread is to the executor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// Any thread not below.
    Elsewhere,
    /// A compute pool thread.
    Compute,
    /// The thread that is starting an invocation (inside its `start`), with
    /// how much sandbox time it has left for shards run inline.
    Starter { budget_nanos: u64 },
}

thread_local! {
    static PLACE: Cell<Place> = const { Cell::new(Place::Elsewhere) };
}

/// The current thread's place.
pub(crate) fn current() -> Place {
    PLACE.with(Cell::get)
}

/// Marks the current thread as a compute thread for good.
pub(crate) fn enter_pool() {
    PLACE.with(|p| p.set(Place::Compute));
}

/// Runs `f` with the current thread marked as starting an invocation (unless
/// it is a compute thread, which stays one), then restores its place.
pub(crate) fn as_starter<T>(f: impl FnOnce() -> T) -> T {
    let before = current();
    if before == Place::Compute {
        return f();
    }
    /// Puts the thread's place back even if `f` unwinds.
    struct Restore(Place);
    impl Drop for Restore {
        fn drop(&mut self) {
            PLACE.with(|p| p.set(self.0));
        }
    }
    let _restore = Restore(before);
    PLACE.with(|p| {
        p.set(Place::Starter {
            budget_nanos: nanos(INLINE_BOUND),
        })
    });
    f()
}

/// Whether a shard of a node whose recent sandbox time is `recent` should run
/// here rather than on the pool.
pub(crate) fn run_here(recent: &RecentTime) -> bool {
    match current() {
        Place::Compute => true,
        Place::Elsewhere => false,
        Place::Starter { budget_nanos } => recent.get().is_some_and(|t| t < budget_nanos),
    }
}

/// When a shard begun at `begun` on this thread is to be given up: the end of
/// a starting thread's budget; never on other threads.
pub(crate) fn cutoff(begun: Instant) -> Option<Instant> {
    match current() {
        Place::Starter { budget_nanos } => Some(begun + Duration::from_nanos(budget_nanos)),
        Place::Compute | Place::Elsewhere => None,
    }
}

/// Charges `spent` of sandbox time, run inline, to a starting thread's budget.
pub(crate) fn charge(spent: Duration) {
    PLACE.with(|p| {
        if let Place::Starter { budget_nanos } = p.get() {
            p.set(Place::Starter {
                budget_nanos: budget_nanos.saturating_sub(nanos(spent)),
            });
        }
    });
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// A node's recent sandbox time: raised at once by a slow run, lowered by an
/// eighth of the way per faster run, so one slow call sends the next ones to
/// the pool until the node has shown again that it is small.
#[derive(Debug)]
pub(crate) struct RecentTime(AtomicU64);

/// Never run.
const UNKNOWN: u64 = u64::MAX;

impl Default for RecentTime {
    fn default() -> RecentTime {
        RecentTime(AtomicU64::new(UNKNOWN))
    }
}

impl RecentTime {
    /// The estimate, `None` before the first run.
    pub(crate) fn get(&self) -> Option<u64> {
        match self.0.load(Ordering::Relaxed) {
            UNKNOWN => None,
            t => Some(t),
        }
    }

    /// Folds in one run's sandbox time. Racing updates may lose one sample,
    /// which only delays the estimate by a run.
    pub(crate) fn record(&self, spent: Duration) {
        let sample = nanos(spent).min(UNKNOWN - 1);
        let next = match self.get() {
            Some(t) if sample < t => t - (t - sample) / 8,
            _ => sample,
        };
        self.0.store(next, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_never_run_goes_to_the_pool_from_a_starting_thread() {
        let recent = RecentTime::default();
        assert!(as_starter(|| !run_here(&recent)));
    }

    #[test]
    fn a_small_node_runs_on_the_starting_thread_within_its_budget() {
        let recent = RecentTime::default();
        recent.record(Duration::from_micros(10));
        as_starter(|| {
            assert!(run_here(&recent));
            charge(INLINE_BOUND);
            assert!(!run_here(&recent), "the budget is spent");
        });
        assert_eq!(current(), Place::Elsewhere, "the place is restored");
        assert!(!run_here(&recent), "an other thread hands off");
    }

    #[test]
    fn one_slow_run_sends_the_next_to_the_pool_until_the_node_is_small_again() {
        let recent = RecentTime::default();
        recent.record(Duration::from_micros(10));
        recent.record(Duration::from_millis(5));
        assert!(as_starter(|| !run_here(&recent)));
        let mut runs = 0;
        while as_starter(|| !run_here(&recent)) {
            recent.record(Duration::from_micros(10));
            runs += 1;
            assert!(runs < 100, "the estimate comes down");
        }
        assert!(runs > 1, "not at the first fast run");
    }

    #[test]
    fn a_compute_thread_runs_every_shard_itself() {
        let recent = RecentTime::default();
        let checked = std::thread::spawn(move || {
            enter_pool();
            run_here(&recent) && as_starter(|| run_here(&recent))
        })
        .join();
        assert!(matches!(checked, Ok(true)));
    }
}
