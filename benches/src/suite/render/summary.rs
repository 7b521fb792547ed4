//! The summary at the top of the report: each claim, what was measured, and
//! the verdict against its target.

use std::time::Duration;

use super::super::cold_start::{HEADLINE_WORKLOAD, INPROC};
use super::super::microvm::{KVM, TCG};
use super::super::render_logs::RENDER_LOGS_ID;
use super::tables::ratio;
use super::Measured;
use crate::baselines::microvm::KvmStatus;
use crate::hist::{format_bytes, format_duration};
use crate::loadgen::RunResult;
use crate::report::Report;

/// The numbers the summary quotes, picked from the measurements.
#[derive(Default)]
struct Headline {
    wasmtime_p50: Option<Duration>,
    inproc_p50: Option<Duration>,
    runsc_p50: Option<Duration>,
    runc_p50: Option<Duration>,
    exec_p50: Option<Duration>,
    kvm: String,
    kvm_p50: Option<Duration>,
    tcg_p50: Option<Duration>,
    daemon_one: Option<(f64, Duration, Duration)>,
    render_logs_one: Option<(f64, Duration, Duration)>,
    idle_per_function: Option<(u64, usize)>,
    per_sandbox: Option<u64>,
}

/// Throughput, p50 and p99 of a run.
fn one_client(run: &RunResult) -> (f64, Duration, Duration) {
    let s = run.latencies.summary();
    (run.throughput(), s.p50, s.p99)
}

impl Headline {
    fn of(m: &Measured) -> Headline {
        let mut h = Headline {
            kvm: match &m.cold_starts.kvm {
                KvmStatus::Usable => "KVM usable".into(),
                KvmStatus::Unusable { reason } => format!("not measurable here: {reason}"),
            },
            ..Headline::default()
        };
        if let Some(w) = m
            .cold_starts
            .workloads
            .iter()
            .find(|w| w.id == HEADLINE_WORKLOAD)
        {
            let p50 = |mode: &str| {
                w.outcomes
                    .iter()
                    .find(|o| o.mode.starts_with(mode))
                    .and_then(|o| o.run.as_ref())
                    .map(|r| r.latencies.summary().p50)
            };
            h.wasmtime_p50 = p50("bare wasmtime");
            h.inproc_p50 = p50(INPROC);
            h.runsc_p50 = p50("gVisor");
            h.runc_p50 = p50("runc");
            h.exec_p50 = p50("fork+exec");
            h.kvm_p50 = p50(KVM);
            h.tcg_p50 = p50(TCG);
        }
        h.daemon_one = m
            .throughput
            .closed
            .iter()
            .find(|(clients, _)| *clients == 1)
            .map(|(_, d)| one_client(&d.run));
        h.render_logs_one = m
            .workloads
            .runs
            .iter()
            .filter(|w| w.id == RENDER_LOGS_ID)
            .flat_map(|w| &w.daemon)
            .find(|(clients, _)| *clients == 1)
            .map(|(_, d)| one_client(&d.run));
        h.idle_per_function = Some((m.memory.per_function(), m.memory.functions));
        h.per_sandbox = Some(m.memory.per_sandbox());
        h
    }
}

/// The summary heading and table.
pub(super) fn summary(out: &mut Report, m: &Measured) {
    let h = Headline::of(m);
    let mut rows = Vec::new();
    let fmt = |d: Option<Duration>| {
        d.map(format_duration)
            .unwrap_or_else(|| "not measured".into())
    };
    rows.push(vec![
        "cold start, Pappus in-process vs bare wasmtime (matmul 3x3, p50)".into(),
        format!("{} vs {}", fmt(h.inproc_p50), fmt(h.wasmtime_p50)),
        match (h.inproc_p50, h.wasmtime_p50) {
            (Some(a), Some(b)) => format!("{} of the floor (target: within 2x)", ratio(a, b)),
            _ => "-".into(),
        },
    ]);
    for (label, other) in [
        ("gVisor (runsc)", h.runsc_p50),
        ("runc", h.runc_p50),
        ("fork+exec", h.exec_p50),
    ] {
        rows.push(vec![
            format!("cold start, {label} vs Pappus in-process (matmul 3x3, p50)"),
            format!("{} vs {}", fmt(other), fmt(h.inproc_p50)),
            match (other, h.inproc_p50) {
                (Some(a), Some(b)) => {
                    let target = if label.starts_with("gVisor") {
                        " (target: at least 1000x)"
                    } else {
                        ""
                    };
                    format!("Pappus {} faster{target}", ratio(a, b))
                }
                _ => "-".into(),
            },
        ]);
    }
    rows.push(vec![
        "cold start, microVM (QEMU microvm + KVM) vs Pappus in-process".into(),
        match h.kvm_p50 {
            Some(d) => format!("{} vs {}", format_duration(d), fmt(h.inproc_p50)),
            None => "no KVM number".into(),
        },
        match (h.kvm_p50, h.inproc_p50) {
            (Some(a), Some(b)) => {
                format!("Pappus {} faster (target: at least 1000x)", ratio(a, b))
            }
            _ => h.kvm.clone(),
        },
    ]);
    if let Some(tcg) = h.tcg_p50 {
        rows.push(vec![
            "microVM boot under software emulation (TCG, not KVM)".into(),
            format_duration(tcg),
            "emulation: not comparable with a KVM boot".into(),
        ]);
    }
    let one = |run: Option<(f64, Duration, Duration)>| match run {
        Some((tp, p50, p99)) => format!(
            "{tp:.0} req/s, p50 {}, p99 {}",
            format_duration(p50),
            format_duration(p99)
        ),
        None => "not measured".into(),
    };
    rows.push(vec![
        "daemon, matmul 3x3, one closed-loop client".into(),
        one(h.daemon_one),
        "target: well above 800 req/s with p99 under 2 ms".into(),
    ]);
    rows.push(vec![
        "daemon, render-logs (auth + 3 shards from nginx), one closed-loop client".into(),
        one(h.render_logs_one),
        "no baseline equivalent (its baselines would need an HTTP client in the guest)".into(),
    ]);
    rows.push(vec![
        "daemon committed memory per registered idle function".into(),
        match h.idle_per_function {
            Some((b, n)) => format!("{} ({n} functions)", format_bytes(b)),
            None => "not measured".into(),
        },
        "idle functions should cost (almost) nothing".into(),
    ]);
    rows.push(vec![
        "daemon committed memory per in-flight sandbox".into(),
        h.per_sandbox
            .map(format_bytes)
            .unwrap_or_else(|| "not measured".into()),
        "compress 1 MiB (see Memory)".into(),
    ]);
    out.heading(2, "Summary");
    out.table(&["claim", "measured", "verdict / target"], &rows);
}

/// The targets heading and table: each target as a ratio or bound measured in
/// this run, with its verdict.
pub(super) fn targets(out: &mut Report, m: &Measured) {
    out.heading(2, "Targets");
    out.para(
        "Ratios within this run (the machine's speed moves between runs; ratios much less). The floor \
         is what the machine's HTTP stack allows: a fixed-body responder on the daemon's own stack and \
         runtime configuration, and nginx answering a fixed body, sent the same requests by the same \
         clients. CPU per request is the server's user + system time over the run, per answered request. \
         The sandbox ÷ native rows call each kernel natively (built into the bench by the host compiler \
         for portable x86-64) and in a fresh sandbox (`Runtime::run`: input placed, call, output read \
         back), alternated call by call after the suite's other parts, and compare the fastest calls; \
         cranelift compiles the sandboxed code for the CPU it runs on.",
    );
    out.table(&["target", "measured", "verdict"], &super::targets::rows(m));
}
