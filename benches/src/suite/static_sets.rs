//! Static sets (`docs/dataplane.md`): what a call costs over a large set
//! against a small one, and what concurrent calls over one set cost in
//! memory.
//!
//! - Per-call time of the same function with a 4 KiB and a 64 MiB static set,
//!   reading 4 KiB of it, for a WASI program (`examples/static-sets/peek.c`,
//!   reading its folder) and an ABI v1 guest (`examples/functions` `peek`,
//!   whose set is baked into its memory image), through the in-process engine,
//!   the two sizes interleaved call by call.
//! - The daemon's peak RSS over 16 concurrent calls of a WASI program that
//!   reads a whole 256 MiB static set, against its peak over one such call
//!   (the peak is reset between the two through `/proc/PID/clear_refs`).
//! - A 1 GiB static set registered and called.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use pappus_engine::{Engine, Item, Limits, Sets, StaticSet, WasiSettings};

use super::Suite;
use crate::daemon::Daemon;
use crate::http::Connection;
use crate::procfs;

const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;
/// Concurrent calls of the memory measurement.
pub(super) const CONCURRENT: usize = 16;
/// The set of the memory measurement.
pub(super) const SHARED_SET: usize = 256 * MIB;
/// The large set of the per-call measurements.
pub(super) const LARGE_SET: usize = 64 * MIB;

/// What the static-set measurements found.
#[derive(Clone, Debug)]
pub(super) struct StaticRuns {
    /// Median per-call time of the WASI program: 4 KiB set, 64 MiB set.
    pub wasi: (Duration, Duration),
    /// The same for the ABI v1 guest.
    pub abi: (Duration, Duration),
    /// Peak daemon RSS over one call and over [`CONCURRENT`] calls of a
    /// [`SHARED_SET`] set, in bytes.
    pub rss: Result<(u64, u64), String>,
    /// Registering and then calling a function with a 1 GiB static set.
    pub gib: Result<(Duration, Duration), String>,
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    let mut data = vec![0u8; len];
    let mut x = u64::from(seed) | 1;
    for chunk in data.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let bytes = x.to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
    data
}

fn blob_set(len: usize) -> Vec<StaticSet> {
    vec![StaticSet {
        name: "table".into(),
        items: vec![Item::new("blob", 0, pattern(len, 5))],
    }]
}

fn requests(text: &str) -> Sets {
    let mut sets = Sets::new();
    sets.insert("Requests".into(), vec![Item::new("r", 0, text.to_string())]);
    sets
}

fn wasi_peek(repo: &Path) -> Result<Vec<u8>> {
    let path = repo.join("examples/static-sets/peek.wasm");
    std::fs::read(&path).with_context(|| {
        format!(
            "reading {} (run examples/static-sets/build.sh)",
            path.display()
        )
    })
}

