//! The width of a fan-out: what one shard of an `each` costs as the number of
//! items grows, through the daemon. A no-op ABI v1 guest (`noop`) runs once
//! per item (`each`), against the same items given to one run (`all`), so the
//! difference is what the engine and the daemon spend per shard: building it,
//! placing it, running a sandbox, gathering its output and encoding it.
//!
//! Shared by the suite (its Targets row) and `pappus-bench width`.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::daemon::{invoke_json, invoke_json_path, Daemon};
use crate::http::Connection;

/// The compositions measured: one run per item, and one run for all items.
pub const COMPOSITIONS: &str = "\
function noop (in) => (out);
composition EachNoop (In) => (Out) {
    noop (in = each In) => (Out = out);
}
composition AllNoop (In) => (Out) {
    noop (in = all In) => (Out = out);
}
";

/// Most time per shard of `each` the target allows, at every width measured.
pub const TARGET_PER_SHARD: Duration = Duration::from_micros(10);

/// One width's best times.
#[derive(Clone, Debug)]
pub struct WidthPoint {
    /// Items in the request.
    pub items: usize,
    /// Best wall time of an `each` invocation (one shard per item).
    pub each: Duration,
    /// Best wall time of an `all` invocation (one shard for all items).
    pub all: Duration,
}

impl WidthPoint {
    /// Time per shard of `each`.
    pub fn per_shard(&self) -> Duration {
        self.each / u32::try_from(self.items.max(1)).unwrap_or(u32::MAX)
    }

    /// Time per item of `all`.
    pub fn per_item_all(&self) -> Duration {
        self.all / u32::try_from(self.items.max(1)).unwrap_or(u32::MAX)
    }
}

/// A JSON body of `n` one-byte items (`In`), keyed 0..n.
fn body(n: usize) -> Vec<u8> {
    let mut text = String::with_capacity(n * 32 + 16);
    text.push_str("{\"In\":[");
    for i in 0..n {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&format!("{{\"key\":{i},\"data\":\"x\"}}"));
    }
    text.push_str("]}");
    text.into_bytes()
}

/// Starts a daemon (`binary`, data under `work`, log beside it), registers
/// `noop` (`wasm`) and [`COMPOSITIONS`], and measures each width of `sizes`,
/// the best of `tries` invocations of each composition.
///
/// # Errors
/// The daemon does not start, refuses a registration, or an invocation fails
/// or answers other than one output item per input item.
pub fn measure(
    binary: &Path,
    work: &Path,
    wasm: &[u8],
    sizes: &[usize],
    tries: usize,
) -> Result<Vec<WidthPoint>> {
    let data = work.join("daemon-width");
    if data.exists() {
        std::fs::remove_dir_all(&data).with_context(|| format!("removing {}", data.display()))?;
    }
    std::fs::create_dir_all(&data).with_context(|| format!("creating {}", data.display()))?;
    let largest = sizes.iter().copied().max().unwrap_or(0);
    let daemon = Daemon::start(
        binary,
        &data,
        &work.join("daemon-width.log"),
        &[
            // Room for the widest request and its answer.
            "--max-body-bytes".to_owned(),
            (largest * 64 + (1 << 20)).to_string(),
            "--max-shards-per-application".to_owned(),
            largest.max(1).to_string(),
        ],
    )?;
    daemon.put_function("noop", wasm)?;
    daemon.put_compositions(COMPOSITIONS)?;
    let mut conn = Connection::new(daemon.addr(), Duration::from_secs(300));
    let mut points = Vec::new();
    for &n in sizes {
        let body = body(n);
        let mut best = |composition: &str, outputs: usize| -> Result<Duration> {
            let path = invoke_json_path(composition);
            let mut best = Duration::MAX;
            for _ in 0..tries.max(1) {
                let started = Instant::now();
                let answer = invoke_json(&mut conn, &path, &body)
                    .map_err(|e| anyhow::anyhow!("{composition} of {n} items: {e}"))?;
                best = best.min(started.elapsed());
                let json: serde_json::Value = serde_json::from_slice(&answer)
                    .with_context(|| format!("{composition} of {n} items: the answer"))?;
                let got = json["Out"].as_array().map_or(0, Vec::len);
                if got != outputs {
                    bail!("{composition} of {n} items answered {got} items, not {outputs}");
                }
            }
            Ok(best)
        };
        let each = best("EachNoop", n)?;
        let all = best("AllNoop", 1)?;
        points.push(WidthPoint {
            items: n,
            each,
            all,
        });
    }
    daemon.stop()?;
    Ok(points)
}
