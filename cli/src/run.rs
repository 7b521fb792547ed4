//! `pappus run FILE`: run one composition and print its outputs as JSON.
//!
//! Function modules come from `--function NAME=PATH.wasm` and from a
//! `pappus.toml` beside FILE (flags win). The same file may configure the I/O
//! runtime in an `[io]` table, with the keys of the `--io-*`, `--s3-*` and
//! `--redis-url` flags (flags and `PAPPUS_*` environment variables win):
//!
//! ```toml
//! [functions]
//! upper = "../functions/wasm/upper.wasm"            # path relative to the toml
//! count = { wasm = "count.wasm", memory_mib = 32, timeout_ms = 2000, max_output_mib = 4 }
//! wordfreq = { wasm = "wordfreq.wasm", args = ["--top", "10"], env = { LANG = "C" } }
//!
//! [io]
//! io_timeout_ms = 5000
//! s3_endpoint = "http://127.0.0.1:3900"
//! s3_region = "garage"
//! redis_url = "redis://127.0.0.1:6379/0"
//! ```
//!
//! `args` and `env` are a WASI function's arguments after `argv[0]` (the
//! function's name) and its whole environment: nothing of this process's own
//! environment reaches a function.
//!
//! With `--out-dir DIR`, every output item's data is also written to
//! `DIR/<SET>/<NAME>` (see [`write_outputs`]). `--seed N --time SECONDS` replays
//! the seed and time WASI functions see, as printed by `--timings` and on a
//! failure.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context as _};
use pappus_daemon::IoSettings;
use pappus_engine::{json, Engine, Item, Limits, Sets, WasiContext, WasiSettings};
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
    /// Print the invocation's timings, seed and time on stderr.
    #[arg(long)]
    timings: bool,
    /// Seed of the random stream WASI functions see (default: fresh); with the
    /// value `--timings` printed, replays a run.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// The time WASI functions see, in whole seconds since the Unix epoch
    /// (default: now); C's `time(NULL)` returns exactly this.
    #[arg(long, value_name = "SECONDS")]
    time: Option<u64>,
    /// Also write each output item's data to `DIR/<SET>/<NAME>` (an item whose
    /// name is not a usable file name is written as `<KEY>`, or `<KEY>-<N>`).
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// I/O runtime settings (over the `[io]` table of pappus.toml).
    #[command(flatten)]
    io: IoSettings,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Manifest {
    #[serde(default)]
    functions: BTreeMap<String, FunctionSpec>,
    #[serde(default)]
    io: IoSettings,
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
    /// A WASI function's arguments after `argv[0]`.
    #[serde(default)]
    args: Vec<String>,
    /// A WASI function's environment.
    #[serde(default)]
    env: BTreeMap<String, String>,
}

struct Module {
    path: PathBuf,
    limits: Limits,
    settings: WasiSettings,
}

