//! The report's table rows and headers.

use std::time::Duration;

use super::super::daemon::DaemonRun;
use super::super::workload::Outcome;
use crate::hist::{format_bytes, format_duration, format_errors};
use crate::loadgen::RunResult;

/// The columns of a cold-start table.
pub(super) const LATENCY_HEADERS: [&str; 9] = [
    "mode",
    "n",
    "p50",
    "p90",
    "p99",
    "p99.9",
    "mean",
    "p50 vs Pappus in-process",
    "errors",
];

/// The columns of a table of runs against the daemon.
pub(super) const LOAD_HEADERS: [&str; 11] = [
    "run",
    "requests",
    "req/s",
    "p50",
    "p90",
    "p99",
    "p99.9",
    "errors",
    "daemon CPU/req",
    "peak RSS",
    "peak committed",
];

/// `a / b` as `1.23x` (`123x` from 100 on), `-` if either is zero.
pub(super) fn ratio(a: Duration, b: Duration) -> String {
    if b.is_zero() || a.is_zero() {
        return "-".into();
    }
    let r = a.as_secs_f64() / b.as_secs_f64();
    if r >= 100.0 {
        format!("{r:.0}x")
    } else {
        format!("{r:.2}x")
    }
}

/// A cold-start row ([`LATENCY_HEADERS`]): the numbers, or the note of a mode
/// that did not run; the p50 is compared with `reference`.
pub(super) fn outcome_row(o: &Outcome, reference: Option<Duration>) -> Vec<String> {
    match &o.run {
        Some(run) => latency_row(&o.mode, run, reference),
        None => not_run_row(&o.mode, &o.note, LATENCY_HEADERS.len()),
    }
}

fn latency_row(label: &str, run: &RunResult, reference: Option<Duration>) -> Vec<String> {
    let s = run.latencies.summary();
    vec![
        label.to_string(),
        s.count.to_string(),
        format_duration(s.p50),
        format_duration(s.p90),
        format_duration(s.p99),
        format_duration(s.p999),
        format_duration(s.mean),
        reference
            .map(|r| ratio(s.p50, r))
            .unwrap_or_else(|| "-".into()),
        format_errors(&run.errors),
    ]
}

/// A row of a run against the daemon ([`LOAD_HEADERS`]).
pub(super) fn load_row(label: &str, d: &DaemonRun) -> Vec<String> {
    let (run, mem) = (&d.run, d.mem);
    let s = run.latencies.summary();
    let ok = run.latencies.len().max(1) as u32;
    vec![
        label.to_string(),
        s.count.to_string(),
        format!("{:.0}", run.throughput()),
        format_duration(s.p50),
        format_duration(s.p90),
        format_duration(s.p99),
        format_duration(s.p999),
        format_errors(&run.errors),
        format_duration(d.cpu / ok),
        format_bytes(mem.rss),
        format_bytes(mem.committed),
    ]
}

/// A row with no numbers: the label, `0` requests, `-` up to the last column, the note there.
pub(super) fn not_run_row(label: &str, note: &str, columns: usize) -> Vec<String> {
    let mut row = vec![label.to_string(), "0".into()];
    row.resize(columns.saturating_sub(1).max(2), "-".into());
    row.push(note.to_string());
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_without_numbers_has_the_note_last() {
        let row = not_run_row("x", "why", LOAD_HEADERS.len());
        assert_eq!(row.len(), LOAD_HEADERS.len());
        assert_eq!(row[1], "0");
        assert_eq!(row[LOAD_HEADERS.len() - 1], "why");
    }

    #[test]
    fn ratios_keep_two_decimals_below_a_hundred() {
        let ms = Duration::from_millis;
        assert_eq!(ratio(ms(3), ms(2)), "1.50x");
        assert_eq!(ratio(ms(250), ms(2)), "125x");
        assert_eq!(ratio(ms(3), Duration::ZERO), "-");
    }
}
