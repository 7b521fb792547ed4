//! The performance targets as ratios (or bounds) with a verdict each: the
//! daemon's request path against the HTTP floor measured in the same run,
//! compute through the daemon against the native fork+exec baseline, and each
//! sandboxed kernel against its native build.

use std::time::Duration;

use super::super::daemon::DaemonRun;
use super::super::floor::FloorRuns;
use super::Measured;
use crate::compute::{KernelTimes, CALLS};
use crate::hist::format_duration;

/// The workload the request-path targets are about.
const REQUEST_PATH: &str = "matmul 3x3";
/// The workload of the compute-through-the-daemon target.
const COMPUTE_WORKLOAD: &str = "matmul_aat128";

/// Least daemon req/s as a fraction of the floor's.
const FLOOR_FRACTION: f64 = 0.5;
/// Most p99 at one client.
const P99_ONE_CLIENT: Duration = Duration::from_micros(300);
/// Most daemon CPU time per request.
const CPU_PER_REQUEST: Duration = Duration::from_micros(40);
/// Least daemon req/s as a multiple of the fork+exec baseline's.
const NATIVE_MULTIPLE: f64 = 1.0;
/// Most sandbox time as a multiple of the native kernel's.
const KERNEL_RATIO: f64 = 1.3;

/// `pass`/`FAIL` with the target, or `not measured` with it.
fn verdict(pass: Option<bool>, target: &str) -> String {
    match pass {
        Some(true) => format!("pass (target: {target})"),
        Some(false) => format!("FAIL (target: {target})"),
        None => format!("not measured (target: {target})"),
    }
}

/// The run with `clients` closed-loop clients.
fn at(runs: &[(usize, DaemonRun)], clients: usize) -> Option<&DaemonRun> {
    runs.iter().find(|(c, _)| *c == clients).map(|(_, d)| d)
}

/// Daemon CPU time per successful request.
fn cpu_per_request(d: &DaemonRun) -> Option<Duration> {
    let ok = u32::try_from(d.run.latencies.len()).ok()?;
    (ok > 0).then(|| d.cpu / ok)
}

/// The target rows (claim, measured, verdict) for the summary.
pub(super) fn rows(m: &Measured) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let daemon = &m.throughput.closed;
    for (floor_name, floor) in [
        (
            "the HTTP floor (fixed body, same stack)",
            &m.floors.same_stack,
        ),
        ("nginx (fixed body)", &m.floors.nginx),
    ] {
        for clients in [1, 4] {
            rows.push(floor_row(floor_name, floor, at(daemon, clients), clients));
        }
    }
    let one = at(daemon, 1);
    let p99 = one.map(|d| d.run.latencies.summary().p99);
    rows.push(vec![
        format!("request path: daemon p99, {REQUEST_PATH}, 1 client"),
        p99.map(format_duration)
            .unwrap_or_else(|| "not measured".into()),
        verdict(
            p99.map(|p| p < P99_ONE_CLIENT),
            &format!("under {}", format_duration(P99_ONE_CLIENT)),
        ),
    ]);
    let cpu = one.and_then(cpu_per_request);
    let floor_cpu = m
        .floors
        .same_stack
        .as_ref()
        .ok()
        .and_then(|runs| at(runs, 1))
        .and_then(cpu_per_request);
    let four = at(daemon, 4).and_then(cpu_per_request);
    rows.push(vec![
        format!("request path: daemon CPU per request, {REQUEST_PATH}, 1 client"),
        match cpu {
            Some(c) => format!(
                "{} (4 clients: {}; the floor: {})",
                format_duration(c),
                four.map(format_duration).unwrap_or_else(|| "-".into()),
                floor_cpu.map(format_duration).unwrap_or_else(|| "-".into())
            ),
            None => "not measured".into(),
        },
        verdict(
            cpu.map(|c| c <= CPU_PER_REQUEST),
            &format!("at most {}", format_duration(CPU_PER_REQUEST)),
        ),
    ]);
    rows.push(compute_row(m));
    rows.extend(kernel_rows(&m.compute));
    rows.push(fetch_cache_row(&m.fetch_cache));
    rows
}

/// Least speed-up of a repeated fetch of an unchanged object over the first.
const FETCH_CACHE_SPEEDUP: f64 = 10.0;

