//! The `pappus` command: one module per subcommand.
//!
//! `check` uses `pappus-dsl`, `run` embeds a `pappus-engine`, `serve` runs the
//! `pappus-daemon`; `new` and `build` make and build a project (a folder with a
//! `pappus.toml`, [`manifest`]); `deploy`, `invoke`, `ls`, `rm` and `logs` talk
//! to a running daemon over its HTTP API ([`client`]). `run` and `invoke` share
//! their input and output flags ([`sets`]).
//!
//! To add a subcommand, add a variant to [`Command`] holding its `Args` and
//! a match arm in [`main`].

mod build;
mod check;
mod client;
mod deploy;
mod invoke;
mod logs;
mod ls;
mod manifest;
mod new;
mod rm;
mod run;
mod serve;
mod sets;
mod statics;
mod toolchain;

/// Files embedded at build time by `build.rs`: the guest SDK and
/// `scripts/guest-env.sh`.
mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

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
    /// Create a project: one function, its build set-up, pappus.toml and app.pap.
    New(new::Args),
    /// Build every function listed in pappus.toml and print where each module is.
    Build(build::Args),
    /// Check composition files and print their diagnostics.
    Check(check::Args),
    /// Run one composition and print its outputs as JSON.
    Run(Box<run::Args>),
    /// Register a project's functions and compositions on a daemon.
    Deploy(deploy::Args),
    /// Invoke a composition on a daemon and print its outputs as JSON.
    Invoke(invoke::Args),
    /// List the functions and compositions on a daemon.
    Ls(ls::Args),
    /// Delete functions or compositions from a daemon.
    Rm(rm::Args),
    /// Show a daemon's last invocations of this tenant.
    Logs(logs::Args),
    /// Run the node daemon: an HTTP API to register and invoke compositions.
    Serve(Box<serve::Args>),
}

/// Parses the command line and runs the subcommand. Errors go to stderr.
fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::New(args) => new::main(args),
        Command::Build(args) => build::main(args),
        Command::Check(args) => check::main(args),
        Command::Run(args) => run::main(*args),
        Command::Deploy(args) => deploy::main(args),
        Command::Invoke(args) => invoke::main(args),
        Command::Ls(args) => ls::main(args),
        Command::Rm(args) => rm::main(args),
        Command::Logs(args) => logs::main(args),
        Command::Serve(args) => serve::main(*args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
