//! `pappus serve`: run the node daemon (see `docs/daemon.md`).

use std::path::PathBuf;

use clap::Args;
use pappus_engine::daemon::{self, Config, Settings};

/// Run the HTTP daemon: register functions and compositions, invoke compositions.
///
/// Every setting is a flag, a `PAPPUS_*` environment variable, or a key of the
/// `--config` TOML file, in that order of precedence.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// TOML file of settings (keys as the flags, with `_` for `-`).
    #[arg(long, env = "PAPPUS_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The settings given as flags or environment variables.
    #[command(flatten)]
    pub settings: Settings,
}

/// Runs `pappus serve` until SIGTERM/SIGINT has drained it.
///
/// # Errors
/// Invalid settings, a data directory the engine cannot load, or an address
/// that cannot be bound.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config::load(args.settings, args.config.as_deref())?;
    daemon::init_logging(config.log_format);
    daemon::run(config)
}
