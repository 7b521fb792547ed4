//! Open- and closed-loop load generation, bounded in requests and in time.
//!
//! A run drives a *caller*, a closure that performs one request and answers
//! `Ok(())` or `Err(kind)`; every worker thread makes its own caller (so each
//! owns its connection). Latencies go into an HdrHistogram per thread, merged at
//! the end.
//!
//! - **Closed loop** ([`Mode::Closed`]): `clients` threads, each sending its next
//!   request when the previous one answered. Latency is measured per request.
//! - **Open loop** ([`Mode::Open`]): requests are *scheduled* at a fixed rate
//!   (request `i` is due at `start + i / rate`) and sent by a pool of
//!   `connections` threads. Latency is measured from the intended send time, not
//!   the actual one, so when the server (or the pool) falls behind, the queueing
//!   delay is counted instead of hidden (coordinated omission).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::hist::{Errors, Latencies};
use crate::procfs;

/// How requests are issued.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    /// `clients` concurrent clients, each waiting for its answer before the next request.
    Closed {
        /// Number of concurrent clients (at least 1).
        clients: usize,
    },
    /// Requests scheduled at `rate` per second, sent by `connections` threads.
    Open {
        /// Offered load in requests per second.
        rate: f64,
        /// Sending threads (each with its own connection); bounds concurrency.
        connections: usize,
    },
}

/// Where a run stops: whichever bound comes first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// At most this many requests.
    pub requests: u64,
    /// At most this long.
    pub duration: Duration,
}

/// The outcome of one run.
#[derive(Clone, Debug, Default)]
pub struct RunResult {
    /// Latencies of the successful requests.
    pub latencies: Latencies,
    /// Failed requests by kind.
    pub errors: Errors,
    /// Wall-clock time from the first request to the last answer.
    pub elapsed: Duration,
    /// The offered load of an open-loop run.
    pub offered: Option<f64>,
}

impl RunResult {
    /// Successful requests per second.
    pub fn throughput(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.latencies.len() as f64 / secs
        } else {
            0.0
        }
    }

    /// Number of failed requests.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// Runs `make()`'s callers under `mode` until `bounds` is reached.
pub fn run<F, C>(mode: Mode, bounds: Bounds, make: F) -> RunResult
where
    F: Fn() -> C + Sync,
    C: FnMut() -> Result<(), String>,
{
    let threads = match mode {
        Mode::Closed { clients } => clients.max(1),
        Mode::Open { connections, .. } => connections.max(1),
    };
    let next = AtomicU64::new(0);
    let merged = Mutex::new((Latencies::new(), Errors::new()));
    let start = Instant::now();
    let deadline = start + bounds.duration;
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut call = make();
                let mut lat = Latencies::new();
                let mut errors = Errors::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= bounds.requests {
                        break;
                    }
                    let began = match mode {
                        Mode::Closed { .. } => Instant::now(),
                        Mode::Open { rate, .. } => {
                            let due = start + Duration::from_secs_f64(i as f64 / rate.max(1e-9));
                            let now = Instant::now();
                            if due > now {
                                std::thread::sleep(due - now);
                            }
                            due
                        }
                    };
                    if began >= deadline {
                        break;
                    }
                    match call() {
                        Ok(()) => lat.record(began.elapsed()),
                        Err(kind) => *errors.entry(kind).or_insert(0) += 1,
                    }
                    if Instant::now() >= deadline {
                        break;
                    }
                }
                if let Ok(mut m) = merged.lock() {
                    m.0.merge(&lat);
                    for (k, v) in errors {
                        *m.1.entry(k).or_insert(0) += v;
                    }
                }
            });
        }
    });
    let elapsed = start.elapsed();
    let (latencies, errors) = merged.into_inner().unwrap_or_else(|p| p.into_inner());
    RunResult {
        latencies,
        errors,
        elapsed,
        offered: match mode {
            Mode::Open { rate, .. } => Some(rate),
            Mode::Closed { .. } => None,
        },
    }
}

