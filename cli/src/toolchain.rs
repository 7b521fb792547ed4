//! The guest toolchains `pappus build` drives (`docs/toolchain.md`): Debian's
//! Rust 1.96 building `std` from source (`-Zbuild-std`) and clang with
//! wasi-libc. What is missing is found before building, so the error names it
//! instead of leaving the user to decode a linker failure.
//!
//! The Rust build environment is `scripts/guest-env.sh`, embedded in the binary
//! by `build.rs` and run through bash: the examples and `pappus build` share
//! one source of those flags.

use std::path::Path;
use std::process::Command;

use anyhow::bail;

/// Debian's rustc and cargo, called by full path (rustup's proxies come first
/// on PATH and have no wasm32 standard library).
pub(crate) const RUSTC: &str = "/usr/bin/rustc";
pub(crate) const CARGO: &str = "/usr/bin/cargo";
/// The standard library's source that `-Zbuild-std` compiles (`rust-web-src`).
const STD_SOURCE: &str = "/usr/lib/rustlib/src/rust/library/std/Cargo.toml";
/// Debian's wasi-libc, the sysroot of `clang --target=wasm32-wasi --sysroot=/usr`.
const WASI_LIBC: &str = "/usr/lib/wasm32-wasi/libc.a";
/// The oldest rustc whose cargo builds guests with `-Zbuild-std` here.
const MIN_RUSTC_MINOR: u32 = 96;

/// What a build needs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Needs {
    /// Rust for `wasm32-unknown-unknown` (ABI v1).
    RustAbiV1,
    /// Rust for `wasm32-wasip1`.
    RustWasi,
    /// Freestanding C (ABI v1).
    CAbiV1,
    /// C with wasi-libc.
    CWasi,
}

/// Fails naming every missing part of the toolchain `needs`, and the fix.
///
/// # Errors
/// Something is missing.
pub(crate) fn check(needs: Needs) -> anyhow::Result<()> {
    let mut missing = Vec::new();
    let rust = matches!(needs, Needs::RustAbiV1 | Needs::RustWasi);
    if rust {
        if !rustc_is_recent() {
            missing.push(format!(
                "{RUSTC} 1.{MIN_RUSTC_MINOR} or newer (Debian package rustc-web)"
            ));
        }
        if !Path::new(CARGO).is_file() {
            missing.push(format!("{CARGO} (Debian package cargo-web)"));
        }
        if !Path::new(STD_SOURCE).is_file() {
            missing.push("the standard library's source (Debian package rust-web-src)".into());
        }
        if !on_path("bash") {
            missing.push("bash".into());
        }
    } else if !on_path("clang") {
        missing.push("clang".into());
    }
    if !on_path("wasm-ld") {
        missing.push("wasm-ld (Debian package lld)".into());
    }
    if matches!(needs, Needs::RustWasi | Needs::CWasi) && !Path::new(WASI_LIBC).is_file() {
        missing.push("wasi-libc (Debian package wasi-libc)".into());
    }
    if needs == Needs::CWasi && !clang_rt_present() {
        missing
            .push("clang's wasm32 runtime library (Debian package libclang-rt-dev-wasm32)".into());
    }
    if !missing.is_empty() {
        bail!(
            "the guest toolchain is incomplete: missing {}; ./setup.sh installs it \
             (see docs/toolchain.md)",
            missing.join(", ")
        );
    }
    Ok(())
}

fn rustc_is_recent() -> bool {
    let Ok(out) = Command::new(RUSTC).arg("--version").output() else {
        return false;
    };
    // "rustc 1.96.0 (...)"
    let text = String::from_utf8_lossy(&out.stdout);
    let minor = text
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.split('.').nth(1))
        .and_then(|m| m.parse::<u32>().ok());
    out.status.success() && minor.is_some_and(|m| m >= MIN_RUSTC_MINOR)
}

fn clang_rt_present() -> bool {
    let Ok(out) = Command::new("clang")
        .args(["--target=wasm32-wasi", "-print-libgcc-file-name"])
        .output()
    else {
        return false;
    };
    let path = String::from_utf8_lossy(&out.stdout);
    out.status.success() && Path::new(path.trim()).is_file()
}

/// Whether `program` is an executable file in a `PATH` directory.
pub(crate) fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// `cargo ARGS...` for `target`, run inside the guest build environment (the
/// embedded `scripts/guest-env.sh TARGET /usr/bin/cargo ARGS...`).
pub(crate) fn guest_cargo(target: &str) -> Command {
    let mut command = Command::new("bash");
    command
        .arg("-c")
        .arg(crate::embedded::GUEST_ENV_SH)
        .arg("guest-env.sh")
        .arg(target)
        .arg(CARGO);
    command
}
