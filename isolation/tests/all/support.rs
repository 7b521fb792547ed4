//! Shared helpers: the example guest functions and a small runtime.

use std::time::Duration;

use pappus_isolation::{Config, Function, InputSet, Item, Limits, OutputSet, Runtime};

pub use pappus_testkit::wasm;

/// A small runtime for tests.
pub fn runtime() -> Runtime {
    Runtime::new(
        Config::new()
            .pool_size(32)
            .max_memory_bytes(64 << 20)
            .watch_tick(Duration::from_millis(2)),
    )
    .expect("runtime")
}

/// Compiles example function `name` with default limits.
pub fn function(rt: &Runtime, name: &str) -> Function {
    function_with(rt, name, Limits::default())
}

/// Compiles example function `name` with `limits`.
pub fn function_with(rt: &Runtime, name: &str, limits: Limits) -> Function {
    rt.compile(name, &wasm(name), limits)
        .unwrap_or_else(|e| panic!("compiling {name}: {e}"))
}

/// Runs `f` with one input set `set` holding `items`.
pub fn run1(rt: &Runtime, f: &Function, set: &str, items: &[Item]) -> Vec<OutputSet> {
    rt.run(f, &[InputSet { name: set, items }], None)
        .unwrap_or_else(|e| panic!("running {}: {e}", f.name()))
}

/// Shorthand for an item.
pub fn item(name: &str, key: u64, data: &[u8]) -> Item {
    Item::new(name, key, data.to_vec())
}