/// How many samples of `status` per one of `smaps_rollup` (and one more at
/// the end). Reading `smaps_rollup` walks the process's whole address space
/// under its memory-map lock, which the daemon's sandbox calls take for writing
/// (`mprotect`); read every 20 ms it cost the daemon about a quarter of its
/// 1-client matmul 3x3 throughput and doubled its p99, while `status` reads
/// counters only.
const ROLLUP_EVERY: u32 = 25;

/// Samples a process's memory in the background and keeps the peak (of
/// committed memory, over the samples that read it).
pub struct Sampler {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<procfs::Memory>>,
}

impl Sampler {
    /// Starts sampling `pid` every `interval`.
    pub fn start(pid: u32, interval: Duration) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut peak = procfs::Memory::default();
            let mut fold = |m: procfs::Memory, committed: bool| {
                peak.rss = peak.rss.max(m.rss);
                peak.rss_peak = peak.rss_peak.max(m.rss_peak);
                peak.virtual_size = peak.virtual_size.max(m.virtual_size);
                if committed {
                    peak.committed = peak.committed.max(m.committed);
                }
            };
            let mut sample = 0u32;
            while !flag.load(Ordering::Relaxed) {
                let full = sample.is_multiple_of(ROLLUP_EVERY);
                let read = if full {
                    procfs::memory(pid)
                } else {
                    procfs::memory_status(pid)
                };
                if let Ok(m) = read {
                    fold(m, full);
                }
                sample = sample.wrapping_add(1);
                std::thread::sleep(interval);
            }
            // The state at the end, in full.
            if let Ok(m) = procfs::memory(pid) {
                fold(m, true);
            }
            peak
        });
        Sampler {
            stop,
            handle: Some(handle),
        }
    }

    /// Stops sampling and answers the peak of each field.
    pub fn stop(mut self) -> procfs::Memory {
        self.stop.store(true, Ordering::Relaxed);
        match self.handle.take().map(|h| h.join()) {
            Some(Ok(m)) => m,
            _ => procfs::Memory::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_loop_stops_at_the_request_bound() {
        let calls = AtomicU64::new(0);
        let r = run(
            Mode::Closed { clients: 3 },
            Bounds {
                requests: 100,
                duration: Duration::from_secs(10),
            },
            || {
                || {
                    calls.fetch_add(1, Ordering::Relaxed);
                    Ok(())
                }
            },
        );
        assert_eq!(r.latencies.len(), 100);
        assert_eq!(calls.load(Ordering::Relaxed), 100);
        assert_eq!(r.error_count(), 0);
    }

    #[test]
    fn errors_are_counted_by_kind() {
        let r = run(
            Mode::Closed { clients: 1 },
            Bounds {
                requests: 10,
                duration: Duration::from_secs(10),
            },
            || {
                let mut n = 0;
                move || {
                    n += 1;
                    if n % 2 == 0 {
                        Err("http_429".to_string())
                    } else {
                        Ok(())
                    }
                }
            },
        );
        assert_eq!(r.latencies.len(), 5);
        assert_eq!(r.errors.get("http_429"), Some(&5));
    }

    #[test]
    fn open_loop_counts_queueing_from_the_intended_time() {
        // One connection, 1000 req/s offered, each call takes 5 ms: the server
        // falls behind, and latency must grow well past the 5 ms service time.
        let r = run(
            Mode::Open {
                rate: 1000.0,
                connections: 1,
            },
            Bounds {
                requests: 20,
                duration: Duration::from_secs(10),
            },
            || {
                || {
                    std::thread::sleep(Duration::from_millis(5));
                    Ok(())
                }
            },
        );
        assert_eq!(r.latencies.len(), 20);
        assert!(
            r.latencies.summary().max > Duration::from_millis(50),
            "{:?}",
            r.latencies.summary()
        );
        assert_eq!(r.offered, Some(1000.0));
    }

    #[test]
    fn time_bound_stops_a_run() {
        let r = run(
            Mode::Closed { clients: 2 },
            Bounds {
                requests: u64::MAX,
                duration: Duration::from_millis(50),
            },
            || {
                || {
                    std::thread::sleep(Duration::from_millis(1));
                    Ok(())
                }
            },
        );
        assert!(r.elapsed < Duration::from_secs(2));
        assert!(!r.latencies.is_empty());
    }
}
