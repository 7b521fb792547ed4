//! The `pappus` command for tests outside the CLI crate.
//!
//! Cargo hands `CARGO_BIN_EXE_pappus` only to the tests of the package that
//! builds the binary (`cli/`); the daemon's tests drive the same binary, so they
//! build it here, by package name, with the cargo, target directory and profile
//! that built the running test. Building (rather than looking for a file) means
//! a stale binary from an older checkout is never what gets tested. The build
//! selects the whole workspace, as `cargo test --workspace` does, so that
//! dependencies are resolved with the same features whichever crate's tests
//! ask, and are compiled once.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::guest::repo_root;

/// Path of the `pappus` binary (package `pappus-cli`), built with `cargo build
/// --workspace --bin pappus` on first use in this process (a no-op when it is
/// up to date).
/// Panics with cargo's output if the build fails.
pub fn pappus_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(build)
}

fn build() -> PathBuf {
    // A test runs as <target dir>/<profile dir>/deps/<test>-<hash>.
    let exe = std::env::current_exe().expect("path of the running test");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test runs from <target>/<profile>/deps");
    let target_dir = profile_dir.parent().expect("the profile dir has a parent");
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => "dev",
        Some(other) => other,
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(&cargo)
        .args(["build", "--quiet", "--workspace", "--bin", "pappus"])
        .args(["--profile", profile, "--target-dir"])
        .arg(target_dir)
        .current_dir(repo_root())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", cargo.to_string_lossy()));
    assert!(
        out.status.success(),
        "building the pappus binary failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let binary = profile_dir.join("pappus");
    assert!(
        binary.exists(),
        "cargo built pappus but {} is missing",
        binary.display()
    );
    binary
}
