//! The sandboxed kernels against the same source compiled natively, shared by
//! the compute bench (`benches/compute.rs`) and the suite's compute targets:
//! the three workloads and the alternated measurement.
//!
//! Native is the kernel from `examples/functions/src/kernels/` built into this
//! crate by the host compiler (portable x86-64, no `target-cpu`), with the same
//! decode and encode steps as the guest. The sandbox is `Runtime::run` of the
//! guest built from the same kernel: a fresh sandbox, the input placed, the
//! call, the output read back.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use pappus_isolation::{Config, Function, InputSet, Item, Limits, Runtime};

use crate::{kernels, workloads};

/// How many calls of each mode [`alternated_minimums`] takes by default.
pub const CALLS: usize = 60;

/// One workload: the guest, its input, and the native kernel of the same source.
pub struct Kernel {
    /// Short name (`matmul_aat_128`).
    pub id: &'static str,
    /// For reports (`matmul A·Aᵀ 128x128`).
    pub title: &'static str,
    /// The guest function (`examples/functions/wasm/<function>.wasm`).
    pub function: &'static str,
    pub input: Vec<u8>,
    pub native: fn(&[u8]) -> Vec<u8>,
}

/// `matmul_aat_128` (C = A·Aᵀ, Dandelion's), `matmul_128` (C = A·A) and
/// `compress_1m` (1 MiB of log text).
pub fn kernels() -> Vec<Kernel> {
    vec![
        Kernel {
            id: "matmul_aat_128",
            title: "matmul A·Aᵀ 128x128",
            function: "matmul_aat",
            input: workloads::matrix(128),
            native: |m| kernels::matmul_aat(m).unwrap_or_default(),
        },
        Kernel {
            id: "matmul_128",
            title: "matmul A·A 128x128",
            function: "matmul",
            input: workloads::matrix(128),
            native: |m| kernels::matmul(m).unwrap_or_default(),
        },
        Kernel {
            id: "compress_1m",
            title: "compress 1 MiB of log text",
            function: "compress",
            input: workloads::log_text(1 << 20),
            native: kernels::compress,
        },
    ]
}

/// A guest compiled by `runtime`, run on one input item (`in`) in a fresh
/// sandbox per call.
pub struct Sandboxed<'a> {
    runtime: &'a Runtime,
    function: Function,
    items: [Item; 1],
}

impl<'a> Sandboxed<'a> {
    /// Compiles `module` as `function`, to be called on `input`.
    pub fn new(
        runtime: &'a Runtime,
        function: &str,
        module: &[u8],
        input: Vec<u8>,
    ) -> Result<Self> {
        let function = runtime
            .compile(function, module, Limits::default())
            .with_context(|| format!("compiling {function}"))?;
        Ok(Sandboxed {
            runtime,
            function,
            items: [Item::new("in", 0, input)],
        })
    }

    /// One call: the data of the first output item.
    pub fn call(&self) -> Result<Vec<u8>> {
        let outputs = self.runtime.run(
            &self.function,
            &[InputSet {
                name: "in",
                items: &self.items,
            }],
            None,
        )?;
        let item = outputs
            .first()
            .and_then(|set| set.items.first())
            .context("the guest reported no output item")?;
        Ok(item.data.to_vec())
    }
}

/// Calls `modes` in turn, one call each per round, for `calls` rounds, and
/// returns each mode's minimum. On a loaded machine means drift between
/// benchmarks run seconds apart, while the minimum of alternated calls keeps
/// the ratio.
pub fn alternated_minimums(calls: usize, modes: &[&dyn Fn()]) -> Vec<Duration> {
    let mut best = vec![Duration::MAX; modes.len()];
    for _ in 0..calls {
        for (best, mode) in best.iter_mut().zip(modes) {
            let start = Instant::now();
            mode();
            *best = (*best).min(start.elapsed());
        }
    }
    best
}

/// One kernel's fastest call natively and in the sandbox.
#[derive(Debug, Clone)]
pub struct KernelTimes {
    pub id: &'static str,
    pub title: &'static str,
    pub native: Duration,
    pub sandbox: Duration,
}

impl KernelTimes {
    /// Sandbox time over native time.
    pub fn ratio(&self) -> f64 {
        self.sandbox.as_secs_f64() / self.native.as_secs_f64()
    }
}

/// Every kernel of [`kernels()`], natively and in a sandbox of a runtime of its
/// own, alternated [`CALLS`] times; `module` gives a guest's bytes. Fails if
/// the two builds of a kernel disagree, since the comparison would mean nothing.
pub fn measure(module: &dyn Fn(&str) -> Result<Vec<u8>>) -> Result<Vec<KernelTimes>> {
    let runtime = Runtime::new(Config::new().pool_size(2)).context("starting a runtime")?;
    let mut times = Vec::new();
    for kernel in kernels() {
        let sandboxed = Sandboxed::new(
            &runtime,
            kernel.function,
            &module(kernel.function)?,
            kernel.input.clone(),
        )?;
        let expected = (kernel.native)(&kernel.input);
        if sandboxed.call()? != expected {
            bail!("{}: the sandbox and the native build disagree", kernel.id);
        }
        let native = || drop(std::hint::black_box((kernel.native)(&kernel.input)));
        let sandbox = || drop(std::hint::black_box(sandboxed.call()));
        let best = alternated_minimums(CALLS, &[&native, &sandbox]);
        times.push(KernelTimes {
            id: kernel.id,
            title: kernel.title,
            native: best[0],
            sandbox: best[1],
        });
    }
    Ok(times)
}
