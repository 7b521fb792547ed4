//! `pappus check FILE...`: check composition files, print every diagnostic.

use std::path::PathBuf;
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
        let warnings = checked.diagnostics.len();
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
