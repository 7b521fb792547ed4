//! Shared helpers: locating (and if needed building) the example guest functions.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use pappus_isolation::{Config, Function, InputSet, Item, Limits, OutputSet, Runtime};

/// `examples/functions/` at the repository root.
pub fn functions_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/functions")
}

static BUILD: Mutex<bool> = Mutex::new(false);

/// The bytes of `examples/functions/wasm/<name>.wasm`, running
/// `examples/functions/build.sh` first if the file is missing (once per process).
/// Panics with the script's message (telling to run `./setup.sh`) if it fails.
pub fn wasm(name: &str) -> Vec<u8> {
    let path = functions_dir().join("wasm").join(format!("{name}.wasm"));
    if !path.exists() {
        let mut built = BUILD.lock().unwrap_or_else(|e| e.into_inner());
        if !*built {
            let script = functions_dir().join("build.sh");
            let out = Command::new("bash")
                .arg(&script)
                .output()
                .expect("cannot run examples/functions/build.sh");
            assert!(
                out.status.success(),
                "examples/functions/build.sh failed (is the guest toolchain installed? run ./setup.sh):\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            *built = true;
        }
    }
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A small runtime for tests.
pub fn runtime() -> Runtime {
    Runtime::new(
        Config::new()
            .pool_size(32)
            .max_memory_bytes(64 << 20)
            .epoch_tick(Duration::from_millis(2)),
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
