//! Memory: the daemon's committed memory idle, with many idle functions
//! registered, and per sandbox in flight.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::daemon::DaemonRun;
use super::workload::{daemon_caller, Workload, COMPOSITIONS};
use super::Suite;
use crate::daemon::Daemon;
use crate::loadgen::Mode;
use crate::procfs::{self, Memory};

/// The daemon's memory at each stage of the memory run.
pub(super) struct MemoryRuns {
    /// How many idle functions were registered.
    pub(super) functions: usize,
    /// The size of the idle function's module.
    pub(super) module_size: u64,
    /// How long registering them took.
    pub(super) registering: Duration,
    /// Started, nothing registered.
    pub(super) idle: Memory,
    /// With the idle functions registered.
    pub(super) registered: Memory,
    /// With compress registered and warmed up.
    pub(super) warmed_up: Memory,
    /// The closed-loop clients of compress 1 MiB.
    pub(super) clients: usize,
    /// The sandboxes that run at once: one per compute thread, at most `clients`.
    pub(super) in_flight: u64,
    /// The compress run, its peak memory included.
    pub(super) load: DaemonRun,
}

impl MemoryRuns {
    /// Committed memory per registered idle function.
    pub(super) fn per_function(&self) -> u64 {
        self.registered
            .committed
            .saturating_sub(self.idle.committed)
            / self.functions.max(1) as u64
    }

    /// Committed memory per in-flight sandbox: peak minus warmed-up, divided by
    /// the sandboxes that run at once.
    pub(super) fn per_sandbox(&self) -> u64 {
        self.load
            .mem
            .committed
            .saturating_sub(self.warmed_up.committed)
            / self.in_flight.max(1)
    }
}

impl Suite {
    /// A fresh daemon: idle, with many idle functions, then under compress 1 MiB.
    pub(super) fn memory(&self, all: &[Workload]) -> Result<MemoryRuns> {
        let n = self.budget.idle_functions;
        self.progress(&format!("memory: {n} idle functions"));
        let dir = self.fresh_dir("daemon-memory")?;
        let daemon = Daemon::start(
            &self.opts.pappus,
            &dir,
            &self.opts.work.join("daemon-memory.log"),
            // Room for the idle functions and the workload's own, above the
            // default per-tenant quota.
            &[
                "--max-functions-per-tenant".to_owned(),
                (n + 16).to_string(),
            ],
        )?;
        let pid = daemon.pid();
        std::thread::sleep(Duration::from_millis(300));
        let idle = procfs::memory(pid)?;
        let noop = self.wasm("noop")?;
        let started = Instant::now();
        for i in 0..n {
            daemon.put_function(&format!("idle{i:04}"), &noop)?;
        }
        let registering = started.elapsed();
        std::thread::sleep(Duration::from_millis(300));
        let registered = procfs::memory(pid)?;

        // Per in-flight sandbox: many clients of compress 1 MiB; at most one
        // sandbox per compute thread runs at once (the daemon's default: one
        // compute thread per core), the rest wait in the admission queue.
        let w = all
            .iter()
            .find(|w| w.id == "compress1024k")
            .context("compress 1 MiB workload")?;
        daemon.put_function("compress", &self.wasm("compress")?)?;
        daemon.put_compositions(&std::fs::read_to_string(
            self.opts.repo.join(COMPOSITIONS[1]),
        )?)?;
        let mut warm = daemon_caller(daemon.addr(), w);
        for _ in 0..3 {
            warm().map_err(|e| anyhow::anyhow!("compress through the daemon failed: {e}"))?;
        }
        std::thread::sleep(Duration::from_millis(300));
        let warmed_up = procfs::memory(pid)?;
        let clients = self.budget.load_clients;
        let load = self.daemon_run(&daemon, w, Mode::Closed { clients }, self.budget.daemon)?;
        let in_flight = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(clients) as u64;
        daemon.stop()?;
        Ok(MemoryRuns {
            functions: n,
            module_size: noop.len() as u64,
            registering,
            idle,
            registered,
            warmed_up,
            clients,
            in_flight,
            load,
        })
    }
}
