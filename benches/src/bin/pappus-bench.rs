//! `pappus-bench`: the Pappus load generator and benchmark suite.
//!
//! - `pappus-bench suite [--quick]`: every baseline, the daemon under load, every
//!   workload and memory, written to `benches/results/<date>-<host>.md` with SVG
//!   plots (`scripts/bench.sh` builds everything and runs this).
//! - `pappus-bench load --addr ADDR --composition NAME --input FILE ...`: one
//!   open- or closed-loop run against a running daemon (loopback only).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use pappus_benches::daemon::{invoke_path, invoke_raw};
use pappus_benches::hist::{format_duration, format_errors};
use pappus_benches::http::Connection;
use pappus_benches::loadgen::{self, Bounds, Mode};
use pappus_benches::{report, suite};

#[derive(Parser)]
#[command(
    name = "pappus-bench",
    about = "Pappus load generator and benchmark suite"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the whole suite and writes the report.
    Suite {
        /// The short run (under a minute).
        #[arg(long)]
        quick: bool,
        /// The repository root [default: the current directory].
        #[arg(long)]
        repo: Option<PathBuf>,
        /// The report's base name (default: the date and the host name).
        #[arg(long)]
        name: Option<String>,
        /// The `pappus` binary [default: $PAPPUS_BIN or target/release/pappus].
        #[arg(long)]
        pappus: Option<PathBuf>,
    },
    /// The HTTP floor the suite measures the daemon against: a fixed-body
    /// responder on the daemon's stack and runtime configuration.
    #[command(hide = true)]
    Floor {
        /// Where to listen (the bound address is printed on stdout).
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// HTTP worker threads, as `pappus serve --http-threads`.
        #[arg(long, default_value_t = pappus_daemon::DEFAULT_HTTP_THREADS)]
        http_threads: usize,
    },
    /// The fetch cache's target alone: a 64 MiB object fetched by an
    /// in-process engine, then fetched again from an unchanged nginx.
    FetchCache {
        /// Rounds (each: a first invocation and 5 repeats).
        #[arg(long, default_value_t = 5)]
        rounds: usize,
    },
    /// The width of a fan-out: an `each` of a no-op guest through a fresh
    /// daemon at each size, against `all` over the same items.
    Width {
        /// Item counts to measure.
        #[arg(long, value_delimiter = ',', default_values_t = [1_000usize, 10_000, 100_000])]
        sizes: Vec<usize>,
        /// Invocations per size and composition; the best counts.
        #[arg(long, default_value_t = 3)]
        tries: usize,
        /// The repository root [default: the current directory].
        #[arg(long)]
        repo: Option<PathBuf>,
        /// The `pappus` binary [default: $PAPPUS_BIN or target/release/pappus].
        #[arg(long)]
        pappus: Option<PathBuf>,
    },
    /// One bounded run against a running daemon.
    Load {
        /// The daemon's address (loopback only).
        #[arg(long)]
        addr: SocketAddr,
        /// The composition to invoke.
        #[arg(long)]
        composition: String,
        /// The input set the raw body becomes.
        #[arg(long, default_value = "In")]
        set: String,
        /// The request body (one item of `--set`).
        #[arg(long)]
        input: PathBuf,
        /// Closed-loop clients (ignored with --rate).
        #[arg(long, default_value_t = 1)]
        clients: usize,
        /// Open loop at this many requests per second.
        #[arg(long)]
        rate: Option<f64>,
        /// Open-loop sending connections.
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// At most this many requests.
        #[arg(long, default_value_t = 100_000)]
        requests: u64,
        /// At most this many seconds.
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Suite {
            quick,
            repo,
            name,
            pappus,
        } => {
            let repo = match repo {
                Some(r) => r,
                None => std::env::current_dir().context("current directory")?,
            };
            // Absolute, since servers the suite starts (nginx) resolve
            // relative paths against their own directories.
            let repo = repo
                .canonicalize()
                .with_context(|| format!("repository root {}", repo.display()))?;
            let opts = suite::Options {
                quick,
                results: repo.join("benches/results"),
                name: name.unwrap_or_else(|| format!("{}-{}", report::today(), report::hostname())),
                pappus: pappus.unwrap_or_else(|| pappus_benches::daemon::find_binary(&repo)),
                work: repo.join("target/pappus-bench"),
                repo,
            };
            let path = suite::run(opts)?;
            println!("{}", path.display());
        }
        Command::Floor {
            listen,
            http_threads,
        } => pappus_benches::floor::serve(listen, http_threads)?,
        Command::FetchCache { rounds } => {
            let t = pappus_benches::fetch_cache::measure(rounds)?;
            println!(
                "first {:?}, repeat {:?} (median): {:.1}x; body bytes sent for {} repeats: {}",
                t.first,
                t.repeat,
                t.speedup(),
                t.repeats,
                t.repeat_body_bytes
            );
        }
        Command::Width {
            sizes,
            tries,
            repo,
            pappus,
        } => {
            let repo = match repo {
                Some(r) => r,
                None => std::env::current_dir().context("current directory")?,
            };
            let wasm_path = repo.join("examples/functions/wasm/noop.wasm");
            let wasm = std::fs::read(&wasm_path)
                .with_context(|| format!("reading {}", wasm_path.display()))?;
            let pappus = pappus.unwrap_or_else(|| pappus_benches::daemon::find_binary(&repo));
            let work = repo.join("target/pappus-bench");
            let points = pappus_benches::width::measure(&pappus, &work, &wasm, &sizes, tries)?;
            println!("items | each | per shard | all | per item (all)");
            for p in points {
                println!(
                    "{} | {} | {} | {} | {}",
                    p.items,
                    format_duration(p.each),
                    format_duration(p.per_shard()),
                    format_duration(p.all),
                    format_duration(p.per_item_all())
                );
            }
        }
        Command::Load {
            addr,
            composition,
            set,
            input,
            clients,
            rate,
            connections,
            requests,
            seconds,
        } => {
            if !addr.ip().is_loopback() {
                bail!("{addr} is not a loopback address: the load generator only targets this machine");
            }
            let body =
                std::fs::read(&input).with_context(|| format!("reading {}", input.display()))?;
            let path = invoke_path(&composition, &set);
            let mode = match rate {
                Some(rate) => Mode::Open { rate, connections },
                None => Mode::Closed { clients },
            };
            let bounds = Bounds {
                requests,
                duration: Duration::from_secs_f64(seconds),
            };
            let run = loadgen::run(mode, bounds, || {
                let mut conn = Connection::new(addr, Duration::from_secs(30));
                let (path, body) = (&path, &body);
                move || invoke_raw(&mut conn, path, body).map(drop)
            });
            let s = run.latencies.summary();
            println!(
                "{} ok in {:.2} s: {:.0} req/s; p50 {} p90 {} p99 {} p99.9 {} max {}; errors: {}",
                s.count,
                run.elapsed.as_secs_f64(),
                run.throughput(),
                format_duration(s.p50),
                format_duration(s.p90),
                format_duration(s.p99),
                format_duration(s.p999),
                format_duration(s.max),
                format_errors(&run.errors)
            );
        }
    }
    Ok(())
}
