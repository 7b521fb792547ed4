//! The report's sections, one per measuring part, with their plots.

use std::time::Duration;

use anyhow::Result;

use super::super::cold_start::{ColdStarts, INPROC};
use super::super::daemon::{ThroughDaemon, Throughput, WorkloadRuns};
use super::super::floor::Floors;
use super::super::memory::MemoryRuns;
use super::super::render_logs::{RENDER_LOGS_PAGE, RENDER_LOGS_TITLE};
use super::tables::{load_row, not_run_row, outcome_row, ratio, LATENCY_HEADERS, LOAD_HEADERS};
use super::Plots;
use crate::baselines::microvm::KvmStatus;
use crate::hist::{format_bytes, format_duration, format_errors, Latencies};
use crate::plot;
use crate::procfs;
use crate::report::Report;

/// "Cold start": a table and a latency CDF per workload, then the microVM note.
pub(super) fn cold_starts(body: &mut Report, m: &ColdStarts, plots: &Plots) -> Result<()> {
    body.heading(2, "Cold start: one request at a time, every baseline");
    body.para(
        "One client, sequential requests, each a fresh sandbox, process, container or VM. Modes: bare \
         wasmtime (in-process, pooling allocator, fresh instance per call: the floor); Pappus in-process \
         (`Engine::invoke` of a one-function composition); Pappus daemon (HTTP on loopback, raw body); \
         fork+exec of the static native build of the same kernel (stdin to stdout); the same binary in an \
         OCI container per request under `runc run` and gVisor `runsc --network=none run`; a microVM boot \
         per request (distribution kernel + initramfs running the binary, then power-off).",
    );
    for w in &m.workloads {
        let reference = w
            .outcomes
            .iter()
            .find(|o| o.mode == INPROC)
            .and_then(|o| o.run.as_ref())
            .map(|r| r.latencies.summary().p50);
        body.heading(3, &w.title);
        let rows: Vec<Vec<String>> = w
            .outcomes
            .iter()
            .map(|o| outcome_row(o, reference))
            .collect();
        body.table(&LATENCY_HEADERS, &rows);
        let series: Vec<(String, &Latencies)> = w
            .outcomes
            .iter()
            .filter_map(|o| o.run.as_ref().map(|r| (o.mode.clone(), &r.latencies)))
            .collect();
        let (file, rel) = plots.path(&format!("cold-start-{}.svg", w.id));
        plot::latency_cdf(
            &file,
            &format!("Cold start latency CDF: {}", w.title),
            &series,
        )?;
        body.image(&format!("cold start CDF, {}", w.title), &rel);
    }
    let mut vm_text = format!(
        "**microVM baseline.** KVM on this host: {}.",
        match &m.kvm {
            KvmStatus::Usable => "hardware-assisted, usable".to_string(),
            KvmStatus::Unusable { reason } => format!("{reason}; no KVM number is reported"),
        }
    );
    if let Some(note) = &m.probe_note {
        vm_text.push_str(&format!(" {note}"));
    }
    vm_text.push_str(
        " The harness is unchanged on a host with hardware KVM: it boots the same kernel and initramfs under \
         `qemu-system-x86_64 -M microvm -accel kvm` once per request, and under Firecracker when `firecracker` \
         is on PATH (with an uncompressed `vmlinux`, `$PAPPUS_BENCH_VMLINUX` or `/boot/vmlinux-*`).",
    );
    body.para(&vm_text);
    Ok(())
}

