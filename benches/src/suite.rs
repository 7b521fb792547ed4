//! The whole comparison: cold starts against every baseline, the daemon under
//! closed- and open-loop load, every workload, and memory; written to a markdown
//! report with SVG plots.
//!
//! Measuring and writing are apart: `cold_start`, `microvm`, `daemon` and
//! `memory` run things and return plain data; `render` turns that data into
//! the report's prose, tables, verdicts and plots.

mod budget;
mod cold_start;
mod daemon;
mod floor;
mod memory;
mod microvm;
mod render;
mod render_logs;
mod static_sets;
mod workload;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use pappus_engine::{Engine, Limits, DEFAULT_TENANT};

use crate::baselines::native;
use crate::daemon::Daemon;
use budget::Budget;
use workload::{COMPOSITIONS, FUNCTIONS};

/// What to run and where to write.
#[derive(Clone, Debug)]
pub struct Options {
    /// The short run (under a minute) instead of the full one (about ten).
    pub quick: bool,
    /// The repository root.
    pub repo: PathBuf,
    /// Where the report goes (`benches/results`).
    pub results: PathBuf,
    /// The report's base name (`<date>-<host>` by default).
    pub name: String,
    /// The `pappus` binary.
    pub pappus: PathBuf,
    /// Scratch space (bundles, initramfs images, data directories).
    pub work: PathBuf,
}

/// What the measuring parts share: the options and how long each part runs.
struct Suite {
    opts: Options,
    budget: Budget,
}

/// Runs the suite and answers the report's path.
pub fn run(opts: Options) -> Result<PathBuf> {
    let plots = render::Plots {
        dir: opts.results.join(&opts.name),
        rel: opts.name.clone(),
    };
    std::fs::create_dir_all(&plots.dir)
        .with_context(|| format!("creating {}", plots.dir.display()))?;
    std::fs::create_dir_all(&opts.work)
        .with_context(|| format!("creating {}", opts.work.display()))?;
    let mut suite = Suite {
        budget: Budget::new(opts.quick),
        opts,
    };
    suite.all(&plots)
}

impl Suite {
    fn progress(&self, what: &str) {
        eprintln!("pappus-bench: {what}");
    }

    fn wasm(&self, name: &str) -> Result<Vec<u8>> {
        let path = self
            .opts
            .repo
            .join(format!("examples/functions/wasm/{name}.wasm"));
        std::fs::read(&path).with_context(|| {
            format!(
                "reading {} (run examples/functions/build.sh)",
                path.display()
            )
        })
    }

    fn compositions(&self) -> Result<Vec<String>> {
        COMPOSITIONS
            .iter()
            .map(|p| {
                let path = self.opts.repo.join(p);
                std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))
            })
            .collect()
    }

    fn fresh_dir(&self, name: &str) -> Result<PathBuf> {
        let dir = self.opts.work.join(name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
        }
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(dir)
    }

    /// Measures everything, then writes the report.
    fn all(&mut self, plots: &render::Plots) -> Result<PathBuf> {
        let started = Instant::now();
        let load_start = render::load_average();
        let workloads = workload::all();
        let native = native::build(&self.opts.repo, &self.opts.work.join("native"))?;

        // In-process engine with every function and composition registered.
        let engine = Engine::builder()
            .tenant_authority(DEFAULT_TENANT, render_logs::loopback_authority()?)
            .build()
            .context("building the in-process engine")?;
        for f in FUNCTIONS {
            engine.register_function(f, &self.wasm(f)?, Limits::default())?;
        }
        for source in self.compositions()? {
            engine.register_compositions(&source)?;
        }

        let daemon_dir = self.fresh_dir("daemon-data")?;
        let policy = self.opts.work.join("io-policy.toml");
        std::fs::write(&policy, render_logs::LOOPBACK_POLICY)
            .with_context(|| format!("writing {}", policy.display()))?;
        let policy_arg = policy.display().to_string();
        let daemon = Daemon::start(
            &self.opts.pappus,
            &daemon_dir,
            &self.opts.work.join("daemon.log"),
            &["--io-policy".to_owned(), policy_arg],
        )?;
        for f in FUNCTIONS {
            daemon.put_function(f, &self.wasm(f)?)?;
        }
        for source in self.compositions()? {
            daemon.put_compositions(&source)?;
        }

        // The request path first and side by side with its floor: the
        // container baselines of the cold starts leave the machine busy for a
        // while after they exit.
        let floors = self.floors(&workloads[0]);
        let throughput = self.throughput(&workloads[0], &daemon)?;
        let cold_starts = self.cold_starts(&workloads, &engine, &daemon, &native)?;
        // nginx serving render-logs' auth answers and log shards, up only while
        // the workloads run.
        let render_logs = self.render_logs(&engine, &daemon);
        let through_daemon = self.workloads(&workloads, &render_logs, &engine, &daemon)?;
        drop(render_logs);
        daemon.stop()?;
        drop(engine);
        let memory = self.memory(&workloads)?;
        let static_sets = self.static_sets().map_err(|e| format!("{e:#}"));
        self.progress("fan-out width: each of a no-op, 1,000 to 100,000 items");
        let width = self
            .wasm("noop")
            .and_then(|noop| {
                crate::width::measure(
                    &self.opts.pappus,
                    &self.opts.work,
                    &noop,
                    &self.budget.widths,
                    self.budget.width_tries,
                )
            })
            .map_err(|e| format!("{e:#}"));
        // Last, with nothing else of the suite running: CPU-bound and short.
        self.progress("compute: sandboxed kernels against native code");
        let compute = crate::compute::measure(&|f| self.wasm(f)).map_err(|e| format!("{e:#}"));
        self.progress("fetch cache: a 64 MiB object fetched again from an unchanged nginx");
        let rounds = if self.opts.quick { 2 } else { 5 };
        let fetch_cache = crate::fetch_cache::measure(rounds).map_err(|e| format!("{e:#}"));

        let measured = render::Measured {
            cold_starts,
            throughput,
            floors,
            workloads: through_daemon,
            memory,
            compute,
            fetch_cache,
            static_sets,
            width,
        };
        let run = render::Run {
            quick: self.opts.quick,
            seconds: started.elapsed().as_secs_f64(),
            load_start,
            repo: self.opts.repo.clone(),
        };
        let text = render::report(&run, &measured, plots)?;
        let path = self.opts.results.join(format!("{}.md", self.opts.name));
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }
}
