//! The markdown report: machine description, tables, links to the plots.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

/// A markdown document being written.
#[derive(Debug, Default)]
pub struct Report {
    text: String,
}

impl Report {
    /// An empty report.
    pub fn new() -> Self {
        Report::default()
    }

    /// A heading of `level` (1-6).
    pub fn heading(&mut self, level: usize, title: &str) {
        let _ = write!(self.text, "{} {title}\n\n", "#".repeat(level.clamp(1, 6)));
    }

    /// A paragraph (or any markdown block).
    pub fn para(&mut self, text: &str) {
        let _ = write!(self.text, "{}\n\n", text.trim_end());
    }

    /// A table.
    pub fn table(&mut self, headers: &[&str], rows: &[Vec<String>]) {
        self.text.push_str(&table(headers, rows));
        self.text.push('\n');
    }

    /// An image (an SVG next to the report).
    pub fn image(&mut self, alt: &str, path: &str) {
        let _ = write!(self.text, "![{alt}]({path})\n\n");
    }

    /// The document so far.
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// A markdown table; cells' `|` are escaped, short rows padded.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let escape = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| {} |",
        headers
            .iter()
            .map(|h| escape(h))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let _ = writeln!(
        out,
        "|{}|",
        headers.iter().map(|_| "---").collect::<Vec<_>>().join("|")
    );
    for row in rows {
        let cells: Vec<String> = (0..headers.len())
            .map(|i| row.get(i).map(|c| escape(c)).unwrap_or_default())
            .collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out
}

/// `YYYY-MM-DD` (UTC) of `secs` since the Unix epoch.
pub fn date_of(secs: u64) -> String {
    // Howard Hinnant's days-to-civil algorithm.
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Today's date, UTC.
pub fn today() -> String {
    date_of(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    )
}

/// This machine's host name (for the report's file name).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".to_string())
}

fn first_line(command: &str, args: &[&str], dir: &Path) -> String {
    Command::new(command)
        .args(args)
        .current_dir(dir)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(str::to_string)
        })
        .unwrap_or_else(|| "unknown".to_string())
}

/// The CPU model from the text of `/proc/cpuinfo`.
pub fn cpu_model(cpuinfo: &str) -> String {
    cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|m| m.trim().to_string())
        .unwrap_or_else(|| "unknown".to_string())
}

/// Rows describing this machine and build, for a two-column table.
pub fn machine(repo: &Path) -> Vec<Vec<String>> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let virtualised = cpuinfo.contains(" hypervisor");
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut commit = first_line("git", &["rev-parse", "--short", "HEAD"], repo);
    // The run's own report and plots (tracked for the reference run) are
    // written before this is read: they are not changes to the code measured.
    let dirty = Command::new("git")
        .args([
            "status",
            "--porcelain",
            "--untracked-files=no",
            "--",
            ".",
            ":!benches/results",
        ])
        .current_dir(repo)
        .output()
        .map(|o| o.status.success() && !o.stdout.is_empty())
        .unwrap_or(false);
    if dirty {
        commit.push_str(" (with uncommitted changes)");
    }
    vec![
        vec!["date".into(), today()],
        vec![
            "CPU".into(),
            format!(
                "{} ({cores} cores{})",
                cpu_model(&cpuinfo),
                if virtualised { ", virtual machine" } else { "" }
            ),
        ],
        vec!["memory".into(), crate::hist::format_bytes(mem_kib * 1024)],
        vec!["kernel".into(), format!("Linux {}", kernel.trim())],
        vec!["rustc".into(), first_line("rustc", &["--version"], repo)],
        vec!["Pappus commit".into(), commit],
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_escape_and_pad() {
        let t = table(
            &["mode", "p50"],
            &[vec!["a|b".into(), "1 µs".into()], vec!["c".into()]],
        );
        assert_eq!(t, "| mode | p50 |\n|---|---|\n| a\\|b | 1 µs |\n| c |  |\n");
    }

    #[test]
    fn report_sections() {
        let mut r = Report::new();
        r.heading(2, "Cold start");
        r.para("text");
        r.image("cdf", "x/cdf.svg");
        assert_eq!(r.text(), "## Cold start\n\ntext\n\n![cdf](x/cdf.svg)\n\n");
    }

    #[test]
    fn dates() {
        assert_eq!(date_of(0), "1970-01-01");
        assert_eq!(date_of(951_782_400), "2000-02-29");
        assert_eq!(date_of(1_763_769_600), "2025-11-22");
    }

    #[test]
    fn cpu_model_line() {
        assert_eq!(
            cpu_model("processor : 0\nmodel name\t: Intel(R) Xeon(R)\n"),
            "Intel(R) Xeon(R)"
        );
        assert_eq!(cpu_model(""), "unknown");
    }
}
