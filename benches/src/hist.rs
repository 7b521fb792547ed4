//! Latency recording with HdrHistogram and the summaries the report prints.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

/// The highest latency a histogram records (longer ones are clamped to it): one
/// minute, far above any bounded run of the suite.
const MAX_NANOS: u64 = 60_000_000_000;

/// Latencies of one run, in nanoseconds, with three significant digits.
#[derive(Clone, Debug)]
pub struct Latencies {
    hist: Histogram<u64>,
}

impl Default for Latencies {
    fn default() -> Self {
        Self::new()
    }
}

impl Latencies {
    /// An empty recorder (1 ns to 60 s, three significant digits).
    pub fn new() -> Self {
        // Constant bounds inside the range HdrHistogram accepts: cannot fail.
        let hist = Histogram::new_with_bounds(1, MAX_NANOS, 3).expect("valid constant bounds");
        Latencies { hist }
    }

    /// Records one latency (clamped to 1 ns .. 60 s).
    pub fn record(&mut self, latency: Duration) {
        let nanos = (latency.as_nanos().min(u128::from(MAX_NANOS)) as u64).max(1);
        self.hist.saturating_record(nanos);
    }

    /// Adds every latency of `other`.
    pub fn merge(&mut self, other: &Latencies) {
        // Same bounds on both sides: adding cannot go out of range.
        let _ = self.hist.add(&other.hist);
    }

    /// Number of latencies recorded.
    pub fn len(&self) -> u64 {
        self.hist.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.hist.is_empty()
    }

    /// The latency at `quantile` (0.0 ..= 1.0); zero when empty.
    pub fn quantile(&self, quantile: f64) -> Duration {
        if self.hist.is_empty() {
            return Duration::ZERO;
        }
        Duration::from_nanos(self.hist.value_at_quantile(quantile))
    }

    /// Mean latency; zero when empty.
    pub fn mean(&self) -> Duration {
        Duration::from_nanos(self.hist.mean() as u64)
    }

    /// Points of the cumulative distribution, `(latency, fraction at or below)`,
    /// about `points` of them spread over the recorded range on a log scale.
    pub fn cdf(&self, points: usize) -> Vec<(Duration, f64)> {
        if self.hist.is_empty() || points < 2 {
            return Vec::new();
        }
        let low = self.hist.min().max(1) as f64;
        let high = self.hist.max().max(1) as f64;
        let total = self.hist.len() as f64;
        let mut out = Vec::with_capacity(points);
        for i in 0..points {
            let at = low * (high / low).powf(i as f64 / (points - 1) as f64);
            let below = self.hist.count_between(0, at as u64) as f64;
            out.push((Duration::from_nanos(at as u64), below / total));
        }
        out
    }

    /// The summary the report prints.
    pub fn summary(&self) -> Summary {
        Summary {
            count: self.len(),
            mean: self.mean(),
            p50: self.quantile(0.50),
            p90: self.quantile(0.90),
            p99: self.quantile(0.99),
            p999: self.quantile(0.999),
            max: Duration::from_nanos(if self.is_empty() { 0 } else { self.hist.max() }),
        }
    }
}

/// Percentiles of one run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Number of latencies recorded.
    pub count: u64,
    /// Mean latency.
    pub mean: Duration,
    /// Median.
    pub p50: Duration,
    /// 90th percentile.
    pub p90: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// 99.9th percentile.
    pub p999: Duration,
    /// Largest latency.
    pub max: Duration,
}

/// Failed requests counted by kind (`"http_429"`, `"connect"`, `"wrong_output"`, ...).
pub type Errors = BTreeMap<String, u64>;

