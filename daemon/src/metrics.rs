//! Prometheus text exposition (format 0.0.4) for `GET /metrics`.
//!
//! The daemon counts what only it sees (invocations by tenant, composition and
//! outcome; latency histograms); the engine's own counters (sandboxes, queue depth,
//! I/O bytes) are read from [`pappus_engine::Engine::metrics`] at scrape time. Rendering
//! by hand keeps the format exact and the dependency list short.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use pappus_engine::Timings;

mod fetch;

/// Upper bounds (seconds) of the latency buckets: 100 µs to 10 s, roughly x2.5 apart,
/// covering a single cold start up to a function running into its deadline.
const BUCKETS: [f64; 15] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    10.0,
];

/// Phases of an invocation, as reported by [`Timings`].
const PHASES: [&str; 5] = ["queued", "fetching", "sandbox", "compute", "storing"];

/// A cumulative-bucket histogram.
#[derive(Clone, Debug, Default)]
struct Histogram {
    /// Observations per bucket (non-cumulative; summed when rendered).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, value: Duration) {
        let secs = value.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|&b| secs <= b) {
            self.buckets[i] += 1;
        }
        self.count += 1;
        self.sum += secs;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (bound, n) in BUCKETS.iter().zip(self.buckets) {
            cumulative += n;
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}"
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let braced = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braced} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braced} {}", self.count);
    }
}

/// (tenant, composition)
type Key = (String, String);

/// Most (tenant, composition) pairs with their own series. Callers label only
/// registered compositions and authenticated tenants, but tenants may register
/// many names over time: beyond this, further pairs share the composition
/// label [`OTHER`], so the exposition stays bounded whatever clients do.
pub const MAX_COMPOSITION_SERIES: usize = 1000;

/// The composition label of pairs beyond [`MAX_COMPOSITION_SERIES`].
pub const OTHER: &str = "(other)";

#[derive(Debug, Default)]
struct Inner {
    invocations: BTreeMap<(String, String, String), u64>,
    latency: BTreeMap<Key, Histogram>,
    phases: [Histogram; PHASES.len()],
}

/// The daemon's own counters. One mutex: updates are a few map operations per
/// invocation, far cheaper than the invocation itself.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

/// Engine figures read at scrape time.
#[derive(Clone, Copy, Debug, Default)]
pub struct EngineFigures {
    /// Sandboxes created since start.
    pub sandboxes_created: u64,
    /// Invocations waiting for admission to run.
    pub queue_depth: u64,
    /// Invocations running.
    pub in_flight: u64,
    /// Compute jobs waiting for a compute thread.
    pub compute_queue_depth: u64,
    /// Shards run since start.
    pub shards: u64,
    /// Bytes read by I/O functions.
    pub bytes_fetched: u64,
    /// Bytes written by I/O functions.
    pub bytes_stored: u64,
    /// Persisted registry records skipped at start as unusable.
    pub registry_records_skipped: u64,
    /// Compiled-code cache files discarded as not authentic and recompiled.
    pub code_cache_rejected: u64,
    /// Invocations cancelled because their client went away.
    pub invocations_cancelled: u64,
    /// I/O calls refused by an authority, all tenants.
    pub io_forbidden_calls: u64,
    /// I/O tasks that panicked.
    pub io_task_panics: u64,
    /// I/O thread restarts.
    pub io_restarts: u64,
    /// 1 while the I/O runtime is started and not every thread is serving.
    pub io_unhealthy: bool,
    /// Request body bytes reserved by bodies being read (in 1 KiB steps).
    pub body_bytes_in_flight: u64,
    /// The I/O runtime's counters: the fetch cache and budgets ([`fetch`]).
    pub io: pappus_io::IoStats,
}

impl Metrics {
    /// Records one invocation: its outcome (`ok` or an error kind), its wall time as
    /// the daemon saw it, and, when it succeeded, the engine's phase timings.
    pub fn record(
        &self,
        tenant: &str,
        composition: &str,
        outcome: &str,
        elapsed: Duration,
        timings: Option<&Timings>,
    ) {
        let mut inner = match self.inner.lock() {
            Ok(guard) => guard,
            // A panic elsewhere while holding the lock leaves only counters behind,
            // which are still meaningful; keep counting.
            Err(poisoned) => poisoned.into_inner(),
        };
        let key = (tenant.to_owned(), composition.to_owned());
        let composition =
            if inner.latency.contains_key(&key) || inner.latency.len() < MAX_COMPOSITION_SERIES {
                composition
            } else {
                OTHER
            };
        *inner
            .invocations
            .entry((
                tenant.to_owned(),
                composition.to_owned(),
                outcome.to_owned(),
            ))
            .or_default() += 1;
        inner
            .latency
            .entry((tenant.to_owned(), composition.to_owned()))
            .or_default()
            .observe(elapsed);
        if let Some(t) = timings {
            let phases = [t.queued, t.fetching, t.sandbox, t.compute, t.storing];
            for (histogram, value) in inner.phases.iter_mut().zip(phases) {
                histogram.observe(value);
            }
        }
    }

