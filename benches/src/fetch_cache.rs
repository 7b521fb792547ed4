//! The fetch cache's target: a second invocation fetching a 64 MiB object
//! from an unchanged server transfers at most headers and runs at least 10x
//! faster than the first (`docs/dataplane.md`, "The fetch cache").
//!
//! An in-process engine with a fetch cache in a scratch directory invokes
//! `Load (Uris) => (Objects)` (one `fetch`) on nginx over loopback. Each
//! round uses an object of its own, so its first invocation finds the cache
//! empty; the repeats of that invocation revalidate. Every answer is checked
//! (size and contents); nginx's access log says how many body bytes each
//! request transferred, so "at most headers" is the server's word, not ours.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use pappus_engine::{Engine, Item, Sets, DEFAULT_TENANT};
use pappus_io::{Authority, IoPolicy, RingConfig};

/// The object size of the target.
pub const OBJECT_BYTES: usize = 64 << 20;
/// Repeats of each round's invocation after its first.
const REPEATS: usize = 5;

const LOAD: &str = "composition Load (Uris) => (Objects) {
    fetch (uris = each Uris) => (Objects = objects);
}
";

/// What the rounds measured.
#[derive(Clone, Copy, Debug)]
pub struct FetchCacheTimes {
    /// Median time of a first invocation (cache empty: the body transferred).
    pub first: Duration,
    /// Median time of a repeated invocation (revalidated: `304`).
    pub repeat: Duration,
    /// Body bytes nginx sent for all repeated invocations together.
    pub repeat_body_bytes: u64,
    /// Repeated invocations measured.
    pub repeats: usize,
}

impl FetchCacheTimes {
    /// How many times faster a repeat is than a first invocation.
    pub fn speedup(&self) -> f64 {
        self.first.as_secs_f64() / self.repeat.as_secs_f64().max(1e-9)
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

/// Runs `rounds` rounds (each: one first invocation, then `REPEATS` repeats).
///
/// # Errors
/// nginx does not start, the engine cannot be built, an invocation fails or
/// answers other bytes than the object's.
pub fn measure(rounds: usize) -> Result<FetchCacheTimes> {
    let (nginx, log) = pappus_testkit::nginx_logging();
    let scratch = tempfile_dir()?;
    let mut io = RingConfig::new();
    io.fetch_cache(scratch.join("fetch-cache"))
        .spill_dir(scratch.join("spill"));
    let mut policy = IoPolicy::default();
    policy.http.allow = vec!["127.0.0.1".into()];
    let authority = Arc::new(Authority::new(&policy).context("the loopback policy")?);
    let engine = Engine::builder()
        .io_config(io)
        .tenant_authority(DEFAULT_TENANT, authority)
        .build()
        .context("building the engine")?;
    engine.register_compositions(LOAD)?;
    let object: Vec<u8> = (0..OBJECT_BYTES).map(|i| (i % 251) as u8).collect();
    let (mut firsts, mut repeats) = (Vec::new(), Vec::new());
    let mut repeat_body_bytes = 0;
    for round in 0..rounds {
        let path = format!("/model-{round}.bin");
        std::fs::write(nginx.root.join(&path[1..]), &object)
            .with_context(|| format!("writing {path}"))?;
        let uri = format!("{}{path}", nginx.url());
        let once = || -> Result<Duration> {
            let mut inputs = Sets::new();
            inputs.insert("Uris".into(), vec![Item::new("model", 0, uri.clone())]);
            let begun = Instant::now();
            let answer = engine.invoke("Load", inputs)?;
            let spent = begun.elapsed();
            let got = answer.outputs.get("Objects").and_then(|o| o.first());
            match got {
                Some(item) if item.data.as_ref() == object.as_slice() => Ok(spent),
                _ => bail!("the answer is not the object"),
            }
        };
        firsts.push(once()?);
        for _ in 0..REPEATS {
            repeats.push(once()?);
        }
        let logged = pappus_testkit::logged_body_bytes(&log, &path);
        match logged.split_first() {
            Some((&(200, n), rest)) if n == OBJECT_BYTES as u64 && rest.len() == REPEATS => {
                repeat_body_bytes += rest.iter().map(|&(_, b)| b).sum::<u64>();
            }
            _ => bail!("nginx logged {logged:?} for {path}"),
        }
    }
    drop(engine);
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(FetchCacheTimes {
        first: median(firsts),
        repeat: median(repeats),
        repeat_body_bytes,
        repeats: rounds * REPEATS,
    })
}

/// A fresh scratch directory on disk (not tmpfs: the cache's files are what
/// is measured).
fn tempfile_dir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("pappus-fetch-cache-{}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}
