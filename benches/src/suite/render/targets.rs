//! The performance targets as ratios (or bounds) with a verdict each: the
//! daemon's request path against the HTTP floor measured in the same run,
//! compute through the daemon against the native fork+exec baseline, and each
//! sandboxed kernel against its native build.

use std::time::Duration;

use super::super::daemon::DaemonRun;
use super::super::floor::FloorRuns;
use super::super::static_sets::{StaticRuns, CONCURRENT, LARGE_SET, SHARED_SET};
use super::Measured;
use crate::compute::{KernelTimes, CALLS};
use crate::hist::format_duration;
use crate::width::{WidthPoint, TARGET_PER_SHARD};

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
    rows.push(width_row(&m.width));
    rows.extend(kernel_rows(&m.compute));
    rows.push(fetch_cache_row(&m.fetch_cache));
    rows.extend(static_rows(&m.static_sets));
    rows
}

/// Most extra per-call time of a WASI function over a 64 MiB static set.
const STATIC_WASI_EXTRA: Duration = Duration::from_millis(1);
/// The same for an ABI v1 function.
const STATIC_ABI_EXTRA: Duration = Duration::from_micros(1500);
/// Most RSS growth of 16 concurrent calls beyond one, as a share of one copy.
const STATIC_RSS_SHARE: f64 = 0.10;

/// The static-set targets: per-call time over a large set against a small
/// one, memory of concurrent calls, a 1 GiB set.
fn static_rows(runs: &Result<StaticRuns, String>) -> Vec<Vec<String>> {
    let runs = match runs {
        Ok(runs) => runs,
        Err(why) => {
            return vec![vec![
                "static sets".into(),
                why.clone(),
                verdict(None, "see docs/dataplane.md"),
            ]]
        }
    };
    let mut rows = Vec::new();
    for (kind, (small, large), limit) in [
        ("WASI", runs.wasi, STATIC_WASI_EXTRA),
        ("ABI v1", runs.abi, STATIC_ABI_EXTRA),
    ] {
        let extra = large.saturating_sub(small);
        rows.push(vec![
            format!(
                "static sets: {kind} call reading 4 KiB, {} MiB set − 4 KiB set",
                LARGE_SET >> 20
            ),
            format!(
                "{} vs {}: +{}",
                format_duration(large),
                format_duration(small),
                format_duration(extra)
            ),
            verdict(
                Some(extra <= limit),
                &format!("within {}", format_duration(limit)),
            ),
        ]);
    }
    let claim = format!(
        "static sets: daemon peak RSS, {CONCURRENT} concurrent calls reading a {} MiB set − 1 call",
        SHARED_SET >> 20
    );
    let target = format!("at most {:.0}% of one copy", STATIC_RSS_SHARE * 100.0);
    rows.push(match &runs.rss {
        Ok((one, sixteen)) => {
            let growth = sixteen.saturating_sub(*one);
            let share = growth as f64 / SHARED_SET as f64;
            vec![
                claim,
                format!(
                    "{} vs {} MiB: +{:.1} MiB ({:.1}% of one copy)",
                    sixteen >> 20,
                    one >> 20,
                    growth as f64 / f64::from(1 << 20),
                    share * 100.0
                ),
                verdict(Some(share <= STATIC_RSS_SHARE), &target),
            ]
        }
        Err(why) => vec![claim, why.clone(), verdict(None, &target)],
    });
    let claim = "static sets: a 1 GiB set registered and called (WASI)".to_string();
    rows.push(match &runs.gib {
        Ok((registered, called)) => vec![
            claim,
            format!(
                "registered in {}, a 4 KiB read in {}",
                format_duration(*registered),
                format_duration(*called)
            ),
            verdict(Some(true), "works"),
        ],
        Err(why) => vec![claim, why.clone(), verdict(Some(false), "works")],
    });
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

/// The most time per shard of an `each` over the widths measured.
fn width_row(width: &Result<Vec<WidthPoint>, String>) -> Vec<String> {
    let claim = "fan-out width: time per shard of an `each` of a no-op through the daemon, \
                 1,000 to 100,000 items, best of several"
        .to_string();
    let target = format!(
        "at most {} at every width",
        format_duration(TARGET_PER_SHARD)
    );
    match width {
        Ok(points) if !points.is_empty() => {
            let measured = points
                .iter()
                .map(|p| {
                    format!(
                        "{} at {} items (all: {} per item)",
                        format_duration(p.per_shard()),
                        p.items,
                        format_duration(p.per_item_all())
                    )
                })
                .collect::<Vec<_>>()
                .join("; ");
            let widest = points.iter().map(|p| p.items).max().unwrap_or(0);
            let pass = points.iter().all(|p| p.per_shard() <= TARGET_PER_SHARD);
            let measured = if widest < 100_000 {
                format!("{measured} (quick run: up to {widest} items)")
            } else {
                measured
            };
            vec![claim, measured, verdict(Some(pass), &target)]
        }
        Ok(_) => vec![claim, "not measured".into(), verdict(None, &target)],
        Err(why) => vec![claim, why.clone(), verdict(None, &target)],
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