/// Renders `errors` as `kind: n, kind: n`, or `none`.
pub fn format_errors(errors: &Errors) -> String {
    if errors.values().all(|&n| n == 0) {
        return "none".to_string();
    }
    errors
        .iter()
        .filter(|(_, &n)| n > 0)
        .map(|(kind, n)| format!("{kind}: {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A duration with a unit that keeps three significant figures: `812 ns`,
/// `4.17 µs`, `1.24 ms`, `6.03 s`.
pub fn format_duration(d: Duration) -> String {
    let nanos = d.as_nanos() as f64;
    let (value, unit) = if nanos < 1e3 {
        (nanos, "ns")
    } else if nanos < 1e6 {
        (nanos / 1e3, "µs")
    } else if nanos < 1e9 {
        (nanos / 1e6, "ms")
    } else {
        (nanos / 1e9, "s")
    };
    if unit == "ns" {
        format!("{value:.0} {unit}")
    } else if value < 10.0 {
        format!("{value:.2} {unit}")
    } else if value < 100.0 {
        format!("{value:.1} {unit}")
    } else {
        format!("{value:.0} {unit}")
    }
}

/// Bytes in binary units: `512 B`, `64.0 KiB`, `12.3 MiB`, `1.50 GiB`.
pub fn format_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    if b < 1024.0 {
        format!("{bytes} B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.1} KiB", b / 1024.0)
    } else if b < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1} MiB", b / (1024.0 * 1024.0))
    } else {
        format!("{:.2} GiB", b / (1024.0 * 1024.0 * 1024.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_distribution() {
        let mut l = Latencies::new();
        for us in 1..=1000u64 {
            l.record(Duration::from_micros(us));
        }
        let s = l.summary();
        assert_eq!(s.count, 1000);
        let close =
            |d: Duration, us: u64| (d.as_nanos() as f64 / (us as f64 * 1e3) - 1.0).abs() < 0.01;
        assert!(close(s.p50, 500), "{:?}", s.p50);
        assert!(close(s.p90, 900), "{:?}", s.p90);
        assert!(close(s.p99, 990), "{:?}", s.p99);
        assert!(close(s.p999, 999), "{:?}", s.p999);
        assert!(close(s.max, 1000), "{:?}", s.max);
    }

    #[test]
    fn empty_histogram_reports_zeros() {
        let l = Latencies::new();
        assert_eq!(l.summary(), Summary::default());
        assert!(l.cdf(10).is_empty());
    }

    #[test]
    fn cdf_is_monotonic_and_ends_at_one() {
        let mut l = Latencies::new();
        for i in 0..100u64 {
            l.record(Duration::from_micros(10 + i * i));
        }
        let cdf = l.cdf(50);
        assert_eq!(cdf.len(), 50);
        assert!(cdf.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1));
        assert!((cdf[cdf.len() - 1].1 - 1.0).abs() < 1e-9);
    }

    #[test]
    fn merge_adds_counts() {
        let mut a = Latencies::new();
        let mut b = Latencies::new();
        a.record(Duration::from_millis(1));
        b.record(Duration::from_millis(2));
        a.merge(&b);
        assert_eq!(a.len(), 2);
    }

    #[test]
    fn durations_keep_three_figures() {
        assert_eq!(format_duration(Duration::from_nanos(812)), "812 ns");
        assert_eq!(format_duration(Duration::from_nanos(4_170)), "4.17 µs");
        assert_eq!(format_duration(Duration::from_micros(1_240)), "1.24 ms");
        assert_eq!(format_duration(Duration::from_micros(12_345)), "12.3 ms");
        assert_eq!(format_duration(Duration::from_millis(6_030)), "6.03 s");
        assert_eq!(format_duration(Duration::from_micros(250)), "250 µs");
    }

    #[test]
    fn bytes_and_errors_format() {
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(64 * 1024), "64.0 KiB");
        assert_eq!(format_bytes(3 << 30), "3.00 GiB");
        let mut e = Errors::new();
        assert_eq!(format_errors(&e), "none");
        e.insert("http_429".into(), 3);
        e.insert("connect".into(), 1);
        assert_eq!(format_errors(&e), "connect: 1, http_429: 3");
    }
}
