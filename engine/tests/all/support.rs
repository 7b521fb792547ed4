//! Shared helpers: guest modules, a small engine, compact output rendering.

use std::collections::BTreeMap;

use pappus_engine::{Engine, EngineBuilder, Item, Limits, Sets};

pub use pappus_testkit::{repo_root, wasm};

/// Declarations of the example functions, to prefix composition texts.
pub const DECLS: &str = "
function identity (in) => (out);
function upper (in) => (out);
function split_words (text) => (words);
function count (in) => (counts);
function concat (in) => (out);
function merge (a, b) => (out);
function matmul (in) => (out);
function trap (in) => (out);
function spin (in) => (out);
";

pub const FUNCTIONS: &[&str] = &[
    "identity",
    "upper",
    "split_words",
    "count",
    "concat",
    "merge",
    "matmul",
    "trap",
    "spin",
];

/// Registers every example function on `tenant` with `limits`.
pub fn register_functions(tenant: &pappus_engine::Tenant, limits: Limits) {
    for f in FUNCTIONS {
        tenant.register_function(f, &wasm(f), limits).unwrap();
    }
}

/// An engine with two compute threads, configured further by `configure`,
/// and the example functions registered on the default tenant.
pub fn engine_with(configure: impl FnOnce(EngineBuilder) -> EngineBuilder) -> Engine {
    let engine = configure(Engine::builder().compute_threads(2))
        .build()
        .unwrap();
    register_functions(
        &engine.tenant(pappus_engine::DEFAULT_TENANT),
        Limits::default(),
    );
    engine
}

/// [`engine_with`] as it comes.
pub fn engine() -> Engine {
    engine_with(|builder| builder)
}

pub fn item(name: &str, key: u64, data: &str) -> Item {
    Item::new(name, key, data.to_string())
}

pub fn sets(spec: &[(&str, Vec<Item>)]) -> Sets {
    spec.iter()
        .map(|(n, i)| (n.to_string(), i.clone()))
        .collect()
}

/// Outputs as `set -> ["name@key=data", ...]`, items sorted.
pub fn show(outputs: &Sets) -> BTreeMap<String, Vec<String>> {
    outputs
        .iter()
        .map(|(set, items)| {
            let mut shown: Vec<String> = items
                .iter()
                .map(|i| format!("{}@{}={}", i.name, i.key, String::from_utf8_lossy(&i.data)))
                .collect();
            shown.sort();
            (set.clone(), shown)
        })
        .collect()
}

/// `show` of the single output set `set`.
pub fn show_set(outputs: &Sets, set: &str) -> Vec<String> {
    show(outputs)
        .remove(set)
        .unwrap_or_else(|| panic!("no output set {set}"))
}

/// Registers `body` (prefixed with the declarations) and invokes `name`.
pub fn run(engine: &Engine, body: &str, name: &str, inputs: Sets) -> Sets {
    engine
        .register_compositions(&format!("{DECLS}\n{body}"))
        .unwrap_or_else(|e| panic!("{e}"));
    engine
        .invoke(name, inputs)
        .unwrap_or_else(|e| panic!("{e}"))
        .outputs
}

/// A square matrix item for `matmul`: n, then n*n little-endian u64.
pub fn matrix(name: &str, key: u64, n: usize, fill: u64) -> Item {
    let mut data = Vec::with_capacity((n * n + 1) * 8);
    data.extend_from_slice(&(n as u64).to_le_bytes());
    for i in 0..n * n {
        data.extend_from_slice(&(fill + i as u64 % 3).to_le_bytes());
    }
    Item::new(name, key, data)
}

/// An engine like [`engine`] whose I/O runtime is tuned by `tune` (short
/// timeouts and limits make fault tests quick).
pub fn io_engine(tune: impl FnOnce(&mut pappus_io::RingConfig)) -> Engine {
    let mut io = pappus_io::RingConfig::new();
    tune(&mut io);
    engine_with(|builder| builder.io_config(io))
}

/// `fetch` every URI, then upper-case every object (one shard per item).
pub const LOAD: &str = "composition Load (Uris) => (Loud) {
    fetch (uris = each Uris) => (Objects = objects);
    upper (in = each Objects) => (Loud = out);
}";

/// Invokes [`LOAD`] (registered by the caller) on one URI.
pub fn load(engine: &Engine, uri: &str) -> pappus_engine::Result<Vec<String>> {
    engine
        .invoke("Load", sets(&[("Uris", vec![item("u", 7, uri)])]))
        .map(|answer| show_set(&answer.outputs, "Loud"))
}
