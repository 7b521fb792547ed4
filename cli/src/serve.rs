//! `pappus serve`: run the node daemon (see `docs/daemon.md`).

use std::path::PathBuf;
use std::process::ExitCode;

use pappus_daemon::{self as daemon, Config, Settings};

/// Arguments of `pappus serve`.
///
/// Every setting is a flag, a `PAPPUS_*` environment variable, or a key of the
/// `--config` TOML file, in that order of precedence.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// TOML file of settings (keys as the flags, with `_` for `-`; the I/O
    /// runtime's `io_*`, `s3_*` and `redis_url` keys in an `[io]` table).
    #[arg(long, env = "PAPPUS_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// The settings given as flags or environment variables.
    #[command(flatten)]
    settings: Settings,
}

/// Runs the daemon until SIGTERM/SIGINT has drained it.
///
/// # Errors
/// Invalid settings, a data directory the engine cannot load, or an address
/// that cannot be bound.
pub(crate) fn main(args: Args) -> anyhow::Result<ExitCode> {
    let config = Config::load(args.settings, args.config.as_deref())?;
    daemon::init_logging(config.log_format);
    daemon::run(config)?;
    Ok(ExitCode::SUCCESS)
}
