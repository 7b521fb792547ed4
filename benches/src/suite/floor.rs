//! The HTTP floor, measured in the same run as the daemon: the fixed-body
//! responder on the daemon's stack and runtime configuration
//! (`pappus-bench floor`), and nginx answering a fixed body when it is
//! installed. Each is sent the daemon's matmul 3x3 request (same path shape,
//! same body) by the same closed-loop clients.

use std::time::Duration;

use anyhow::{Context, Result};

use super::daemon::DaemonRun;
use super::render_logs::start_nginx;
use super::workload::{verdict, Workload};
use super::Suite;
use crate::daemon::{invoke_path, Daemon};
use crate::floor::FIXED_BODY;
use crate::http::Connection;
use crate::loadgen::Mode;

/// The closed-loop client counts the request-path targets name.
pub(super) const FLOOR_CLIENTS: [usize; 2] = [1, 4];

/// One floor's runs by number of clients, or why it did not run.
pub(super) type FloorRuns = Result<Vec<(usize, DaemonRun)>, String>;

/// Both floors.
pub(super) struct Floors {
    /// The fixed-body responder on the daemon's own stack.
    pub(super) same_stack: FloorRuns,
    /// nginx (one worker process) answering a fixed body.
    pub(super) nginx: FloorRuns,
}

impl Suite {
    /// Runs both floors at [`FLOOR_CLIENTS`], sending `w`'s body.
    pub(super) fn floors(&self, w: &Workload) -> Floors {
        self.progress("HTTP floor: fixed body on the daemon's stack");
        let same_stack = self
            .same_stack_floor(w)
            .map_err(|e| format!("not run: {e:#}"));
        self.progress("HTTP floor: nginx answering a fixed body");
        let nginx = self.nginx_floor(w);
        Floors { same_stack, nginx }
    }

    fn same_stack_floor(&self, w: &Workload) -> Result<Vec<(usize, DaemonRun)>> {
        let me = std::env::current_exe().context("finding the pappus-bench binary")?;
        let floor = Daemon::floor(&me, &self.opts.work.join("floor.log"))?;
        let path = invoke_path(&w.composition, w.input_set);
        let runs = self.floor_runs(floor.pid(), &|| floor_caller(floor.addr(), &path, w));
        drop(floor);
        runs
    }

    fn nginx_floor(&self, w: &Workload) -> FloorRuns {
        let dir = self
            .fresh_dir("nginx-floor")
            .map_err(|e| format!("not run: {e:#}"))?;
        let nginx = start_nginx(&dir).map_err(|e| format!("not run: nginx did not start: {e}"))?;
        let addr = ([127, 0, 0, 1], nginx.port).into();
        self.floor_runs(nginx.pid(), &|| floor_caller(addr, "/fixed", w))
            .map_err(|e| format!("not run: {e:#}"))
    }

    fn floor_runs<C: FnMut() -> Result<(), String>>(
        &self,
        pid: u32,
        make: &(dyn Fn() -> C + Sync),
    ) -> Result<Vec<(usize, DaemonRun)>> {
        // One checked answer before anything is measured.
        make()().map_err(|e| anyhow::anyhow!("the first answer was refused: {e}"))?;
        let mut runs = Vec::new();
        for clients in FLOOR_CLIENTS {
            let mode = Mode::Closed { clients };
            runs.push((
                clients,
                self.server_run(pid, mode, self.budget.daemon, make)?,
            ));
        }
        Ok(runs)
    }
}

/// A caller posting `w`'s body to `path` at `addr`, expecting [`FIXED_BODY`].
fn floor_caller<'a>(
    addr: std::net::SocketAddr,
    path: &'a str,
    w: &'a Workload,
) -> impl FnMut() -> Result<(), String> + 'a {
    let mut conn = Connection::new(addr, Duration::from_secs(30));
    move || {
        let r = conn
            .request("POST", path, Some("application/octet-stream"), &w.input)
            .map_err(|e| e.kind().to_string())?;
        if r.status != 200 {
            return Err(format!("http_{}", r.status));
        }
        verdict(r.body == FIXED_BODY.as_bytes())
    }
}
