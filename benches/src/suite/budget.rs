//! How long each part of the suite runs, in the quick and the full run.

use std::time::Duration;

use crate::loadgen::Bounds;

/// How long each part runs.
pub(super) struct Budget {
    pub(super) fast: Bounds,
    pub(super) exec: Bounds,
    pub(super) runc: u64,
    pub(super) runsc: u64,
    pub(super) kvm_boots: u64,
    pub(super) tcg_boots: u64,
    pub(super) kvm_probe: Option<Duration>,
    pub(super) daemon: Duration,
    pub(super) clients: Vec<usize>,
    pub(super) sweep: Vec<f64>,
    pub(super) sweep_time: Duration,
    pub(super) idle_functions: usize,
    pub(super) load_clients: usize,
    /// Item counts of the fan-out width run, and invocations per count.
    pub(super) widths: Vec<usize>,
    pub(super) width_tries: usize,
}

impl Budget {
    pub(super) fn new(quick: bool) -> Budget {
        if quick {
            Budget {
                fast: bounds(500, 300),
                exec: bounds(60, 400),
                runc: 4,
                runsc: 3,
                kvm_boots: 2,
                tcg_boots: 0,
                kvm_probe: None,
                daemon: Duration::from_millis(700),
                clients: vec![1, 4],
                sweep: vec![0.5, 0.9, 1.2],
                sweep_time: Duration::from_millis(800),
                idle_functions: 100,
                load_clients: 4,
                widths: vec![1_000, 10_000],
                width_tries: 2,
            }
        } else {
            Budget {
                fast: bounds(20_000, 2_000),
                exec: bounds(500, 3_000),
                runc: 40,
                runsc: 20,
                kvm_boots: 10,
                tcg_boots: 3,
                kvm_probe: Some(Duration::from_secs(15)),
                daemon: Duration::from_secs(4),
                clients: vec![1, 2, 4, 8, 16],
                sweep: vec![0.25, 0.5, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5],
                sweep_time: Duration::from_secs(4),
                idle_functions: 1000,
                load_clients: 8,
                widths: vec![1_000, 10_000, 100_000],
                width_tries: 3,
            }
        }
    }
}

/// At most `requests` requests in at most `millis` milliseconds.
pub(super) fn bounds(requests: u64, millis: u64) -> Bounds {
    Bounds {
        requests,
        duration: Duration::from_millis(millis),
    }
}