/// The median of `calls` calls of each of two compositions, interleaved.
fn interleaved(
    engine: &Engine,
    calls: usize,
    a: (&str, &Sets),
    b: (&str, &Sets),
) -> Result<(Duration, Duration)> {
    let mut times = (Vec::with_capacity(calls), Vec::with_capacity(calls));
    for i in 0..calls + 5 {
        for (which, (composition, inputs)) in [(0, a), (1, b)] {
            let started = Instant::now();
            let answer = engine.invoke(composition, inputs.clone())?;
            let elapsed = started.elapsed();
            let out = answer.outputs.get("Answers").and_then(|s| s.first());
            if out.is_none_or(|i| i.data.len() < 4 * KIB) {
                bail!("{composition} answered no 4 KiB read");
            }
            // The first calls warm the pool slots and caches.
            if i >= 5 {
                if which == 0 {
                    times.0.push(elapsed);
                } else {
                    times.1.push(elapsed);
                }
            }
        }
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    Ok((median(&mut times.0), median(&mut times.1)))
}

impl Suite {
    /// Every static-set measurement; a part that fails says why in its place.
    pub(super) fn static_sets(&self) -> Result<StaticRuns> {
        self.progress("static sets: per-call time over 4 KiB and 64 MiB sets");
        let calls = if self.opts.quick { 40 } else { 300 };
        let engine = Engine::builder()
            .compute_threads(1)
            .build()
            .context("building the engine")?;
        let wasi = wasi_peek(&self.opts.repo)?;
        let abi = self.wasm("peek")?;
        let limits = Limits {
            memory_bytes: 128 << 20,
            ..Limits::default()
        };
        for (name, len) in [("small", 4 * KIB), ("large", LARGE_SET)] {
            engine.register_function_static(
                &format!("wasi_{name}"),
                &wasi,
                Limits::default(),
                WasiSettings::default(),
                blob_set(len),
            )?;
            engine.register_function_static(
                &format!("abi_{name}"),
                &abi,
                limits,
                WasiSettings::default(),
                blob_set(len),
            )?;
            engine.register_compositions(&format!(
                "function wasi_{name} (stdin) => (stdout);
                 function abi_{name} (in) => (out);
                 composition Wasi_{name} (Requests) => (Answers) {{
                     wasi_{name} (stdin = all Requests) => (Answers = stdout);
                 }}
                 composition Abi_{name} (Requests) => (Answers) {{
                     abi_{name} (in = all Requests) => (Answers = out);
                 }}"
            ))?;
        }
        let middle = LARGE_SET / 2 + 12_345;
        let wasi_small = requests("read /table/blob 0 4096\n");
        let wasi_large = requests(&format!("read /table/blob {middle} 4096\n"));
        let abi_small = requests("table/blob:0:4096");
        let abi_large = requests(&format!("table/blob:{middle}:4096"));
        let wasi_times = interleaved(
            &engine,
            calls,
            ("Wasi_small", &wasi_small),
            ("Wasi_large", &wasi_large),
        )?;
        let abi_times = interleaved(
            &engine,
            calls,
            ("Abi_small", &abi_small),
            ("Abi_large", &abi_large),
        )?;
        drop(engine);

        self.progress("static sets: daemon RSS over 16 concurrent calls of a 256 MiB set");
        let rss = self.shared_rss(&wasi).map_err(|e| format!("{e:#}"));
        self.progress("static sets: a 1 GiB set");
        let gib = gib(&wasi).map_err(|e| format!("{e:#}"));
        Ok(StaticRuns {
            wasi: wasi_times,
            abi: abi_times,
            rss,
            gib,
        })
    }

    /// Peak RSS of a daemon over one call and over [`CONCURRENT`] calls that
    /// each read the whole [`SHARED_SET`] set.
    fn shared_rss(&self, wasi: &[u8]) -> Result<(u64, u64)> {
        let dir = self.fresh_dir("static-sets-daemon")?;
        let body_limit = (SHARED_SET + 16 * MIB).to_string();
        let daemon = Daemon::start(
            &self.opts.pappus,
            &dir,
            &self.opts.work.join("static-sets-daemon.log"),
            &[
                "--max-body-bytes".into(),
                body_limit.clone(),
                "--max-body-bytes-in-flight".into(),
                body_limit,
                "--compute-threads".into(),
                CONCURRENT.to_string(),
            ],
        )?;
        let bundle = pappus_daemon::bundle::encode(wasi, &blob_set(SHARED_SET));
        daemon.put_function_as("sum", &bundle, pappus_daemon::bundle::CONTENT_TYPE)?;
        drop(bundle);
        daemon.put_compositions(
            "function sum (stdin) => (stdout);
             composition Sum (Requests) => (Answers) { sum (stdin = all Requests) => (Answers = stdout); }",
        )?;
        let addr = daemon.addr();
        let call = move || -> Result<()> {
            let mut conn = Connection::new(addr, Duration::from_secs(120));
            let answer = crate::daemon::invoke_raw(
                &mut conn,
                &crate::daemon::invoke_path("Sum", "Requests"),
                b"sum /table/blob\n",
            )
            .map_err(anyhow::Error::msg)?;
            let expected = format!("{SHARED_SET} ");
            if !String::from_utf8_lossy(&answer).starts_with(&expected) {
                bail!("the call did not read the whole set");
            }
            Ok(())
        };
        let pid = daemon.pid();
        let reset_peak = || {
            std::fs::write(format!("/proc/{pid}/clear_refs"), "5")
                .context("resetting the daemon's peak RSS")
        };
        // Warm: the first calls fill pool slots.
        for _ in 0..2 {
            call()?;
        }
        reset_peak()?;
        call()?;
        let one = procfs::memory_status(pid)?.rss_peak;
        reset_peak()?;
        let threads: Vec<_> = (0..CONCURRENT).map(|_| std::thread::spawn(call)).collect();
        for t in threads {
            t.join()
                .map_err(|_| anyhow::anyhow!("a calling thread panicked"))??;
        }
        let sixteen = procfs::memory_status(pid)?.rss_peak;
        daemon.stop()?;
        Ok((one, sixteen))
    }
}

/// Registers a WASI function with a 1 GiB static set and calls it once,
/// reading the last 4 KiB; answers the two times.
fn gib(wasi: &[u8]) -> Result<(Duration, Duration)> {
    let engine = Engine::builder().compute_threads(1).build()?;
    let sets = blob_set(1 << 30);
    let started = Instant::now();
    engine.register_function_static(
        "big",
        wasi,
        Limits::default(),
        WasiSettings::default(),
        sets,
    )?;
    let registered = started.elapsed();
    engine.register_compositions(
        "function big (stdin) => (stdout);
         composition Big (Requests) => (Answers) { big (stdin = all Requests) => (Answers = stdout); }",
    )?;
    let started = Instant::now();
    let answer = engine.invoke(
        "Big",
        requests(&format!("read /table/blob {} 4096\n", (1 << 30) - 4096)),
    )?;
    let called = started.elapsed();
    if answer.outputs["Answers"][0].data.len() != 4097 {
        bail!("the call over the 1 GiB set did not read its last 4 KiB");
    }
    Ok((registered, called))
}
