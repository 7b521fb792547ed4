//! Building `benches/baselines/native.rs` into a static binary with the host `rustc`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use anyhow::{bail, Context, Result};

/// The sources the native binary is built from, relative to the repository root.
const SOURCES: [&str; 3] = [
    "benches/baselines/native.rs",
    "examples/functions/src/kernels/matmul.rs",
    "examples/functions/src/kernels/compress.rs",
];

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Builds (when a source is newer than the binary) and answers the path of
/// `out_dir/pappus-native`, a static x86_64 Linux executable.
///
/// Errors: `rustc` missing or failing (for example without the
/// `x86_64-unknown-linux-gnu` standard library).
pub fn build(repo: &Path, out_dir: &Path) -> Result<PathBuf> {
    let binary = out_dir.join("pappus-native");
    let newest = SOURCES.iter().filter_map(|s| modified(&repo.join(s))).max();
    if let (Some(built), Some(newest)) = (modified(&binary), newest) {
        if built >= newest {
            return Ok(binary);
        }
    }
    std::fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let status = Command::new(&rustc)
        .args([
            "--edition",
            "2021",
            "-C",
            "opt-level=3",
            "-C",
            "panic=abort",
            "-C",
            "strip=symbols",
        ])
        .args([
            "-C",
            "target-feature=+crt-static",
            "--target",
            "x86_64-unknown-linux-gnu",
        ])
        .arg("-o")
        .arg(&binary)
        .arg(repo.join(SOURCES[0]))
        .status()
        .with_context(|| format!("running {rustc}"))?;
    if !status.success() {
        bail!("{rustc} failed to build the native baseline ({status})");
    }
    Ok(binary)
}
