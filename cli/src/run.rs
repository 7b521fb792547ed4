//! `pappus run FILE`: run one composition and print its outputs as JSON.
//!
//! Function modules come from `--function NAME=PATH.wasm` and from a
//! `pappus.toml` beside FILE (flags win; format in [`crate::manifest`] and
//! `docs/project.md`). The same file may configure the I/O runtime in an
//! `[io]` table, with the keys of the `--io-*`, `--s3-*` and `--redis-url`
//! flags (flags and `PAPPUS_*` environment variables win).
//!
//! Inputs and outputs are [`crate::sets`]'s, shared with `pappus invoke`.
//!
//! Compiled code is cached in the user's cache directory ([`code_cache_dir`]),
//! as the daemon caches it in its data directory: a module is compiled on its
//! first run only, and cache files are authenticated with a key kept there.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use pappus_engine::IoSettings;
use pappus_engine::{EngineConfig, Limits, WasiContext, WasiSettings};

use crate::manifest::Manifest;
use crate::sets::{InputArgs, OutputArgs};

/// Arguments of `pappus run`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The composition file.
    file: PathBuf,
    /// The composition to run (default: the only one in FILE).
    #[arg(long, short = 'c')]
    composition: Option<String>,
    /// A function module: NAME=PATH.wasm (repeatable).
    #[arg(long = "function", short = 'f', value_name = "NAME=PATH")]
    functions: Vec<String>,
    #[command(flatten)]
    inputs: InputArgs,
    /// Compute threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Print the invocation's timings on stderr.
    #[arg(long)]
    timings: bool,
    /// Compile every module instead of using (and filling) the compiled-code
    /// cache in $XDG_CACHE_HOME/pappus/code (default ~/.cache/pappus/code).
    #[arg(long)]
    no_code_cache: bool,
    /// Seed of the random stream WASI functions see (default: fresh); with the
    /// value `--timings` printed, replays a run.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// The time WASI functions see, in whole seconds since the Unix epoch
    /// (default: now); C's `time(NULL)` returns exactly this.
    #[arg(long, value_name = "SECONDS")]
    time: Option<u64>,
    #[command(flatten)]
    outputs: OutputArgs,
    /// I/O runtime settings (over the `[io]` table of pappus.toml).
    #[command(flatten)]
    io: IoSettings,
}

struct Module {
    path: PathBuf,
    limits: Limits,
    settings: WasiSettings,
    /// Static sets from `pappus.toml`: the file or folder of each.
    static_sets: BTreeMap<String, PathBuf>,
}

/// A WASI function's registration settings from `pappus.toml`: `args` are
/// argv\[1..\] (argv\[0\] is the function's name), `env` its whole
/// environment. Nothing of this process's own environment reaches a function.
fn wasi_settings(name: &str, args: Vec<String>, env: BTreeMap<String, String>) -> WasiSettings {
    let args = if args.is_empty() {
        Vec::new()
    } else {
        std::iter::once(name.to_owned()).chain(args).collect()
    };
    WasiSettings {
        args,
        env: env.into_iter().collect(),
        ..WasiSettings::default()
    }
}

/// The function modules and I/O settings of the `pappus.toml` beside `file`
/// (none if there is no such file).
fn load_manifest(file: &Path) -> anyhow::Result<(BTreeMap<String, Module>, IoSettings)> {
    let dir = file.parent().unwrap_or(Path::new("."));
    let Some(manifest) = Manifest::load_if_present(dir)? else {
        return Ok((BTreeMap::new(), IoSettings::default()));
    };
    let mut modules = BTreeMap::new();
    for (name, function) in manifest.functions {
        let limits = function.limits();
        let settings = wasi_settings(&name, function.args, function.env);
        modules.insert(
            name,
            Module {
                path: function.wasm,
                limits,
                settings,
                static_sets: function.static_sets,
            },
        );
    }
    Ok((modules, manifest.io))
}