    /// Renders everything in the Prometheus text format.
    /// `refused` is each configured tenant's count of refused I/O calls.
    pub fn render(&self, engine: EngineFigures, refused: &[(&str, u64)], draining: bool) -> String {
        let inner = match self.inner.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut out = String::with_capacity(4096);
        header(
            &mut out,
            "pappus_invocations_total",
            "counter",
            "Invocations by tenant, composition and outcome (ok or the error kind).",
        );
        for ((tenant, composition, outcome), n) in &inner.invocations {
            let _ = writeln!(
                out,
                "pappus_invocations_total{{tenant=\"{}\",composition=\"{}\",outcome=\"{}\"}} {n}",
                escape(tenant),
                escape(composition),
                escape(outcome)
            );
        }
        header(
            &mut out,
            "pappus_invocation_duration_seconds",
            "histogram",
            "Invocation wall time as seen by the daemon, by tenant and composition.",
        );
        for ((tenant, composition), histogram) in &inner.latency {
            let labels = format!(
                "tenant=\"{}\",composition=\"{}\"",
                escape(tenant),
                escape(composition)
            );
            histogram.render(&mut out, "pappus_invocation_duration_seconds", &labels);
        }
        header(
            &mut out,
            "pappus_io_forbidden_total",
            "counter",
            "I/O calls refused by the tenant's I/O policy, by tenant (every refused call).",
        );
        for (tenant, n) in refused {
            let _ = writeln!(
                out,
                "pappus_io_forbidden_total{{tenant=\"{}\"}} {n}",
                escape(tenant)
            );
        }
        header(
            &mut out,
            "pappus_invocation_phase_seconds",
            "histogram",
            "Time successful invocations spent per phase.",
        );
        for (phase, histogram) in PHASES.iter().zip(&inner.phases) {
            let labels = format!("phase=\"{phase}\"");
            histogram.render(&mut out, "pappus_invocation_phase_seconds", &labels);
        }
        let plain = [
            (
                "pappus_sandboxes_created_total",
                "counter",
                "Sandboxes created since start.",
                engine.sandboxes_created,
            ),
            (
                "pappus_queue_depth",
                "gauge",
                "Invocations waiting in the admission queue (admitted ones reading their body included).",
                engine.queue_depth,
            ),
            (
                "pappus_in_flight_invocations",
                "gauge",
                "Invocations holding an execution slot (executing, or admitted and reading their body).",
                engine.in_flight,
            ),
            (
                "pappus_compute_queue_depth",
                "gauge",
                "Compute jobs waiting for a compute thread.",
                engine.compute_queue_depth,
            ),
            (
                "pappus_shards_total",
                "counter",
                "Shards run (functions, builtins and nested compositions).",
                engine.shards,
            ),
            (
                "pappus_io_bytes_fetched_total",
                "counter",
                "Bytes read by I/O functions.",
                engine.bytes_fetched,
            ),
            (
                "pappus_io_bytes_stored_total",
                "counter",
                "Bytes written by I/O functions.",
                engine.bytes_stored,
            ),
            (
                "pappus_registry_records_skipped_total",
                "counter",
                "Persisted registry records skipped at start (unreadable, corrupted, failing validation).",
                engine.registry_records_skipped,
            ),
            (
                "pappus_code_cache_rejected_total",
                "counter",
                "Compiled-code cache files discarded (not authentic or unreadable) and recompiled.",
                engine.code_cache_rejected,
            ),
            (
                "pappus_invocations_cancelled_total",
                "counter",
                "Invocations cancelled because their client disconnected.",
                engine.invocations_cancelled,
            ),
            (
                "pappus_io_forbidden_calls_total",
                "counter",
                "I/O calls refused by a tenant's authority (all tenants).",
                engine.io_forbidden_calls,
            ),
            (
                "pappus_io_task_panics_total",
                "counter",
                "I/O tasks that panicked (each failed only its own call).",
                engine.io_task_panics,
            ),
            (
                "pappus_io_thread_restarts_total",
                "counter",
                "I/O threads restarted after their loop panicked.",
                engine.io_restarts,
            ),
            (
                "pappus_io_unhealthy",
                "gauge",
                "1 while an I/O thread is not serving.",
                u64::from(engine.io_unhealthy),
            ),
            (
                "pappus_body_bytes_in_flight",
                "gauge",
                "Request body bytes being read, as reserved from max_body_bytes_in_flight.",
                engine.body_bytes_in_flight,
            ),
            (
                "pappus_draining",
                "gauge",
                "1 while the daemon drains after SIGTERM/SIGINT.",
                u64::from(draining),
            ),
        ];
        for (name, kind, help, value) in plain.into_iter().chain(fetch::series(&engine.io)) {
            header(&mut out, name, kind, help);
            let _ = writeln!(out, "{name} {value}");
        }
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Escapes a label value: backslash, double quote and newline, per the format.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let metrics = Metrics::default();
        metrics.record("t", "c\"x", "ok", Duration::from_millis(3), None);
        metrics.record("t", "c\"x", "ok", Duration::from_secs(20), None);
        let text = metrics.render(EngineFigures::default(), &[], false);
        assert!(text.contains(
            "pappus_invocations_total{tenant=\"t\",composition=\"c\\\"x\",outcome=\"ok\"} 2"
        ));
        assert!(text.contains("le=\"0.005\"} 1\n"));
        assert!(text.contains("le=\"10\"} 1\n"));
        assert!(text.contains("le=\"+Inf\"} 2\n"));
        assert!(text.contains("pappus_draining 0\n"));
    }
}