/// "Daemon under load": the closed- and open-loop table, throughput against
/// offered load, and a latency CDF.
pub(super) fn throughput(body: &mut Report, m: &Throughput, plots: &Plots) -> Result<()> {
    body.heading(2, "Daemon under load: matmul 3x3");
    body.para(
        "Closed loop: N clients, each with its own keep-alive connection, sending the next request when \
         the previous one answered. Open loop: requests scheduled at a fixed offered rate (64 sending \
         connections), latency measured from each request's intended send time, so queueing is counted \
         (no coordinated omission); requests still unsent when the run's time is up count as \
         `unsent_by_deadline` errors. The load generator runs on the same two cores as the daemon. \
         Daemon CPU is its user + system time over the run, per successful request.",
    );
    let closed = |clients: usize| format!("closed, {clients} client(s)");
    let mut rows: Vec<Vec<String>> = m
        .closed
        .iter()
        .map(|(clients, d)| load_row(&closed(*clients), d))
        .collect();
    rows.extend(
        m.open
            .iter()
            .map(|(rate, d)| load_row(&format!("open, {rate:.0} req/s offered"), d)),
    );
    body.table(&LOAD_HEADERS, &rows);
    let sweep: Vec<(f64, f64)> = m
        .open
        .iter()
        .map(|(rate, d)| (*rate, d.run.throughput()))
        .collect();
    let (file, rel) = plots.path("daemon-matmul3-throughput.svg");
    plot::throughput_vs_offered(
        &file,
        "Daemon, matmul 3x3: throughput vs offered load (open loop)",
        &sweep,
    )?;
    body.image("throughput vs offered load", &rel);
    let series: Vec<(String, &Latencies)> = m
        .closed
        .iter()
        .map(|(clients, d)| (closed(*clients), &d.run.latencies))
        .chain(
            m.open
                .iter()
                .map(|(rate, d)| (format!("open, {rate:.0} req/s"), &d.run.latencies)),
        )
        .take(8)
        .collect();
    let (file, rel) = plots.path("daemon-matmul3-cdf.svg");
    plot::latency_cdf(&file, "Daemon, matmul 3x3: latency CDF", &series)?;
    body.image("daemon latency CDF", &rel);
    Ok(())
}

/// "The HTTP floor": both floors' closed-loop runs, or why one did not run.
pub(super) fn floors(body: &mut Report, m: &Floors) {
    body.heading(3, "The HTTP floor");
    body.para(
        "The same matmul 3x3 requests (path and body) sent by the same closed-loop clients to a responder \
         that answers every one with a fixed 80-byte body: `pappus-bench floor` (axum on hyper, on the \
         daemon's own HTTP threads and connection handling) and nginx (one worker process, `return 200`). The CPU \
         column is the responder's.",
    );
    let mut rows = Vec::new();
    for (name, runs) in [("floor, same stack", &m.same_stack), ("nginx", &m.nginx)] {
        match runs {
            Ok(runs) => rows.extend(
                runs.iter()
                    .map(|(clients, d)| load_row(&format!("{name}, {clients} client(s)"), d)),
            ),
            Err(why) => rows.push(not_run_row(name, why, LOAD_HEADERS.len())),
        }
    }
    body.table(&LOAD_HEADERS, &rows);
}

/// "Workloads through the daemon": the daemon table, the in-process table
/// (chains and fan-outs against N single functions), and the chains' latency
/// CDF.
pub(super) fn workloads(body: &mut Report, m: &ThroughDaemon, plots: &Plots) -> Result<()> {
    body.heading(2, "Workloads through the daemon");
    body.para(&format!(
        "Closed loop, 1 and {} clients, {:.1} s each. Chains run `upper` N times in sequence over 4 KiB; \
         `chain of 1` is the single-function reference, and the last column compares a chain's in-process \
         p50 with N times that reference (the design target: a chain of N costs about N cold starts plus \
         the copies, not N round trips). Fan-outs send N items of 256 bytes of log text as a JSON body and \
         run one `upper` instance per item (`each`), gathering the N uppercased items; `fan-out of 1` is \
         their reference, and the last column compares `fan-out of 16`'s in-process p50 with 16 times it \
         (what the N instances of one request cost against N requests of one). render-logs is `examples/render-logs/` against nginx on loopback \
         serving its `www/`: `access`, one auth request by the `http` builtin, `fan_out`, three shard \
         requests sent concurrently, `render`; every answer must be the page with `{}` and `{}` (the page \
         is checked for its heading and summary, not byte for byte). It has no baseline equivalent: the \
         native, container and VM baselines would need an HTTP client in the guest.",
        m.clients,
        m.duration.as_secs_f64(),
        RENDER_LOGS_PAGE[0],
        RENDER_LOGS_PAGE[1],
    ));
    let mut rows = Vec::new();
    let mut inproc_rows = Vec::new();
    let mut references = References::default();
    let mut chain_series: Vec<(String, &Latencies)> = Vec::new();
    for w in &m.runs {
        for (clients, d) in &w.daemon {
            rows.push(load_row(&format!("{}, {clients} client(s)", w.title), d));
            if *clients == 1 && w.id.starts_with("chain") {
                chain_series.push((w.title.clone(), &d.run.latencies));
            }
        }
        inproc_rows.push(inproc_row(w, &mut references));
    }
    if let Some(note) = &m.render_logs_not_run {
        rows.push(not_run_row(RENDER_LOGS_TITLE, note, LOAD_HEADERS.len()));
        inproc_rows.push(inproc_not_run_row(RENDER_LOGS_TITLE, note));
    }
    body.table(&LOAD_HEADERS, &rows);
    body.heading(
        3,
        "The same workloads in-process (`Engine::invoke`, one thread)",
    );
    body.table(
        &[
            "workload",
            "n",
            "req/s",
            "p50",
            "p99",
            "errors",
            "vs N single functions",
        ],
        &inproc_rows,
    );
    let (file, rel) = plots.path("daemon-chain-cdf.svg");
    plot::latency_cdf(
        &file,
        "Daemon, chains of upper (1 client): latency CDF",
        &chain_series,
    )?;
    body.image("chain latency CDF", &rel);
    Ok(())
}