pub(crate) fn main(args: Args) -> anyhow::Result<ExitCode> {
    let file_name = args.file.display().to_string();
    let source =
        std::fs::read_to_string(&args.file).with_context(|| format!("cannot read {file_name}"))?;

    // Check here first, to render diagnostics with the file's real name.
    let file = match pappus_dsl::parse(&source) {
        Ok(file) => file,
        Err(diagnostics) => {
            for d in &diagnostics {
                eprintln!("{}", d.render(&file_name, &source));
            }
            bail!("{file_name} has errors");
        }
    };
    let checked = pappus_dsl::check(&file, &pappus_dsl::Env::new());
    for d in &checked.diagnostics {
        eprintln!("{}", d.render(&file_name, &source));
    }
    if checked.has_errors() {
        bail!("{file_name} has errors");
    }
    let composition = match (&args.composition, checked.plans.as_slice()) {
        (Some(name), plans) => {
            if !plans.iter().any(|p| &p.name == name) {
                bail!("{file_name} defines no composition `{name}`");
            }
            name.clone()
        }
        (None, [only]) => only.name.clone(),
        (None, []) => bail!("{file_name} defines no composition"),
        (None, plans) => bail!(
            "{file_name} defines several compositions ({}): choose one with --composition",
            plans
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };

    // Modules and I/O settings: pappus.toml first, then flags override.
    let (mut modules, manifest_io) = load_manifest(&args.file)?;
    let config = EngineConfig {
        compute_threads: args.threads,
        io: args.io.or(manifest_io),
        ..EngineConfig::default()
    };
    let (engine, cache) = match code_cache_dir().filter(|_| !args.no_code_cache) {
        Some(dir) => match config.builder()?.code_cache_dir(&dir).build() {
            Ok(engine) => (engine, Some(dir)),
            Err(e) => {
                // A cache that cannot be used costs time, not the run.
                eprintln!(
                    "warning: not caching compiled code in {}: {e}",
                    dir.display()
                );
                let engine = config
                    .builder()?
                    .build()
                    .context("cannot start the engine")?;
                (engine, None)
            }
        },
        None => (
            config
                .builder()?
                .build()
                .context("cannot start the engine")?,
            None,
        ),
    };

    for spec in &args.functions {
        let Some((name, path)) = spec.split_once('=') else {
            bail!("--function `{spec}` is not NAME=PATH.wasm");
        };
        let (limits, settings, static_sets) = modules.get(name).map_or_else(
            || (Limits::default(), WasiSettings::default(), BTreeMap::new()),
            |m| (m.limits, m.settings.clone(), m.static_sets.clone()),
        );
        modules.insert(
            name.to_string(),
            Module {
                path: PathBuf::from(path),
                limits,
                settings,
                static_sets,
            },
        );
    }
    for (name, _) in &checked.functions {
        let Some(module) = modules.get(name) else {
            bail!(
                "function `{name}` has no module: pass --function {name}=PATH.wasm or map it in pappus.toml beside {file_name}"
            );
        };
        let wasm = std::fs::read(&module.path).with_context(|| {
            let hint = if module.path.exists() {
                ""
            } else {
                " (not built yet? run `pappus build` in the project folder)"
            };
            format!(
                "cannot read module {} for function `{name}`{hint}",
                module.path.display()
            )
        })?;
        let statics = crate::statics::load(name, &module.static_sets)?;
        engine
            .register_function_static(name, &wasm, module.limits, module.settings.clone(), statics)
            .with_context(|| format!("cannot register function `{name}`"))?;
    }
    let registration = engine
        .register_compositions_with_warnings(&source)
        .with_context(|| format!("cannot register the compositions of {file_name}"))?;
    for warning in &registration.warnings {
        eprintln!("warning: {warning}");
    }

    let inputs = args.inputs.sets()?;

    let fresh = WasiContext::fresh();
    let wasi = WasiContext::new(
        args.seed.unwrap_or(fresh.seed),
        args.time.unwrap_or(fresh.time_secs),
    );
    let answer = match engine.invoke_with(&composition, inputs, wasi) {
        Ok(answer) => answer,
        Err(e) => {
            if let Some(wasi) = e.wasi() {
                eprintln!("{}", replay_line(wasi));
            }
            return Err(e).with_context(|| format!("composition `{composition}` failed"));
        }
    };
    args.outputs.emit(&answer.outputs)?;
    let cached = engine.code_cache_stats();
    if cached.rejected > 0 {
        eprintln!(
            "warning: {} compiled-code cache file(s) refused (not authenticated by the cache key, damaged, or made by another build) and recompiled",
            cached.rejected
        );
    }
    if args.timings {
        let t = answer.timings;
        eprintln!(
            "timings: queued {:?}, fetching {:?}, sandbox {:?}, compute {:?}, storing {:?}, total {:?}",
            t.queued, t.fetching, t.sandbox, t.compute, t.storing, t.total
        );
        eprintln!(
            "  (sandbox, fetching and storing are summed over the {} shard(s) and the I/O calls, so with shards in parallel they may exceed compute; compute and total are wall-clock)",
            engine.metrics().sandboxes_created
        );
        eprintln!(
            "code cache: {} module(s) loaded, {} compiled, {} refused ({})",
            cached.hits,
            cached.compiled,
            cached.rejected,
            cache
                .as_deref()
                .map_or_else(|| "off".into(), |d| d.display().to_string())
        );
        eprintln!("{}", replay_line(answer.wasi));
    }
    Ok(ExitCode::SUCCESS)
}

/// Where `pappus run` caches compiled code: `$XDG_CACHE_HOME/pappus/code`, or
/// `~/.cache/pappus/code` (the XDG default); `None` without either variable.
/// A relative `XDG_CACHE_HOME` is ignored, as the XDG specification says.
fn code_cache_dir() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let base = xdg.or_else(|| {
        std::env::var_os("HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .map(|home| home.join(".cache"))
    })?;
    Some(base.join("pappus").join("code"))
}

/// The seed and time of an invocation, and the flags that replay it.
fn replay_line(wasi: WasiContext) -> String {
    format!(
        "seed {seed}, time {time} (replay: --seed {seed} --time {time})",
        seed = wasi.seed,
        time = wasi.time_secs
    )
}
