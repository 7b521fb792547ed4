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
//!   figure to quote when the machine is loaded.
//!
//! Workloads: `matmul_aat_128` (C = A·Aᵀ, Dandelion's), `matmul_128` (C = A·A) and
//! `compress_1m` (1 MiB of log text). The target is sandbox/native ≤ 1.3.
//! Guest modules come from `examples/functions/wasm/`.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use pappus_benches::baselines::wasmtime_floor::Floor;
use pappus_benches::{kernels, workloads};
use pappus_isolation::{Config, InputSet, Item, Limits, Runtime};
use pappus_testkit::wasm;

/// One workload: the guest, its input, and the native kernel of the same source.
struct Workload {
    id: &'static str,
    function: &'static str,
    input: Vec<u8>,
    native: fn(&[u8]) -> Vec<u8>,
}

fn workloads() -> Vec<Workload> {
    vec![
        Workload {
            id: "matmul_aat_128",
            function: "matmul_aat",
            input: workloads::matrix(128),
            native: |m| kernels::matmul_aat(m).unwrap_or_default(),
        },
        Workload {
            id: "matmul_128",
            function: "matmul",
            input: workloads::matrix(128),
            native: |m| kernels::matmul(m).unwrap_or_default(),
        },
        Workload {
            id: "compress_1m",
            function: "compress",
            input: workloads::log_text(1 << 20),
            native: kernels::compress,
        },
    ]
}

fn compute(c: &mut Criterion) {
    let rt = Runtime::new(Config::new().pool_size(4)).expect("runtime");
    for w in workloads() {
        let expected = (w.native)(&w.input);
        let function = rt
            .compile(w.function, &wasm(w.function), Limits::default())
            .expect("compile");
        let items = [Item::new("in", 0, w.input.clone())];
        let run = || {
            rt.run(
                &function,
                &[InputSet {
                    name: "in",
                    items: &items,
                }],
                None,
            )
            .expect("run")
        };
        // Both modes must compute the same answer, or the comparison means nothing.
        assert_eq!(&run()[0].items[0].data[..], &expected[..], "{}", w.id);
        c.bench_function(&format!("native/{}", w.id), |b| {
            b.iter(|| (w.native)(std::hint::black_box(&w.input)))
        });
        c.bench_function(&format!("sandbox/{}", w.id), |b| b.iter(run));
        let floor = Floor::new(&wasm(w.function)).expect("bare wasmtime");
        let bare = || floor.call(&w.input).expect("bare wasmtime call");
        assert_eq!(bare(), expected, "{} in bare wasmtime", w.id);
        c.bench_function(&format!("wasmtime/{}", w.id), |b| b.iter(bare));
        alternated(w.id, &|| (w.native)(&w.input), &run, &bare);
    }
}

/// Calls alternated one by one (native, sandbox, bare wasmtime, native, ...),
/// reported as the minimum of each and its ratio to native: on a loaded machine
/// criterion's means drift between benchmarks run seconds apart, while the
/// minimum of alternated calls keeps the ratio.
fn alternated<A, B, C>(
    id: &str,
    native: &dyn Fn() -> A,
    sandbox: &dyn Fn() -> B,
    bare: &dyn Fn() -> C,
) {
    const CALLS: usize = 60;
    let time = |f: &dyn Fn()| {
        let start = Instant::now();
        f();
        start.elapsed()
    };
    let mut best = [Duration::MAX; 3];
    for _ in 0..CALLS {
        let took = [
            time(&|| drop(std::hint::black_box(native()))),
            time(&|| drop(std::hint::black_box(sandbox()))),
            time(&|| drop(std::hint::black_box(bare()))),
        ];
        for (best, took) in best.iter_mut().zip(took) {
            *best = (*best).min(took);
        }
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let ratio = |d: Duration| d.as_secs_f64() / best[0].as_secs_f64();
    println!(
        "alternated/{id}: minimum of {CALLS} calls each: native {:.3} ms, sandbox {:.3} ms ({:.2}x), bare wasmtime {:.3} ms ({:.2}x)",
        ms(best[0]),
        ms(best[1]),
        ratio(best[1]),
        ms(best[2]),
        ratio(best[2]),
    );
}

criterion_group!(benches, compute);
criterion_main!(benches);