/// The workload families compared with N times their one-function
/// reference: the id prefix (`chain16`, `fanout16`) and the reference's name.
const FAMILIES: [(&str, &str); 2] = [("chain", "chain of 1"), ("fanout", "fan-out of 1")];

/// The in-process p50 of each family's one-function reference (N = 1), by
/// family, carried from its row to the family's longer rows.
#[derive(Default)]
struct References(Vec<(&'static str, Duration)>);

/// One row of the in-process table; `references` carries each family's
/// one-function p50 from its row to the family's longer rows.
fn inproc_row(w: &WorkloadRuns, references: &mut References) -> Vec<String> {
    let Some(run) = &w.inproc.run else {
        return inproc_not_run_row(&w.title, &w.inproc.note);
    };
    let s = run.latencies.summary();
    let family = FAMILIES.iter().find_map(|&(prefix, name)| {
        let n: u32 = w.id.strip_prefix(prefix)?.parse().ok()?;
        Some((prefix, name, n))
    });
    let mut versus = "-".to_string();
    if let Some((prefix, name, n)) = family {
        if n == 1 {
            references.0.push((prefix, s.p50));
        }
        let one = references.0.iter().find(|(p, _)| *p == prefix && n > 0);
        if let Some((_, one)) = one {
            versus = format!("{} of {n} x {name}", ratio(s.p50, *one * n));
        }
    }
    vec![
        w.title.clone(),
        s.count.to_string(),
        format!("{:.0}", run.throughput()),
        format_duration(s.p50),
        format_duration(s.p99),
        format_errors(&run.errors),
        versus,
    ]
}

/// An in-process row with no numbers: the note in the errors column.
fn inproc_not_run_row(label: &str, note: &str) -> Vec<String> {
    let mut row = not_run_row(label, note, 6);
    row.push("-".into());
    row
}

/// "Memory": the daemon's memory at each stage, and what one idle function and
/// one in-flight sandbox cost.
pub(super) fn memory(body: &mut Report, m: &MemoryRuns) {
    let n = m.functions;
    body.heading(2, "Memory");
    body.para(
        "Committed memory is the daemon's private anonymous memory (`Anonymous` + `SwapPss` in \
         `/proc/<pid>/smaps_rollup`): what it costs the machine. RSS also counts shared file pages; the \
         virtual size counts address space the sandbox pool only reserves.",
    );
    let row = |label: &str, m: &procfs::Memory| {
        vec![
            label.to_string(),
            format_bytes(m.committed),
            format_bytes(m.rss),
            format_bytes(m.virtual_size),
        ]
    };
    body.table(
        &["daemon state", "committed", "RSS", "virtual size"],
        &[
            row("started, nothing registered", &m.idle),
            row(
                &format!(
                    "{n} idle functions registered (noop, {} each)",
                    format_bytes(m.module_size)
                ),
                &m.registered,
            ),
            row("compress registered and warmed up", &m.warmed_up),
            row(
                &format!("peak under {} clients of compress 1 MiB", m.clients),
                &m.load.mem,
            ),
        ],
    );
    let registering = m.registering.as_secs_f64();
    let run = &m.load.run;
    body.para(&format!(
        "Registering {n} functions took {:.2} s ({:.1} ms each, persisted to the data directory). \
         Committed memory per idle function: **{}**. Per in-flight sandbox (peak minus warmed-up, divided \
         by the {} sandboxes that run at once, one per compute thread): **{}**, for a 1 MiB input \
         whose sandbox also holds a 1 MiB scratch buffer and the compressed output. That run: {:.0} req/s, \
         p99 {}, errors: {}.",
        registering,
        registering * 1e3 / n.max(1) as f64,
        format_bytes(m.per_function()),
        m.in_flight,
        format_bytes(m.per_sandbox()),
        run.throughput(),
        format_duration(run.latencies.summary().p99),
        format_errors(&run.errors),
    ));
}
