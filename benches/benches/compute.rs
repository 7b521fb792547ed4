//! Compute in the sandbox against the same source compiled natively, in one run.
//!
//! - `native/<workload>`: the kernel from `examples/functions/src/kernels/`, built
//!   into this bench by the host compiler (portable x86-64, no `target-cpu`), with
//!   the same decode and encode steps as the guest.
//! - `sandbox/<workload>`: `Runtime::run` of the guest built from the same kernel:
//!   a fresh sandbox, the input placed, the call, the output read back.
//! - `wasmtime/<workload>`: the same guest in bare wasmtime with its defaults
//!   (the suite's floor, `pappus_benches::baselines::wasmtime_floor`): the same
//!   code generation and memory layout, but no epoch checks, no limits, and a
//!   recycled memory reset with `madvise` (so its pages fault in again on every
//!   call). Between native and sandbox, it splits code generation from the
//!   sandbox's deadline checks and set-up.
//!
//! Workloads: `matmul_aat_128` (C = A·Aᵀ, Dandelion's), `matmul_128` (C = A·A) and
//! `compress_1m` (1 MiB of log text). The target is sandbox/native ≤ 1.3.
//! Guest modules come from `examples/functions/wasm/`.

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
    }
}

criterion_group!(benches, compute);
criterion_main!(benches);