/// The WASI settings of function `name` from its `args` (after `argv[0]`, which
/// is the function's name) and `env`.
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
    let path = dir.join("pappus.toml");
    let mut modules = BTreeMap::new();
    if !path.exists() {
        return Ok((modules, IoSettings::default()));
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
                settings: WasiSettings::default(),
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
                    settings: wasi_settings(&name, full.args, full.env),
                }
            }
        };
        modules.insert(name, module);
    }
    Ok((modules, manifest.io))
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

    // Modules and I/O settings: pappus.toml first, then flags override.
    let (mut modules, manifest_io) = load_manifest(&args.file)?;
    let io_config = args.io.or(manifest_io).ring_config()?;

    let mut builder = Engine::builder().io_config(io_config);
    if let Some(threads) = args.threads {
        builder = builder.compute_threads(threads);
    }
    let engine = builder.build().context("cannot start the engine")?;

    for spec in &args.functions {
        let Some((name, path)) = spec.split_once('=') else {
            bail!("--function `{spec}` is not NAME=PATH.wasm");
        };
        let (limits, settings) = modules.get(name).map_or_else(
            || (Limits::default(), WasiSettings::default()),
            |m| (m.limits, m.settings.clone()),
        );
        modules.insert(
            name.to_string(),
            Module {
                path: PathBuf::from(path),
                limits,
                settings,
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
            .register_function_with(name, &wasm, module.limits, module.settings.clone())
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
    print!("{}", json::render_sets(&answer.outputs));
    if let Some(dir) = &args.out_dir {
        let written = write_outputs(dir, &answer.outputs)?;
        eprintln!(
            "wrote {written} file{} under {}",
            if written == 1 { "" } else { "s" },
            dir.display()
        );
    }
    if args.timings {
        let t = answer.timings;
        eprintln!(
            "timings: queued {:?}, fetching {:?}, sandbox {:?}, compute {:?}, storing {:?}, total {:?}",
            t.queued, t.fetching, t.sandbox, t.compute, t.storing, t.total
        );
        eprintln!("{}", replay_line(answer.wasi));
    }
    Ok(ExitCode::SUCCESS)
}

/// The seed and time of an invocation, and the flags that replay it.
fn replay_line(wasi: WasiContext) -> String {
    format!(
        "seed {seed}, time {time} (replay: --seed {seed} --time {time})",
        seed = wasi.seed,
        time = wasi.time_secs
    )
}

/// Longest item name used as a file name as is: file systems take 255 bytes,
/// and a `-<N>` suffix must still fit.
const MAX_FILE_NAME_BYTES: usize = 200;

/// Whether an item name can be used as a file name inside its set's directory:
/// one path component that is neither `.` nor `..`, without NUL and not too long.
fn usable_file_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\0'])
        && name.len() <= MAX_FILE_NAME_BYTES
}

/// The file name of `item` in its set's directory, unique among `used` (which
/// it joins): the item's name if usable, else its key; `-1`, `-2`, ... appended
/// on a collision. Item names come from guest functions, so nothing here may
/// trust them beyond [`usable_file_name`].
fn file_name_for(item: &Item, used: &mut HashSet<String>) -> String {
    let base = if usable_file_name(&item.name) {
        item.name.clone()
    } else {
        item.key.to_string()
    };
    if used.insert(base.clone()) {
        return base;
    }
    let mut n: u64 = 1;
    loop {
        let candidate = format!("{base}-{n}");
        if used.insert(candidate.clone()) {
            return candidate;
        }
        n += 1;
    }
}

/// Writes every output item's data to `dir/<SET>/<file name>` (see
/// [`file_name_for`]), creating the directories, an empty one for an empty set.
/// Existing files of the same names are replaced; other files are left alone.
/// Returns the number of files written.
fn write_outputs(dir: &Path, outputs: &Sets) -> anyhow::Result<usize> {
    let mut written = 0;
    for (set, items) in outputs {
        // Set names are identifiers of the composition, but check anyway.
        if !usable_file_name(set) {
            bail!("output set {set:?} cannot be a directory name under --out-dir");
        }
        let set_dir = dir.join(set);
        std::fs::create_dir_all(&set_dir)
            .with_context(|| format!("cannot create {}", set_dir.display()))?;
        let mut used = HashSet::new();
        for item in items {
            let path = set_dir.join(file_name_for(item, &mut used));
            std::fs::write(&path, &item.data)
                .with_context(|| format!("cannot write {}", path.display()))?;
            written += 1;
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(items: &[Item]) -> Vec<String> {
        let mut used = HashSet::new();
        items.iter().map(|i| file_name_for(i, &mut used)).collect()
    }

    #[test]
    fn unusable_names_become_keys_and_collisions_get_suffixes() {
        let long = "x".repeat(MAX_FILE_NAME_BYTES + 1);
        let items = [
            Item::new("a", 1, ""),
            Item::new("a", 2, ""),
            Item::new("", 7, ""),
            Item::new(".", 7, ""),
            Item::new("..", 7, ""),
            Item::new("../etc/passwd", 8, ""),
            Item::new("nul\0byte", 9, ""),
            Item::new("7", 0, ""),
            Item::new(long, 10, ""),
            Item::new("é/", 11, ""),
        ];
        assert_eq!(
            names(&items),
            ["a", "a-1", "7", "7-1", "7-2", "8", "9", "7-3", "10", "11"]
        );
        // A name that looks like a suffixed one is taken as is if free.
        let items = [
            Item::new("a-1", 0, ""),
            Item::new("a", 0, ""),
            Item::new("a", 0, ""),
        ];
        assert_eq!(names(&items), ["a-1", "a", "a-2"]);
    }

    #[test]
    fn writes_every_item_and_empty_sets() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut outputs = Sets::new();
        outputs.insert(
            "Out".into(),
            vec![
                Item::new("x", 0, "one"),
                Item::new("", 3, "two"),
                Item::new("x", 1, "three"),
            ],
        );
        outputs.insert("Empty".into(), Vec::new());
        assert_eq!(write_outputs(dir.path(), &outputs).ok(), Some(3));
        let read = |p: &str| std::fs::read_to_string(dir.path().join(p)).ok();
        assert_eq!(read("Out/x").as_deref(), Some("one"));
        assert_eq!(read("Out/3").as_deref(), Some("two"));
        assert_eq!(read("Out/x-1").as_deref(), Some("three"));
        assert!(dir.path().join("Empty").is_dir());
        let mut bad = Sets::new();
        bad.insert("..".into(), vec![Item::new("x", 0, "")]);
        assert!(write_outputs(dir.path(), &bad).is_err());
    }
}
