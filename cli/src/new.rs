//! `pappus new NAME --lang rust|c|rust-sdk`: a project folder `NAME/` with one
//! function's source, its build set-up, a `pappus.toml` and a one-application
//! composition in `app.pap`, which `pappus build` and then
//! `pappus run app.pap --input Input=TEXT` run as generated.
//!
//! - `rust-sdk`: an ABI v1 function (a `no_std` cdylib) on the guest SDK. The
//!   SDK is written into `vendor/pappus-guest/` from the copy embedded in this
//!   binary (`build.rs`), so the project needs no path into the Pappus
//!   repository and keeps building when the repository moves.
//! - `rust`: a WASI program (a std `main`, crates allowed).
//! - `c`: a WASI C program (`main()` with stdio).
//!
//! Names: the function is NAME in lower case with `-` as `_`; the composition
//! is NAME in CamelCase (`word-count` gives `word_count` and `WordCount`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _};

use crate::embedded::SDK_FILES;

/// Longest project name accepted (it becomes a crate and function name).
const MAX_NAME_LEN: usize = 64;

/// The language of the generated function.
#[derive(Clone, Copy, clap::ValueEnum)]
pub(crate) enum Lang {
    /// A Rust WASI program (std `main`).
    Rust,
    /// A C WASI program (`main()` with stdio).
    C,
    /// A Rust ABI v1 function on the guest SDK (`no_std`, the fast path).
    RustSdk,
}

/// Arguments of `pappus new`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The project's name: the folder created, and the function's name.
    name: String,
    /// The function's language.
    #[arg(long, value_enum)]
    lang: Lang,
}

/// The names a project's files use.
struct Names {
    /// The folder and cargo package name (as given).
    project: String,
    /// The function name (an identifier).
    function: String,
    /// The composition name (CamelCase).
    composition: String,
}

impl Names {
    fn new(name: &str) -> anyhow::Result<Names> {
        let mut bytes = name.bytes();
        let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphabetic());
        let rest_ok = bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !first_ok || !rest_ok || name.len() > MAX_NAME_LEN {
            bail!(
                "project name {name:?} must start with a letter and hold only letters, digits, \
                 `_` and `-` (at most {MAX_NAME_LEN}): it names a folder, a crate and a function"
            );
        }
        let function = name.to_ascii_lowercase().replace('-', "_");
        let composition = name
            .split(['-', '_'])
            .filter(|part| !part.is_empty())
            .map(|part| {
                let mut chars = part.chars();
                chars.next().map_or_else(String::new, |first| {
                    first.to_ascii_uppercase().to_string() + chars.as_str()
                })
            })
            .collect();
        Ok(Names {
            project: name.to_string(),
            function,
            composition,
        })
    }

    fn fill(&self, template: &str) -> String {
        template
            .replace("{{crate}}", &self.project)
            .replace("{{function}}", &self.function)
            .replace("{{Composition}}", &self.composition)
    }
}

const GITIGNORE: &str = "/target\n/wasm\n";

/// The files of a project: path in the folder, template text.
fn templates(lang: Lang, names: &Names) -> Vec<(PathBuf, &'static str)> {
    let mut files = vec![(PathBuf::from(".gitignore"), GITIGNORE)];
    match lang {
        Lang::RustSdk => files.extend([
            (
                "Cargo.toml".into(),
                include_str!("../templates/rust-sdk/Cargo.toml"),
            ),
            (
                ".cargo/config.toml".into(),
                include_str!("../templates/rust-sdk/cargo-config/config.toml"),
            ),
            (
                "src/lib.rs".into(),
                include_str!("../templates/rust-sdk/lib.rs"),
            ),
            (
                "pappus.toml".into(),
                include_str!("../templates/rust-sdk/pappus.toml"),
            ),
            (
                "app.pap".into(),
                include_str!("../templates/rust-sdk/app.pap"),
            ),
        ]),
        Lang::Rust => files.extend([
            (
                "Cargo.toml".into(),
                include_str!("../templates/rust/Cargo.toml"),
            ),
            (
                "src/main.rs".into(),
                include_str!("../templates/rust/main.rs"),
            ),
            (
                "pappus.toml".into(),
                include_str!("../templates/rust/pappus.toml"),
            ),
            ("app.pap".into(), include_str!("../templates/rust/app.pap")),
        ]),
        Lang::C => files.extend([
            (
                PathBuf::from(format!("{}.c", names.function)),
                include_str!("../templates/c/main.c"),
            ),
            (
                "pappus.toml".into(),
                include_str!("../templates/c/pappus.toml"),
            ),
            ("app.pap".into(), include_str!("../templates/c/app.pap")),
        ]),
    }
    files
}

pub(crate) fn main(args: Args) -> anyhow::Result<ExitCode> {
    let names = Names::new(&args.name)?;
    let dir = PathBuf::from(&args.name);
    std::fs::create_dir(&dir).with_context(|| {
        format!(
            "cannot create the project folder {} (does it exist already?)",
            dir.display()
        )
    })?;
    if let Err(e) = write_project(&dir, args.lang, &names) {
        // Leave nothing half-made behind.
        let _ = std::fs::remove_dir_all(&dir);
        return Err(e);
    }
    println!(
        "created {}/ with function `{}` and composition `{}`",
        names.project, names.function, names.composition
    );
    println!();
    println!("  cd {}", names.project);
    println!("  pappus build");
    println!("  pappus run app.pap --input Input=world");
    Ok(ExitCode::SUCCESS)
}

fn write_project(dir: &Path, lang: Lang, names: &Names) -> anyhow::Result<()> {
    for (path, template) in templates(lang, names) {
        write(&dir.join(path), names.fill(template).as_bytes())?;
    }
    if matches!(lang, Lang::RustSdk) {
        let vendor = dir.join("vendor").join("pappus-guest");
        for (path, bytes) in SDK_FILES {
            write(&vendor.join(path), bytes)?;
        }
    }
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_identifiers() {
        let n = Names::new("word-count").ok();
        let n = n.as_ref();
        assert_eq!(n.map(|n| n.function.as_str()), Some("word_count"));
        assert_eq!(n.map(|n| n.composition.as_str()), Some("WordCount"));
        let n = Names::new("Hello").ok();
        assert_eq!(n.as_ref().map(|n| n.function.as_str()), Some("hello"));
        assert_eq!(n.as_ref().map(|n| n.composition.as_str()), Some("Hello"));
        for bad in ["", "1x", "-x", "a/b", "a b", "../x", &"x".repeat(65)] {
            assert!(Names::new(bad).is_err(), "{bad:?}");
        }
    }
}
