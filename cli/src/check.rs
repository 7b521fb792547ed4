//! `pappus check FILE...`: check composition files, print every diagnostic.
//!
//! When a `pappus.toml` beside a file maps functions to modules (its
//! `[functions]` table, as for `pappus run`), each `function` declaration of
//! a mapped function is also checked against the set names its module embeds:
//! a difference is an error naming both lists, a module without them a warning.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;

/// Arguments of `pappus check`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Composition files, checked in order; a file may call the
    /// compositions of the files before it.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

pub(crate) fn main(args: Args) -> anyhow::Result<ExitCode> {
    let mut env = pappus_dsl::Env::new();
    let mut failed = false;
    for path in &args.files {
        let source = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let name = path.display().to_string();
        let file = match pappus_dsl::parse(&source) {
            Ok(file) => file,
            Err(diagnostics) => {
                for d in &diagnostics {
                    eprintln!("{}", d.render(&name, &source));
                }
                failed = true;
                continue;
            }
        };
        let checked = pappus_dsl::check(&file, &env);
        for d in &checked.diagnostics {
            eprintln!("{}", d.render(&name, &source));
        }
        if checked.has_errors() {
            failed = true;
            continue;
        }
        let mut warnings = checked.diagnostics.len();
        let modules = manifest_modules(path)?;
        let mut mismatched = false;
        for (function, declared) in &checked.functions {
            let Some(module) = modules.get(function) else {
                continue;
            };
            let bytes = std::fs::read(module).with_context(|| {
                // Before the first build a project's modules do not exist yet.
                let hint = if module.exists() {
                    String::new()
                } else {
                    format!(
                        " (not built yet? run `pappus build` in {})",
                        path.parent()
                            .filter(|p| !p.as_os_str().is_empty())
                            .unwrap_or(Path::new("."))
                            .display()
                    )
                };
                format!(
                    "cannot read module {} for function `{function}`{hint}",
                    module.display()
                )
            })?;
            let verdict = pappus_engine::module_signature(function, &bytes).and_then(|sig| {
                let wasi = pappus_engine::module_is_wasi(&bytes);
                pappus_engine::check_declaration(function, declared, sig.as_ref(), wasi)
            });
            match verdict {
                Ok(None) => {}
                Ok(Some(warning)) => {
                    eprintln!("warning: {name}: {warning}");
                    warnings += 1;
                }
                Err(e) => {
                    eprintln!("error: {name}: {e}");
                    mismatched = true;
                }
            }
        }
        if mismatched {
            failed = true;
            continue;
        }
        let names: Vec<&str> = checked.plans.iter().map(|p| p.name.as_str()).collect();
        println!(
            "{name}: ok, {} composition(s) [{}], {warnings} warning(s)",
            names.len(),
            names.join(", ")
        );
        for plan in &checked.plans {
            env.add_composition(plan.clone());
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The modules of the `[functions]` table of the `pappus.toml` beside `file`
/// (paths relative to it), by function name; none without such a file. Only
/// the module paths are read here: `pappus run` validates the rest.
fn manifest_modules(file: &Path) -> anyhow::Result<BTreeMap<String, PathBuf>> {
    let dir = file.parent().unwrap_or(Path::new("."));
    let path = dir.join("pappus.toml");
    let mut modules = BTreeMap::new();
    if !path.exists() {
        return Ok(modules);
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let manifest: toml::Table =
        toml::from_str(&text).with_context(|| format!("invalid {}", path.display()))?;
    let Some(functions) = manifest.get("functions").and_then(toml::Value::as_table) else {
        return Ok(modules);
    };
    for (name, spec) in functions {
        let wasm = match spec {
            toml::Value::String(wasm) => Some(wasm.as_str()),
            toml::Value::Table(full) => full.get("wasm").and_then(toml::Value::as_str),
            _ => None,
        };
        let Some(wasm) = wasm else {
            anyhow::bail!(
                "invalid {}: function `{name}` has no module path",
                path.display()
            );
        };
        modules.insert(name.clone(), dir.join(wasm));
    }
    Ok(modules)
}
