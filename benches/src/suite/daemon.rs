//! The daemon under load: matmul 3x3 under closed- and open-loop load, then
//! every workload through the daemon and in-process.

use std::time::Duration;

use anyhow::{Context, Result};
use pappus_engine::Engine;

use super::render_logs::RenderLogs;
use super::workload::{daemon_caller, inproc_caller, sequential, Outcome, Workload};
use super::Suite;
use crate::daemon::Daemon;
use crate::loadgen::{self, Bounds, Mode, RunResult, Sampler};
use crate::procfs;

/// One bounded run against the daemon, with the daemon's CPU time over the run
/// and its peak memory.
pub(super) struct DaemonRun {
    pub(super) run: RunResult,
    pub(super) cpu: Duration,
    pub(super) mem: procfs::Memory,
}

/// The open-loop runs' sending connections.
pub(super) const OPEN_CONNECTIONS: usize = 64;

/// matmul 3x3 under load.
pub(super) struct Throughput {
    /// By number of closed-loop clients.
    pub(super) closed: Vec<(usize, DaemonRun)>,
    /// By offered rate (req/s), fractions of the best closed-loop throughput.
    pub(super) open: Vec<(f64, DaemonRun)>,
}

/// One workload through the daemon and in-process.
pub(super) struct WorkloadRuns {
    pub(super) id: String,
    pub(super) title: String,
    /// By number of closed-loop clients.
    pub(super) daemon: Vec<(usize, DaemonRun)>,
    /// `Engine::invoke` on one thread.
    pub(super) inproc: Outcome,
}

/// Every workload through the daemon and in-process.
pub(super) struct ThroughDaemon {
    pub(super) runs: Vec<WorkloadRuns>,
    /// Why the render-logs workload did not run, if it did not.
    pub(super) render_logs_not_run: Option<String>,
    /// The clients of the second run of each workload.
    pub(super) clients: usize,
    /// How long each daemon run lasts.
    pub(super) duration: Duration,
}

impl Suite {
    /// `w` (matmul 3x3) under closed-loop load for each client count, then open
    /// loop at fractions of the best closed-loop throughput.
    pub(super) fn throughput(&self, w: &Workload, daemon: &Daemon) -> Result<Throughput> {
        let mut best: f64 = 0.0;
        let mut closed = Vec::new();
        for &clients in &self.budget.clients {
            self.progress(&format!("daemon matmul 3x3, {clients} closed-loop clients"));
            let run = self.daemon_run(daemon, w, Mode::Closed { clients }, self.budget.daemon)?;
            best = best.max(run.run.throughput());
            closed.push((clients, run));
        }
        let mut open = Vec::new();
        for &fraction in &self.budget.sweep {
            let rate = (best * fraction).max(10.0).round();
            self.progress(&format!("daemon matmul 3x3, open loop at {rate} req/s"));
            let mode = Mode::Open {
                rate,
                connections: OPEN_CONNECTIONS,
            };
            open.push((
                rate,
                self.daemon_run(daemon, w, mode, self.budget.sweep_time)?,
            ));
        }
        Ok(Throughput { closed, open })
    }

    /// Every workload (and render-logs when it runs) through the daemon with
    /// one and with several clients, then in-process on one thread.
    pub(super) fn workloads(
        &self,
        all: &[Workload],
        render_logs: &RenderLogs,
        engine: &Engine,
        daemon: &Daemon,
    ) -> Result<ThroughDaemon> {
        let mut runs = Vec::new();
        let render = render_logs.as_ref().ok().map(|(_, w)| w);
        for w in all.iter().chain(render) {
            let mut through_daemon = Vec::new();
            for clients in [1, self.budget.load_clients] {
                self.progress(&format!("daemon {}, {clients} client(s)", w.title));
                let run =
                    self.daemon_run(daemon, w, Mode::Closed { clients }, self.budget.daemon)?;
                through_daemon.push((clients, run));
            }
            let inproc = sequential("in-process", self.budget.fast, 5, || {
                inproc_caller(engine, w)
            });
            runs.push(WorkloadRuns {
                id: w.id.clone(),
                title: w.title.clone(),
                daemon: through_daemon,
                inproc,
            });
        }
        Ok(ThroughDaemon {
            runs,
            render_logs_not_run: render_logs.as_ref().err().cloned(),
            clients: self.budget.load_clients,
            duration: self.budget.daemon,
        })
    }

    /// A bounded run against the daemon with its CPU time and peak memory.
    pub(super) fn daemon_run(
        &self,
        daemon: &Daemon,
        w: &Workload,
        mode: Mode,
        duration: Duration,
    ) -> Result<DaemonRun> {
        self.server_run(daemon.pid(), mode, duration, &|| {
            daemon_caller(daemon.addr(), w)
        })
    }

    /// A bounded run of `make()`'s callers against the server process `pid`,
    /// with its CPU time over the run and its peak memory.
    pub(super) fn server_run<C: FnMut() -> Result<(), String>>(
        &self,
        pid: u32,
        mode: Mode,
        duration: Duration,
        make: &(dyn Fn() -> C + Sync),
    ) -> Result<DaemonRun> {
        let cpu0 = procfs::cpu_time(pid).context("reading the server's CPU time")?;
        let sampler = Sampler::start(pid, Duration::from_millis(20));
        let requests = match mode {
            Mode::Open { rate, .. } => (rate * duration.as_secs_f64()).ceil() as u64,
            Mode::Closed { .. } => u64::MAX,
        };
        let mut run = loadgen::run(mode, Bounds { requests, duration }, make);
        let mem = sampler.stop();
        let cpu = procfs::cpu_time(pid)
            .context("reading the server's CPU time")?
            .saturating_sub(cpu0);
        if let Mode::Open { .. } = mode {
            let sent = run.latencies.len() + run.error_count();
            if sent < requests {
                run.errors
                    .insert("unsent_by_deadline".into(), requests - sent);
            }
        }
        Ok(DaemonRun { run, cpu, mem })
    }
}
