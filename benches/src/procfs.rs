//! CPU time and memory of a process, read from `/proc/<pid>/`.
//!
//! "Committed" memory here is the private anonymous memory the kernel backs for
//! the process (`Anonymous` + `SwapPss` in `smaps_rollup`): what the process
//! really costs the machine. RSS also counts shared file pages (the binary and
//! libraries), and the virtual size counts address space the pooling allocator
//! only reserves, so neither measures the cost of idle functions or sandboxes.

use std::time::Duration;

/// A process's memory, in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Memory {
    /// Resident set size (`VmRSS`).
    pub rss: u64,
    /// Peak resident set size (`VmHWM`).
    pub rss_peak: u64,
    /// Virtual size (`VmSize`), reservations included.
    pub virtual_size: u64,
    /// Private anonymous memory plus its swap (`smaps_rollup`); falls back to
    /// `RssAnon` from `status` when `smaps_rollup` is unreadable.
    pub committed: u64,
}

/// Reads `/proc/<pid>/status` only: RSS and the virtual size, with
/// `committed` from `RssAnon` (no walk of the address space).
pub fn memory_status(pid: u32) -> std::io::Result<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    Ok(parse_status(&status))
}

/// Reads `/proc/<pid>/status` and `/proc/<pid>/smaps_rollup`.
pub fn memory(pid: u32) -> std::io::Result<Memory> {
    let mut mem = memory_status(pid)?;
    if let Ok(rollup) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) {
        if let Some(committed) = parse_smaps_rollup(&rollup) {
            mem.committed = committed;
        }
    }
    Ok(mem)
}

/// User plus system CPU time consumed so far by `pid` (all its threads).
pub fn cpu_time(pid: u32) -> std::io::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_stat_cpu(&stat, clock_ticks()).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("unreadable /proc/{pid}/stat"),
        )
    })
}

fn clock_ticks() -> u64 {
    // SAFETY: sysconf has no memory-safety preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as u64
    } else {
        100
    }
}

/// `utime + stime` from the text of `/proc/<pid>/stat`, given the clock tick rate.
pub fn parse_stat_cpu(stat: &str, ticks_per_second: u64) -> Option<Duration> {
    // The command name (field 2) is in parentheses and may contain spaces, so
    // count fields from the last ')'. utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    let ticks = utime + stime;
    Some(Duration::from_nanos(
        ticks * 1_000_000_000 / ticks_per_second.max(1),
    ))
}

fn kib_field(line: &str, name: &str) -> Option<u64> {
    let value = line.strip_prefix(name)?.strip_prefix(':')?;
    let number = value.split_whitespace().next()?;
    number.parse::<u64>().ok().map(|kib| kib * 1024)
}

/// The memory fields of `/proc/<pid>/status` (`committed` from `RssAnon`).
pub fn parse_status(status: &str) -> Memory {
    let mut mem = Memory::default();
    for line in status.lines() {
        if let Some(v) = kib_field(line, "VmRSS") {
            mem.rss = v;
        } else if let Some(v) = kib_field(line, "VmHWM") {
            mem.rss_peak = v;
        } else if let Some(v) = kib_field(line, "VmSize") {
            mem.virtual_size = v;
        } else if let Some(v) = kib_field(line, "RssAnon") {
            mem.committed = v;
        }
    }
    mem
}

/// `Anonymous + SwapPss` from `/proc/<pid>/smaps_rollup`, if present.
pub fn parse_smaps_rollup(rollup: &str) -> Option<u64> {
    let mut anonymous = None;
    let mut swap = 0;
    for line in rollup.lines() {
        if let Some(v) = kib_field(line, "Anonymous") {
            anonymous = Some(v);
        } else if let Some(v) = kib_field(line, "SwapPss") {
            swap = v;
        }
    }
    anonymous.map(|a| a + swap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_cpu_skips_a_command_with_spaces() {
        let stat =
            "4242 (pappus serve) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 9 0 100 0 0";
        assert_eq!(parse_stat_cpu(stat, 100), Some(Duration::from_secs(3)));
        assert_eq!(parse_stat_cpu("garbage", 100), None);
    }

    #[test]
    fn status_fields() {
        let status = "Name:\tpappus\nVmPeak:\t  999 kB\nVmSize:\t 2048 kB\nVmHWM:\t  300 kB\nVmRSS:\t  200 kB\nRssAnon:\t 120 kB\n";
        let mem = parse_status(status);
        assert_eq!(mem.virtual_size, 2048 * 1024);
        assert_eq!(mem.rss_peak, 300 * 1024);
        assert_eq!(mem.rss, 200 * 1024);
        assert_eq!(mem.committed, 120 * 1024);
    }

    #[test]
    fn smaps_rollup_anonymous_plus_swap() {
        let rollup = "00400000-7ffd [rollup]\nRss:  5000 kB\nPss:  4000 kB\nAnonymous:  3000 kB\nSwap:  10 kB\nSwapPss:  8 kB\n";
        assert_eq!(parse_smaps_rollup(rollup), Some(3008 * 1024));
        assert_eq!(parse_smaps_rollup("Rss: 5 kB\n"), None);
    }

    #[test]
    fn reads_this_process() {
        let pid = std::process::id();
        let mem = memory(pid).expect("own /proc entry");
        assert!(mem.rss > 0 && mem.committed > 0);
        assert!(cpu_time(pid).is_ok());
    }
}
