//! Cold starts: one request at a time, each a fresh sandbox, process, container
//! or VM, in every mode that can run the workload.

use std::path::Path;

use anyhow::Result;
use pappus_engine::Engine;

use super::budget::bounds;
use super::workload::{check, daemon_caller, inproc_caller, sequential, Outcome, Workload};
use super::Suite;
use crate::baselines::microvm::{self, KvmStatus};
use crate::baselines::oci::{Bundle, Runtime};
use crate::baselines::process;
use crate::baselines::wasmtime_floor::Floor;
use crate::daemon::Daemon;

/// The mode every other is compared with.
pub(super) const INPROC: &str = "Pappus in-process";
/// The floor: bare wasmtime, a fresh instance per call.
pub(super) const FLOOR: &str = "bare wasmtime (floor)";
/// The workload whose cold starts make the summary (and the only one booting
/// microVMs).
pub(super) const HEADLINE_WORKLOAD: &str = "matmul3";

/// One workload's cold starts, one outcome per mode.
pub(super) struct ColdStartRuns {
    pub(super) id: String,
    pub(super) title: String,
    pub(super) outcomes: Vec<Outcome>,
}

/// Every workload's cold starts, and what this host's KVM can do.
pub(super) struct ColdStarts {
    pub(super) kvm: KvmStatus,
    /// A sentence on a probe boot under a KVM detected as unusable.
    pub(super) probe_note: Option<String>,
    pub(super) workloads: Vec<ColdStartRuns>,
}

impl Suite {
    /// Cold starts of every workload with baselines, in every mode.
    pub(super) fn cold_starts(
        &self,
        all: &[Workload],
        engine: &Engine,
        daemon: &Daemon,
        native: &Path,
    ) -> Result<ColdStarts> {
        let kvm = microvm::detect_kvm();
        let kernel = microvm::find_kernel();
        let busybox = microvm::on_path("busybox");
        let mut probe_note = None;
        let mut workloads = Vec::new();
        for w in all.iter().filter(|w| w.baselines) {
            self.progress(&format!("cold start: {}", w.title));
            let mut outcomes = Vec::new();
            let b = &self.budget;
            let floor = Floor::new(&self.wasm(w.function)?)?;
            outcomes.push(sequential(FLOOR, b.fast, 20, || {
                || {
                    floor
                        .call(&w.input)
                        .map_err(|e| format!("{e:#}"))
                        .and_then(|o| check(&o, &w.expected))
                }
            }));
            outcomes.push(sequential(INPROC, b.fast, 20, || inproc_caller(engine, w)));
            outcomes.push(sequential("Pappus daemon (HTTP)", b.fast, 20, || {
                daemon_caller(daemon.addr(), w)
            }));
            outcomes.push(sequential("fork+exec native", b.exec, 3, || {
                || {
                    process::run(native, w.function, &w.input)
                        .map_err(|e| format!("{e:#}"))
                        .and_then(|o| check(&o, &w.expected))
                }
            }));
            if w.containers {
                outcomes.extend(self.containers(w, native)?);
                if w.id == HEADLINE_WORKLOAD {
                    let (vm, note) =
                        self.microvms(w, native, &kvm, kernel.as_deref(), busybox.as_deref())?;
                    outcomes.extend(vm);
                    probe_note = note;
                }
            }
            workloads.push(ColdStartRuns {
                id: w.id.clone(),
                title: w.title.clone(),
                outcomes,
            });
        }
        Ok(ColdStarts {
            kvm,
            probe_note,
            workloads,
        })
    }

    /// The runc and gVisor rows: the native binary in an OCI container per request.
    fn containers(&self, w: &Workload, native: &Path) -> Result<Vec<Outcome>> {
        let bundle = Bundle::create(
            &self.fresh_dir(&format!("bundle-{}", w.id))?,
            native,
            w.function,
        )?;
        let mut outcomes = Vec::new();
        for (runtime, runs, label) in [
            (Runtime::Runc, self.budget.runc, "runc container"),
            (
                Runtime::Runsc,
                self.budget.runsc,
                "gVisor container (runsc)",
            ),
        ] {
            if microvm::on_path(runtime.binary()).is_none() {
                outcomes.push(Outcome::skipped(
                    label,
                    format!("`{}` not on PATH", runtime.binary()),
                ));
                continue;
            }
            outcomes.push(sequential(label, bounds(runs, 60_000), 1, || {
                || {
                    bundle
                        .run(runtime, &w.input)
                        .map_err(|e| format!("{e:#}"))
                        .and_then(|o| check(&o, &w.expected))
                }
            }));
        }
        Ok(outcomes)
    }
}