/// A second invocation fetching an unchanged 64 MiB object: no body
/// transferred, and at least [`FETCH_CACHE_SPEEDUP`] times faster.
fn fetch_cache_row(measured: &Result<crate::fetch_cache::FetchCacheTimes, String>) -> Vec<String> {
    let claim = "data plane: fetch cache, first ÷ repeated invocation time, fetch of an \
                 unchanged 64 MiB object from nginx (in-process engine)"
        .to_string();
    let target = format!("at least {FETCH_CACHE_SPEEDUP:.0}x, no body bytes");
    match measured {
        Ok(t) => vec![
            claim,
            format!(
                "{} vs {}: {:.1}x; body bytes sent for {} repeats: {}",
                format_duration(t.first),
                format_duration(t.repeat),
                t.speedup(),
                t.repeats,
                t.repeat_body_bytes
            ),
            verdict(
                Some(t.speedup() >= FETCH_CACHE_SPEEDUP && t.repeat_body_bytes == 0),
                &target,
            ),
        ],
        Err(why) => vec![claim, format!("not run: {why}"), verdict(None, &target)],
    }
}

/// Daemon req/s over a floor's at `clients`.
fn floor_row(
    floor_name: &str,
    floor: &FloorRuns,
    daemon: Option<&DaemonRun>,
    clients: usize,
) -> Vec<String> {
    let claim =
        format!("request path: daemon ÷ {floor_name} req/s, {REQUEST_PATH}, {clients} client(s)");
    let target = format!("at least {:.0}%", FLOOR_FRACTION * 100.0);
    let floor_run = match floor {
        Ok(runs) => at(runs, clients),
        Err(why) => return vec![claim, why.clone(), verdict(None, &target)],
    };
    match (daemon, floor_run) {
        (Some(d), Some(f)) if f.run.throughput() > 0.0 => {
            let (a, b) = (d.run.throughput(), f.run.throughput());
            let share = a / b;
            vec![
                claim,
                // Rounded down, so that a share just under the target never
                // reads as meeting it.
                format!(
                    "{a:.0} vs {b:.0} req/s: {:.1}%",
                    (share * 1000.0).floor() / 10.0
                ),
                verdict(Some(share >= FLOOR_FRACTION), &target),
            ]
        }
        _ => vec![claim, "not measured".into(), verdict(None, &target)],
    }
}

/// Compute through the daemon (one client) against fork+exec of the native
/// build, one request at a time.
fn compute_row(m: &Measured) -> Vec<String> {
    let claim =
        "compute: daemon (1 client) ÷ fork+exec native req/s, matmul A·Aᵀ 128x128".to_string();
    let target = format!("at least {NATIVE_MULTIPLE:.1}x");
    let daemon = m
        .workloads
        .runs
        .iter()
        .find(|w| w.id == COMPUTE_WORKLOAD)
        .and_then(|w| at(&w.daemon, 1))
        .map(|d| d.run.throughput());
    let native = m
        .cold_starts
        .workloads
        .iter()
        .find(|w| w.id == COMPUTE_WORKLOAD)
        .and_then(|w| w.outcomes.iter().find(|o| o.mode.starts_with("fork+exec")))
        .and_then(|o| o.run.as_ref())
        .map(|r| r.throughput());
    match (daemon, native) {
        (Some(a), Some(b)) if b > 0.0 => vec![
            claim,
            format!("{a:.0} vs {b:.0} req/s: {:.2}x", a / b),
            verdict(Some(a / b >= NATIVE_MULTIPLE), &target),
        ],
        _ => vec![claim, "not measured".into(), verdict(None, &target)],
    }
}

/// Each kernel's fastest sandboxed call over its fastest native call.
fn kernel_rows(compute: &Result<Vec<KernelTimes>, String>) -> Vec<Vec<String>> {
    let claim = |title: &str| {
        format!(
            "compute: sandbox ÷ native (portable x86-64) time, {title}, minimum of {CALLS} \
             alternated calls"
        )
    };
    let target = format!("at most {KERNEL_RATIO:.1}x");
    match compute {
        Ok(kernels) => kernels
            .iter()
            .map(|k| {
                let ratio = k.ratio();
                vec![
                    claim(k.title),
                    format!(
                        "{} vs {}: {ratio:.2}x",
                        format_duration(k.sandbox),
                        format_duration(k.native),
                    ),
                    verdict(Some(ratio <= KERNEL_RATIO), &target),
                ]
            })
            .collect(),
        Err(why) => vec![vec![
            claim("every kernel"),
            format!("not run: {why}"),
            verdict(None, &target),
        ]],
    }
}
