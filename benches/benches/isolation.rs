//! Sandbox cold starts against the floor of bare wasmtime.
//!
//! - `floor/wasmtime_pooling_noop`: bare wasmtime with the pooling allocator and an
//!   `InstancePre`: a fresh store and instance of `noop.wasm`, one call, nothing
//!   placed or read (the guest returns at once on a null region). A recycled
//!   memory is reset with `madvise`, so the next call faults its pages in again.
//! - `floor/wasmtime_pooling_resident_noop`: the same with the pool set up as
//!   the runtime sets it up (where Linux has `PAGEMAP_SCAN`): pages stay
//!   resident and only dirty ones are reset, so no page faults. The floor to
//!   compare `pappus/cold_start_1k` with.
//! - `floor/wasmtime_pooling_1k`: the same, with one 1 KiB item placed by growing
//!   the memory and read back (the suite's floor,
//!   `pappus_benches::baselines::wasmtime_floor`).
//! - `pappus/cold_start_1k`: `Runtime::run` of the same module: a fresh sandbox,
//!   one 1 KiB input item placed, the entry run, one output item read back.
//! - `pappus/matmul_128`: one 128x128 u64 matrix squared (A·A).
//! - `pappus/matmul_aat_128`: the same matrix times its transpose (A·Aᵀ,
//!   Dandelion's workload).
//! - `pappus/placement/<bytes>`: a 64 KiB, 1 MiB or 16 MiB input item placed
//!   (`noop` echoes only a 1-byte first item, so the big one is not read back).
//!
//! Guest modules come from `examples/functions/wasm/`, built by
//! `examples/functions/build.sh` (run by `pappus_testkit::wasm` if they are missing).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pappus_isolation::{Config, Function, InputSet, Item, Limits, Runtime};
use pappus_testkit::wasm;

/// Echoes the first item of the first set through static descriptors: output
/// descriptor at 128, one set `out` at 144 whose item table is the input's own.
const ECHO_WAT: &str = r#"(module
    (memory (export "memory") 1)
    (data (i32.const 200) "out")
    (func (export "pappus_entry") (param $r i32) (result i32)
        (local $set i32)
        (local.set $set (i32.load offset=16 (local.get $r)))
        (i32.store (i32.const 128) (i32.const 1))
        (i32.store (i32.const 132) (i32.const 144))
        (i32.store (i32.const 144) (i32.const 200))
        (i32.store (i32.const 148) (i32.const 3))
        (i32.store (i32.const 152) (i32.load offset=8 (local.get $set)))
        (i32.store (i32.const 156) (i32.const 1))
        (i32.store offset=20 (local.get $r) (i32.const 128))
        i32.const 0))"#;

/// Bare wasmtime instantiating `noop.wasm` from an `InstancePre` with `pool` and
/// calling it once on a null region.
fn bare_noop(c: &mut Criterion, id: &str, pool: wasmtime::PoolingAllocationConfig) {
    use wasmtime::{Engine, InstanceAllocationStrategy, Linker, Module, Store};
    let mut config = wasmtime::Config::new();
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    let engine = Engine::new(&config).expect("engine");
    let module = Module::new(&engine, wasm("noop")).expect("module");
    let pre = Linker::<()>::new(&engine)
        .instantiate_pre(&module)
        .expect("pre");
    c.bench_function(id, |b| {
        b.iter(|| {
            let mut store = Store::new(&engine, ());
            let instance = pre.instantiate(&mut store).expect("instantiate");
            let entry = instance
                .get_typed_func::<u32, u32>(&mut store, "pappus_entry")
                .expect("entry");
            entry.call(&mut store, 0).expect("call")
        })
    });
}

fn floor(c: &mut Criterion) {
    use wasmtime::{Enabled, PoolingAllocationConfig};
    let mut pool = PoolingAllocationConfig::new();
    pool.total_core_instances(16)
        .total_memories(16)
        .total_tables(16);
    bare_noop(c, "floor/wasmtime_pooling_noop", pool.clone());
    // The pool as the runtime sets it up where Linux has PAGEMAP_SCAN: a recycled
    // memory keeps its pages and only the dirty ones are reset.
    if PoolingAllocationConfig::is_pagemap_scan_available() {
        pool.pagemap_scan(Enabled::Yes)
            .linear_memory_keep_resident(8 << 20)
            .table_keep_resident(10_000 * 8);
        bare_noop(c, "floor/wasmtime_pooling_resident_noop", pool);
    }
    let floor = pappus_benches::baselines::wasmtime_floor::Floor::new(&wasm("noop"))
        .expect("bare wasmtime");
    let one_k = vec![7u8; 1024];
    c.bench_function("floor/wasmtime_pooling_1k", |b| {
        b.iter(|| {
            let out = floor.call(&one_k).expect("call");
            assert_eq!(out.len(), 1024);
            out
        })
    });
}

fn pappus(c: &mut Criterion) {
    let rt = Runtime::new(Config::new().pool_size(16)).expect("runtime");
    let noop = rt
        .compile("noop", &wasm("noop"), Limits::default())
        .expect("noop");
    let matmul = rt
        .compile("matmul", &wasm("matmul"), Limits::default())
        .expect("matmul");
    let matmul_aat = rt
        .compile("matmul_aat", &wasm("matmul_aat"), Limits::default())
        .expect("matmul_aat");

    let one_k = [Item::new("item", 1, vec![7u8; 1024])];
    // One 1 KiB item in, the same item back out.
    let run_1k = |f: &Function| {
        let out = rt
            .run(
                f,
                &[InputSet {
                    name: "in",
                    items: &one_k,
                }],
                None,
            )
            .expect("run");
        assert_eq!(out[0].items[0].data.len(), 1024);
        out
    };
    c.bench_function("pappus/cold_start_1k", |b| b.iter(|| run_1k(&noop)));

    // Attribution: the same call without inputs (region placed, no guest
    // allocation, nothing read back), and a hand-written guest that echoes the first
    // item from static descriptors (no allocation in the guest).
    c.bench_function("pappus/cold_start_empty", |b| {
        b.iter(|| rt.run(&noop, &[], None).expect("run"))
    });
    let echo = rt
        .compile("echo_wat", ECHO_WAT.as_bytes(), Limits::default())
        .expect("echo");
    c.bench_function("pappus/cold_start_1k_static_guest", |b| {
        b.iter(|| run_1k(&echo))
    });

    let n = 128u64;
    let matrix: Vec<u8> = std::iter::once(n)
        .chain((0..n * n).map(|i| i % 17))
        .flat_map(u64::to_le_bytes)
        .collect();
    let m = [Item::new("m", 0, matrix)];
    for (id, function) in [
        ("pappus/matmul_128", &matmul),
        ("pappus/matmul_aat_128", &matmul_aat),
    ] {
        c.bench_function(id, |b| {
            b.iter(|| {
                rt.run(
                    function,
                    &[InputSet {
                        name: "in",
                        items: &m,
                    }],
                    None,
                )
                .expect("run")
            })
        });
    }

    let mut group = c.benchmark_group("pappus/placement");
    for size in [64usize << 10, 1 << 20, 16 << 20] {
        let items = [
            Item::new("first", 0, vec![1u8]),
            Item::new("big", 1, vec![3u8; size]),
        ];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::from_parameter(size), &items, |b, items| {
            b.iter(|| {
                rt.run(&noop, &[InputSet { name: "in", items }], None)
                    .expect("run")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, floor, pappus);
criterion_main!(benches);
