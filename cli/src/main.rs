//! The `pappus` command: one module per subcommand.
//!
//! `check` uses `pappus-dsl`, `run` embeds a `pappus-engine`, `serve` runs the
//! `pappus-daemon`; this crate only parses the command line and layers the
//! settings of `run` (flags, environment, `pappus.toml`).
//!
//! To add a subcommand, add a variant to [`Command`] holding its `Args` and
//! a match arm in [`main`].

mod check;
mod run;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Pappus: run compositions of sandboxed WebAssembly functions.
#[derive(Parser)]
#[command(name = "pappus", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check composition files and print their diagnostics.
    Check(check::Args),
    /// Run one composition and print its outputs as JSON.
    Run(run::Args),
    /// Run the node daemon: an HTTP API to register and invoke compositions.
    Serve(serve::Args),
}

/// Parses the command line and runs the subcommand. Errors go to stderr.
fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => check::main(args),
        Command::Run(args) => run::main(args),
        Command::Serve(args) => serve::main(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
