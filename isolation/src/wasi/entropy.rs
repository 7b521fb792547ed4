//! Clocks and randomness, both derived from the call's [`WasiContext`] so that a
//! call can be replayed bit for bit.
//!
//! The realtime clock answers the invocation's time, fixed for the whole call.
//! The monotonic and CPU-time clocks are one logical counter that starts at 0 and
//! advances by [`MONOTONIC_STEP_NS`] each time it is read (and by the timeout of a
//! `poll_oneoff` clock subscription), so elapsed-time loops end and replays agree.

use chacha20::ChaCha12Rng;
use rand_core::{Rng, SeedableRng};

use super::errno::Errno;
use crate::WasiContext;

/// How far the logical monotonic clock advances per read, in nanoseconds.
pub(crate) const MONOTONIC_STEP_NS: u64 = 1_000;

/// The call's clocks.
pub(crate) struct Clock {
    realtime_ns: u64,
    monotonic_ns: u64,
}

impl Clock {
    pub(crate) fn new(context: &WasiContext) -> Clock {
        Clock {
            realtime_ns: context.time_secs.saturating_mul(1_000_000_000),
            monotonic_ns: 0,
        }
    }

    /// The wall-clock time of the call, in nanoseconds since the epoch.
    pub(crate) fn realtime(&self) -> u64 {
        self.realtime_ns
    }

    /// Reads clock `id` (0 realtime, 1 monotonic, 2 process and 3 thread CPU time).
    pub(crate) fn read(&mut self, id: u32) -> Result<u64, Errno> {
        match id {
            0 => Ok(self.realtime_ns),
            1..=3 => {
                self.monotonic_ns = self.monotonic_ns.saturating_add(MONOTONIC_STEP_NS);
                Ok(self.monotonic_ns)
            }
            _ => Err(Errno::INVAL),
        }
    }

    /// Lets logical time pass (a sleep through `poll_oneoff`).
    pub(crate) fn advance(&mut self, ns: u64) {
        self.monotonic_ns = self.monotonic_ns.saturating_add(ns);
    }

    /// The resolution reported for every clock.
    pub(crate) fn resolution(id: u32) -> Result<u64, Errno> {
        match id {
            0 => Ok(1_000_000_000),
            1..=3 => Ok(MONOTONIC_STEP_NS),
            _ => Err(Errno::INVAL),
        }
    }
}

/// The call's random stream: ChaCha12 seeded from the call's seed.
pub(crate) struct Random(ChaCha12Rng);

impl Random {
    pub(crate) fn new(context: &WasiContext) -> Random {
        Random(ChaCha12Rng::seed_from_u64(context.seed))
    }

    pub(crate) fn fill(&mut self, buf: &mut [u8]) {
        self.0.fill_bytes(buf);
    }
}
