//! Engine overhead per application, against the isolation-only cold start.
//!
//! - `engine/isolation_cold_start`: `pappus_isolation::Runtime::run` of `noop`
//!   with one item: a fresh sandbox, inputs placed, entry run, outputs read.
//! - `engine/chain/N`: one invocation of a chain of N `noop` applications over
//!   one `each` item (N sandboxes in sequence).
//! - `engine/fanout/N`: one invocation of one `noop` application over N items
//!   with `each` (N sandboxes).
//!
//! Every engine here has one compute thread, so that time per element
//! (criterion's throughput is set to the number of sandboxes) compares
//! directly with the cold start: the difference is the engine's overhead per
//! application. Run with
//! `cargo bench -p pappus-benches --bench engine -- --warm-up-time 1 --measurement-time 3`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pappus_engine::{Engine, Item, Limits, Sets};
use pappus_isolation::{Config, InputSet, Runtime};

/// `examples/functions/wasm/noop.wasm`, built by `examples/functions/build.sh`
/// if it is missing.
fn noop_wasm() -> Vec<u8> {
    pappus_testkit::wasm("noop")
}

fn engine_with(composition: &str) -> Engine {
    let engine = Engine::builder()
        .compute_threads(1)
        .build()
        .expect("engine");
    engine
        .register_function("noop", &noop_wasm(), Limits::default())
        .expect("register noop");
    engine
        .register_compositions(composition)
        .expect("register composition");
    engine
}

fn chain_text(n: usize) -> String {
    let mut text =
        String::from("function noop (in) => (out);\ncomposition Chain (S0) => (Out) {\n");
    for i in 1..=n {
        let out = if i == n {
            "Out".to_string()
        } else {
            format!("S{i}")
        };
        text.push_str(&format!(
            "    noop (in = each S{}) => ({out} = out);\n",
            i - 1
        ));
    }
    text.push_str("}\n");
    text
}

fn inputs(set: &str, n: usize) -> Sets {
    let items = (0..n)
        .map(|i| Item::new(format!("i{i}"), i as u64, "payload"))
        .collect();
    Sets::from([(set.to_string(), items)])
}

fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine");

    // The baseline: one cold start through the isolation crate alone.
    let runtime = Runtime::new(&Config::new()).expect("runtime");
    let noop = runtime
        .compile("noop", &noop_wasm(), Limits::default())
        .expect("compile noop");
    let items = [Item::new("i0", 0, "payload")];
    group.throughput(Throughput::Elements(1));
    group.bench_function("isolation_cold_start", |b| {
        b.iter(|| {
            let inputs = [InputSet {
                name: "in",
                items: &items,
            }];
            runtime.run(&noop, &inputs, None).expect("noop runs")
        })
    });

    for n in [1usize, 4, 16] {
        let engine = engine_with(&chain_text(n));
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("chain", n), &n, |b, _| {
            b.iter(|| engine.invoke("Chain", inputs("S0", 1)).expect("chain runs"))
        });
    }

    let fanout = "function noop (in) => (out);
        composition Fan (A) => (B) { noop (in = each A) => (B = out); }";
    let engine = engine_with(fanout);
    for n in [1usize, 64, 1024] {
        group.throughput(Throughput::Elements(n as u64));
        let input = inputs("A", n);
        group.bench_with_input(BenchmarkId::new("fanout", n), &n, |b, _| {
            b.iter(|| engine.invoke("Fan", input.clone()).expect("fan-out runs"))
        });
    }
    group.finish();
}

criterion_group!(engine, benches);
criterion_main!(engine);
