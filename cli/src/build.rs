//! `pappus build [DIR]`: build every function of `DIR/pappus.toml` that has a
//! `lang` and a `src`, put each module at its `wasm` path, and print where each
//! module is.
//!
//! - Rust: `cargo build --release` in the crate's folder with the guest build
//!   environment ([`crate::toolchain`]), for `wasm32-unknown-unknown` (ABI v1)
//!   or `wasm32-wasip1` (WASI); the module is the crate's one `cdylib` or `bin`
//!   artifact, found in cargo's JSON messages (so `CARGO_TARGET_DIR` is honoured).
//! - C: `clang --target=wasm32-wasi --sysroot=/usr -O2 -s` (WASI) or the
//!   freestanding ABI v1 flags of `docs/toolchain.md`, on `src` (a file, or
//!   every `*.c` of a folder) plus `cflags`, incrementally ([`c`]): a source
//!   is recompiled only when it, a header it includes or the flags changed.

mod c;

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};

use anyhow::{bail, Context as _};
use serde::Deserialize;

use crate::manifest::{BuildSpec, Function, Kind, Lang, Manifest};
use crate::toolchain::{self, Needs};

/// Arguments of `pappus build`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The project folder (holding pappus.toml).
    #[arg(default_value = ".")]
    dir: PathBuf,
}

pub(crate) fn main(args: Args) -> anyhow::Result<ExitCode> {
    let manifest = Manifest::load(&args.dir)?;
    let mut built = 0;
    for (name, function) in &manifest.functions {
        let Some(spec) = &function.build else {
            println!("{name}: {} (prebuilt)", function.wasm.display());
            continue;
        };
        build_one(&manifest.dir, name, function, spec)
            .with_context(|| format!("cannot build function `{name}`"))?;
        let size = std::fs::metadata(&function.wasm).map_or(0, |m| m.len());
        println!(
            "{name}: {} ({}, {size} bytes)",
            function.wasm.display(),
            function.kind.as_str()
        );
        built += 1;
    }
    if manifest.functions.is_empty() {
        bail!(
            "{} lists no function",
            manifest.dir.join(crate::manifest::FILE_NAME).display()
        );
    }
    eprintln!(
        "built {built} function{}",
        if built == 1 { "" } else { "s" }
    );
    Ok(ExitCode::SUCCESS)
}

fn build_one(dir: &Path, name: &str, function: &Function, spec: &BuildSpec) -> anyhow::Result<()> {
    if let Some(parent) = function.wasm.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    match spec.lang {
        Lang::Rust => build_rust(name, function.kind, &spec.src, &function.wasm),
        Lang::C => {
            // Beside cargo's `target/` of Rust functions; one folder per
            // function, since two may share sources with other flags.
            let objects = dir.join("target").join("c").join(name);
            let outcome = c::build(function.kind, spec, &function.wasm, &objects)?;
            if outcome.compiled == 0 && !outcome.linked {
                eprintln!(
                    "{name}: up to date ({} source{} unchanged)",
                    outcome.sources,
                    if outcome.sources == 1 { "" } else { "s" }
                );
            } else {
                eprintln!(
                    "{name}: compiled {} of {} source{}",
                    outcome.compiled,
                    outcome.sources,
                    if outcome.sources == 1 { "" } else { "s" }
                );
            }
            Ok(())
        }
    }
}

/// The part of cargo's `--message-format=json` lines we read.
#[derive(Deserialize)]
struct CargoMessage {
    reason: String,
    #[serde(default)]
    manifest_path: Option<PathBuf>,
    #[serde(default)]
    target: Option<CargoTarget>,
    #[serde(default)]
    filenames: Vec<PathBuf>,
}

#[derive(Deserialize)]
struct CargoTarget {
    kind: Vec<String>,
    name: String,
}

fn build_rust(name: &str, kind: Kind, crate_dir: &Path, wasm: &Path) -> anyhow::Result<()> {
    let (target, needs) = match kind {
        Kind::AbiV1 => ("wasm32-unknown-unknown", Needs::RustAbiV1),
        Kind::Wasi => ("wasm32-wasip1", Needs::RustWasi),
    };
    toolchain::check(needs)?;
    let manifest_path = crate_dir.join("Cargo.toml");
    if !manifest_path.is_file() {
        bail!(
            "{} is not a cargo crate (no Cargo.toml)",
            crate_dir.display()
        );
    }
    let manifest_path = manifest_path
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", manifest_path.display()))?;
    eprintln!(
        "building {name} ({}) with cargo for {target}",
        kind.as_str()
    );
    let mut child = toolchain::guest_cargo(target)
        .args([
            "build",
            "--release",
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(crate_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("cannot start cargo")?;
    let mut artifacts = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.context("reading cargo's output")?;
            let Ok(message) = serde_json::from_str::<CargoMessage>(&line) else {
                continue;
            };
            if message.reason != "compiler-artifact"
                || message.manifest_path.as_deref() != Some(manifest_path.as_path())
            {
                continue;
            }
            let Some(t) = message.target else { continue };
            if !t.kind.iter().any(|k| k == "cdylib" || k == "bin") {
                continue;
            }
            for file in message.filenames {
                if file.extension().is_some_and(|e| e == "wasm") {
                    artifacts.push((t.name.clone(), file));
                }
            }
        }
    }
    let status = child.wait().context("waiting for cargo")?;
    if !status.success() {
        bail!("cargo build failed ({status}); its messages are above");
    }
    let module =
        match artifacts.as_slice() {
            [(_, only)] => only,
            [] => bail!(
                "cargo built no .wasm module in {}: the crate needs a `cdylib` library \
             (ABI v1) or one binary (WASI)",
                crate_dir.display()
            ),
            many => bail!(
            "cargo built several modules in {} ({}): keep one cdylib or binary per function crate",
            crate_dir.display(),
            many.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
        ),
        };
    std::fs::copy(module, wasm)
        .with_context(|| format!("cannot copy {} to {}", module.display(), wasm.display()))?;
    Ok(())
}
