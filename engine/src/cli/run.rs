//! `pappus run FILE`: run one composition and print its outputs as JSON.
//!
//! Function modules come from `--function NAME=PATH.wasm` and from a
//! `pappus.toml` beside FILE (flags win):
//!
//! ```toml
//! [functions]
//! upper = "../functions/wasm/upper.wasm"            # path relative to the toml
//! count = { wasm = "count.wasm", memory_mib = 32, timeout_ms = 2000, max_output_mib = 4 }
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context as _};
use pappus_engine::{json, Engine, Item, Limits, Sets};
use serde::Deserialize;

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
    /// Inputs as JSON: {"SET": [{"name": .., "key": .., "data": ..}], ...}.
    #[arg(long, value_name = "FILE")]
    inputs: Option<PathBuf>,
    /// One input: SET=@PATH (an item named after the file; a directory gives
    /// one item per file) or SET=TEXT (one item named ""), key 0 (repeatable).
    #[arg(long = "input", short = 'i', value_name = "SET=@PATH|SET=TEXT")]
    input: Vec<String>,
    /// Compute threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Print the invocation's timings on stderr.
    #[arg(long)]
    timings: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Manifest {
    #[serde(default)]
    functions: BTreeMap<String, FunctionSpec>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum FunctionSpec {
    Path(PathBuf),
    Full(FullSpec),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FullSpec {
    wasm: PathBuf,
    memory_mib: Option<u64>,
    timeout_ms: Option<u64>,
    max_output_mib: Option<u64>,
}

struct Module {
    path: PathBuf,
    limits: Limits,
}

fn manifest_modules(file: &Path) -> anyhow::Result<BTreeMap<String, Module>> {
    let dir = file.parent().unwrap_or(Path::new("."));
    let path = dir.join("pappus.toml");
    let mut modules = BTreeMap::new();
    if !path.exists() {
        return Ok(modules);
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let manifest: Manifest =
        toml::from_str(&text).with_context(|| format!("invalid {}", path.display()))?;
    for (name, spec) in manifest.functions {
        let module = match spec {
            FunctionSpec::Path(wasm) => Module {
                path: dir.join(wasm),
                limits: Limits::default(),
            },
            FunctionSpec::Full(full) => {
                let mut limits = Limits::default();
                if let Some(mib) = full.memory_mib {
                    limits.memory_bytes = mib.saturating_mul(1 << 20);
                }
                if let Some(ms) = full.timeout_ms {
                    limits.timeout = Duration::from_millis(ms);
                }
                if let Some(mib) = full.max_output_mib {
                    limits.max_output_bytes = mib.saturating_mul(1 << 20);
                }
                Module {
                    path: dir.join(full.wasm),
                    limits,
                }
            }
        };
        modules.insert(name, module);
    }
    Ok(modules)
}

/// Items for `--input SET=@PATH` or `SET=TEXT`.
fn parse_input(spec: &str) -> anyhow::Result<(String, Vec<Item>)> {
    let Some((set, value)) = spec.split_once('=') else {
        bail!("--input `{spec}` is not SET=@PATH or SET=TEXT");
    };
    let Some(path) = value.strip_prefix('@') else {
        return Ok((set.to_string(), vec![Item::new("", 0, value.to_string())]));
    };
    let path = Path::new(path);
    let item_for = |p: &Path| -> anyhow::Result<Item> {
        let data = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Item::new(name, 0, data))
    };
    let mut items = Vec::new();
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("cannot list {}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for file in files {
            items.push(item_for(&file)?);
        }
    } else {
        items.push(item_for(path)?);
    }
    Ok((set.to_string(), items))
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

    let mut builder = Engine::builder();
    if let Some(threads) = args.threads {
        builder = builder.compute_threads(threads);
    }
    let engine = builder.build().context("cannot start the engine")?;

    // Modules: pappus.toml first, then --function flags override.
    let mut modules = manifest_modules(&args.file)?;
    for spec in &args.functions {
        let Some((name, path)) = spec.split_once('=') else {
            bail!("--function `{spec}` is not NAME=PATH.wasm");
        };
        let limits = modules.get(name).map_or_else(Limits::default, |m| m.limits);
        modules.insert(
            name.to_string(),
            Module {
                path: PathBuf::from(path),
                limits,
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
            format!(
                "cannot read module {} for function `{name}`",
                module.path.display()
            )
        })?;
        engine
            .register_function(name, &wasm, module.limits)
            .with_context(|| format!("cannot register function `{name}`"))?;
    }
    engine
        .register_compositions(&source)
        .with_context(|| format!("cannot register the compositions of {file_name}"))?;

    // Inputs: --inputs JSON, then each --input adds items.
    let mut inputs = match &args.inputs {
        Some(path) => {
            let text =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            json::parse_sets(&text)
                .with_context(|| format!("invalid inputs in {}", path.display()))?
        }
        None => Sets::new(),
    };
    for spec in &args.input {
        let (set, items) = parse_input(spec)?;
        inputs.entry(set).or_default().extend(items);
    }

    let answer = engine
        .invoke(&composition, inputs)
        .with_context(|| format!("composition `{composition}` failed"))?;
    print!("{}", json::render_sets(&answer.outputs));
    if args.timings {
        let t = answer.timings;
        eprintln!(
            "timings: queued {:?}, fetching {:?}, sandbox {:?}, compute {:?}, storing {:?}, total {:?}",
            t.queued, t.fetching, t.sandbox, t.compute, t.storing, t.total
        );
    }
    Ok(ExitCode::SUCCESS)
}
