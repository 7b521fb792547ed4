//! The example guest modules (`examples/functions/wasm/<name>.wasm`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

static BUILD: Mutex<bool> = Mutex::new(false);

/// The repository root.
pub fn repo_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent()
        .map_or_else(|| here.to_path_buf(), Path::to_path_buf)
}

/// `examples/functions/` at the repository root.
pub fn functions_dir() -> PathBuf {
    repo_root().join("examples").join("functions")
}

/// Path of `examples/functions/wasm/<name>.wasm`, running
/// `examples/functions/build.sh` first if it is missing (once per process).
/// Panics with the script's message (which says to run `./setup.sh`) if it fails.
pub fn wasm_path(name: &str) -> PathBuf {
    let path = functions_dir().join("wasm").join(format!("{name}.wasm"));
    if !path.exists() {
        let mut built = BUILD.lock().unwrap_or_else(|e| e.into_inner());
        if !*built {
            let script = functions_dir().join("build.sh");
            let out = match Command::new("bash").arg(&script).output() {
                Ok(out) => out,
                Err(e) => panic!("cannot run {}: {e}", script.display()),
            };
            assert!(
                out.status.success(),
                "examples/functions/build.sh failed (is the guest toolchain installed? run ./setup.sh):\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            *built = true;
        }
    }
    path
}

/// The bytes of [`wasm_path`]`(name)`.
pub fn wasm(name: &str) -> Vec<u8> {
    let path = wasm_path(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}
