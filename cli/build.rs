//! Embeds the guest SDK (`sdk/`: its manifest, sources and C header) and the
//! guest build environment (`scripts/guest-env.sh`) in the `pappus` binary.
//!
//! `pappus new --lang rust-sdk` writes the SDK into the new project
//! (`vendor/pappus-guest/`), so a project builds wherever the binary was
//! installed from, with no path into this repository; `pappus build` runs the
//! same guest-env script the examples use, so its flags have one source. The
//! SDK's files are listed by walking the folder (not by hand) so that a file
//! added to the SDK is embedded without touching this crate.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest_dir
        .parent()
        .expect("cli/ is inside the repository")
        .to_path_buf();
    let sdk = root.join("sdk");
    let mut files = Vec::new();
    for part in ["Cargo.toml", "src", "include"] {
        let path = sdk.join(part);
        println!("cargo:rerun-if-changed={}", path.display());
        collect(&path, &mut files);
    }
    files.sort();
    let mut code = String::from(
        "/// The guest SDK's files: path relative to `sdk/`, contents.\n\
         pub(crate) const SDK_FILES: &[(&str, &[u8])] = &[\n",
    );
    for file in &files {
        let relative = file.strip_prefix(&sdk).expect("walked under sdk/");
        let relative = relative.to_str().expect("SDK file names are UTF-8");
        writeln!(
            code,
            "    ({relative:?}, include_bytes!({:?})),",
            file.display().to_string()
        )
        .expect("writing to a String");
    }
    code.push_str("];\n");
    let guest_env = root.join("scripts").join("guest-env.sh");
    println!("cargo:rerun-if-changed={}", guest_env.display());
    writeln!(
        code,
        "/// `scripts/guest-env.sh`, run by `pappus build` through bash.\n\
         pub(crate) const GUEST_ENV_SH: &str = include_str!({:?});",
        guest_env.display().to_string()
    )
    .expect("writing to a String");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo")).join("embedded.rs");
    std::fs::write(&out, code).expect("writing embedded.rs");
}

/// Every file under `path` (or `path` itself), skipping build output.
fn collect(path: &Path, files: &mut Vec<PathBuf>) {
    if path.is_file() {
        files.push(path.to_path_buf());
        return;
    }
    let Ok(entries) = std::fs::read_dir(path) else {
        return;
    };
    for entry in entries.flatten() {
        let p = entry.path();
        if p.file_name().is_some_and(|n| n == "target") {
            continue;
        }
        collect(&p, files);
    }
}
