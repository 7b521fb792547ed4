//! Compute in the sandbox against the same source compiled natively, in one run.
//!
//! - `native/<workload>`: the kernel from `examples/functions/src/kernels/`, built
//!   into this bench by the host compiler (portable x86-64, no `target-cpu`), with
//!   the same decode and encode steps as the guest.
//! - `sandbox/<workload>`: `Runtime::run` of the guest built from the same kernel:
//!   a fresh sandbox, the input placed, the call, the output read back.
//! - `wasmtime/<workload>`: the same guest in bare wasmtime with its defaults
//!   (the suite's floor, `pappus_benches::baselines::wasmtime_floor`): the same
//!   code generation and memory layout, no limits, and a recycled memory reset
//!   with `madvise` (so its pages fault in again on every call). Between native
//!   and sandbox, it splits code generation from the sandbox's set-up.
//!
//! - `alternated/<workload>` (printed, not a criterion benchmark): the three
//!   modes called in turn, 60 calls each, minimum and ratio to native; the
//!   figure to quote when the machine is loaded. The suite reports the same
//!   measurement (without bare wasmtime) as its compute targets.
//!
//! Workloads (`pappus_benches::compute::kernels`): `matmul_aat_128` (C = A·Aᵀ,
//! Dandelion's), `matmul_128` (C = A·A) and `compress_1m` (1 MiB of log text).
//! The target is sandbox/native ≤ 1.3. Guest modules come from
//! `examples/functions/wasm/`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use pappus_benches::baselines::wasmtime_floor::Floor;
use pappus_benches::compute::{alternated_minimums, kernels, Sandboxed, CALLS};
use pappus_isolation::{Config, Runtime};
use pappus_testkit::wasm;

fn compute(c: &mut Criterion) {
    let rt = Runtime::new(Config::new().pool_size(4)).expect("runtime");
    for w in kernels() {
        let expected = (w.native)(&w.input);
        let sandboxed =
            Sandboxed::new(&rt, w.function, &wasm(w.function), w.input.clone()).expect("compile");
        let run = || sandboxed.call().expect("run");
        // Both modes must compute the same answer, or the comparison means nothing.
        assert_eq!(run(), expected, "{}", w.id);
        c.bench_function(&format!("native/{}", w.id), |b| {
            b.iter(|| (w.native)(std::hint::black_box(&w.input)))
        });
        c.bench_function(&format!("sandbox/{}", w.id), |b| b.iter(run));
        let floor = Floor::new(&wasm(w.function)).expect("bare wasmtime");
        let bare = || floor.call(&w.input).expect("bare wasmtime call");
        assert_eq!(bare(), expected, "{} in bare wasmtime", w.id);
        c.bench_function(&format!("wasmtime/{}", w.id), |b| b.iter(bare));

        let native = || drop(std::hint::black_box((w.native)(&w.input)));
        let sandbox = || drop(std::hint::black_box(run()));
        let bare = || drop(std::hint::black_box(bare()));
        let best = alternated_minimums(CALLS, &[&native, &sandbox, &bare]);
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let ratio = |d: Duration| d.as_secs_f64() / best[0].as_secs_f64();
        println!(
            "alternated/{}: minimum of {CALLS} calls each: native {:.3} ms, sandbox {:.3} ms ({:.2}x), bare wasmtime {:.3} ms ({:.2}x)",
            w.id,
            ms(best[0]),
            ms(best[1]),
            ratio(best[1]),
            ms(best[2]),
            ratio(best[2]),
        );
    }
}

criterion_group!(benches, compute);
criterion_main!(benches);
