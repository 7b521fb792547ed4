//! The requests the suite sends: each workload's input, how its answer is
//! checked, and the callers that send it in-process and to the daemon.

use std::net::SocketAddr;
use std::time::Duration;

use pappus_engine::{Bytes, Engine, Item, Sets};

use crate::daemon::{invoke_path, invoke_raw};
use crate::http::Connection;
use crate::loadgen::{self, Bounds, Mode, RunResult};
use crate::{kernels, workloads};

/// One request's input and expected output.
pub(super) struct Workload {
    pub(super) id: String,
    pub(super) title: String,
    pub(super) function: &'static str,
    pub(super) composition: String,
    /// The input set whose one item is the request's body, and the output set
    /// whose one item is the answer.
    pub(super) input_set: &'static str,
    pub(super) output_set: &'static str,
    pub(super) input: Bytes,
    pub(super) expected: Vec<u8>,
    /// When not empty, a correct answer contains every one of these instead of
    /// being `expected` byte for byte.
    pub(super) contains: &'static [&'static str],
    /// Run the native, container and wasmtime baselines too.
    pub(super) baselines: bool,
    /// Run the container baselines (slow) too.
    pub(super) containers: bool,
}

/// Every workload the suite runs through each mode, in report order.
pub(super) fn all() -> Vec<Workload> {
    let mut all = Vec::new();
    for n in [3u64, 128] {
        let input = workloads::matrix(n);
        all.push(Workload {
            id: format!("matmul{n}"),
            title: format!("matmul {n}x{n}"),
            function: "matmul",
            composition: "MatMul".into(),
            input_set: "In",
            output_set: "Out",
            contains: &[],
            expected: kernels::matmul(&input).unwrap_or_default(),
            input: input.into(),
            baselines: true,
            containers: true,
        });
    }
    // Dandelion's workload, A·Aᵀ (the rows stream in order), beside the A·A above.
    let input = workloads::matrix(128);
    all.push(Workload {
        id: "matmul_aat128".into(),
        title: "matmul A·Aᵀ 128x128".into(),
        function: "matmul_aat",
        composition: "MatMulAat".into(),
        input_set: "In",
        output_set: "Out",
        contains: &[],
        expected: kernels::matmul_aat(&input).unwrap_or_default(),
        input: input.into(),
        baselines: true,
        containers: false,
    });
    for (kib, label) in [(64usize, "64 KiB"), (256, "256 KiB"), (1024, "1 MiB")] {
        let input = workloads::log_text(kib * 1024);
        all.push(Workload {
            id: format!("compress{kib}k"),
            title: format!("compress {label}"),
            function: "compress",
            composition: "Compress".into(),
            input_set: "In",
            output_set: "Out",
            contains: &[],
            expected: kernels::compress(&input),
            input: input.into(),
            baselines: true,
            containers: kib == 1024,
        });
    }
    for n in [1usize, 2, 4, 8, 16] {
        let input = workloads::log_text(4096);
        all.push(Workload {
            id: format!("chain{n}"),
            title: format!("chain of {n} (4 KiB)"),
            function: "upper",
            composition: format!("Chain{n}"),
            input_set: "In",
            output_set: "Out",
            contains: &[],
            expected: input.to_ascii_uppercase(),
            input: input.into(),
            baselines: false,
            containers: false,
        });
    }
    all
}

/// The compositions the workloads use, from `examples/`.
pub(super) const COMPOSITIONS: [&str; 3] = [
    "examples/matmul-bench/matmul.pap",
    "examples/compress/compress.pap",
    "examples/chain/chain.pap",
];
/// The functions the workloads call, from `examples/functions/wasm/`.
pub(super) const FUNCTIONS: [&str; 5] = ["matmul", "matmul_aat", "compress", "upper", "noop"];

/// One mode's outcome: numbers, or why there are none.
pub(super) struct Outcome {
    pub(super) mode: String,
    pub(super) run: Option<RunResult>,
    pub(super) note: String,
}

impl Outcome {
    pub(super) fn skipped(mode: &str, note: impl Into<String>) -> Outcome {
        Outcome {
            mode: mode.to_string(),
            run: None,
            note: note.into(),
        }
    }
}

/// Runs `make()`'s caller once as a probe (answering its error message), then
/// sequentially within `bounds`.
pub(super) fn sequential<F, C>(mode: &str, bounds: Bounds, warmup: u64, make: F) -> Outcome
where
    F: Fn() -> C + Sync,
    C: FnMut() -> Result<(), String>,
{
    let mut probe = make();
    for _ in 0..warmup.max(1) {
        if let Err(e) = probe() {
            return Outcome::skipped(mode, format!("failed: {e}"));
        }
    }
    drop(probe);
    let run = loadgen::run(Mode::Closed { clients: 1 }, bounds, make);
    Outcome {
        mode: mode.to_string(),
        run: Some(run),
        note: String::new(),
    }
}

/// `Ok` if `out` is `expected` byte for byte, else `wrong_output`.
pub(super) fn check(out: &[u8], expected: &[u8]) -> Result<(), String> {
    verdict(out == expected)
}

/// `Ok` for a correct answer, else the `wrong_output` error kind.
pub(super) fn verdict(correct: bool) -> Result<(), String> {
    if correct {
        Ok(())
    } else {
        Err("wrong_output".to_string())
    }
}

impl Workload {
    /// Whether `out` is a correct answer (`wrong_output` if not).
    pub(super) fn check(&self, out: &[u8]) -> Result<(), String> {
        if self.contains.is_empty() {
            return check(out, &self.expected);
        }
        let text = String::from_utf8_lossy(out);
        verdict(self.contains.iter().all(|s| text.contains(s)))
    }
}

/// A caller for the daemon's raw invoke endpoint, checking every answer.
pub(super) fn daemon_caller<'a>(
    addr: SocketAddr,
    w: &'a Workload,
) -> impl FnMut() -> Result<(), String> + 'a {
    let mut conn = Connection::new(addr, Duration::from_secs(30));
    let path = invoke_path(&w.composition, w.input_set);
    move || w.check(&invoke_raw(&mut conn, &path, &w.input)?)
}

/// A caller for [`Engine::invoke`], checking every answer.
pub(super) fn inproc_caller<'a>(
    engine: &'a Engine,
    w: &'a Workload,
) -> impl FnMut() -> Result<(), String> + 'a {
    move || {
        let mut sets = Sets::new();
        sets.insert(w.input_set.into(), vec![Item::new("x", 0, w.input.clone())]);
        let answer = engine
            .invoke(&w.composition, sets)
            .map_err(|e| format!("{} ({e})", e.kind()))?;
        match answer
            .outputs
            .get(w.output_set)
            .and_then(|items| items.first())
        {
            Some(item) => w.check(&item.data),
            None => Err("no_output".to_string()),
        }
    }
}
