//! The whole comparison: cold starts against every baseline, the daemon under
//! closed- and open-loop load, every workload, and memory; written to a markdown
//! report with SVG plots.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use pappus_engine::{Bytes, Engine, Item, Limits, Sets};
use pappus_testkit::Server;

use crate::baselines::microvm::{self, Accel, KvmStatus};
use crate::baselines::oci::{Bundle, Runtime};
use crate::baselines::wasmtime_floor::Floor;
use crate::baselines::{native, process};
use crate::daemon::{invoke_path, Daemon};
use crate::hist::{format_bytes, format_duration, format_errors, Latencies};
use crate::http::{error_kind, Connection};
use crate::loadgen::{self, Bounds, Mode, RunResult, Sampler};
use crate::report::Report;
use crate::{kernels, plot, procfs, report, workloads};

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

/// How long each part runs.
struct Budget {
    fast: Bounds,
    exec: Bounds,
    runc: u64,
    runsc: u64,
    kvm_boots: u64,
    tcg_boots: u64,
    kvm_probe: Option<Duration>,
    daemon: Duration,
    clients: Vec<usize>,
    sweep: Vec<f64>,
    sweep_time: Duration,
    idle_functions: usize,
    load_clients: usize,
}

impl Budget {
    fn new(quick: bool) -> Budget {
        if quick {
            Budget {
                fast: bounds(500, 300),
                exec: bounds(60, 400),
                runc: 4,
                runsc: 3,
                kvm_boots: 2,
                tcg_boots: 0,
                kvm_probe: None,
                daemon: Duration::from_millis(700),
                clients: vec![1, 4],
                sweep: vec![0.5, 0.9, 1.2],
                sweep_time: Duration::from_millis(800),
                idle_functions: 100,
                load_clients: 4,
            }
        } else {
            Budget {
                fast: bounds(20_000, 2_000),
                exec: bounds(500, 3_000),
                runc: 40,
                runsc: 20,
                kvm_boots: 10,
                tcg_boots: 3,
                kvm_probe: Some(Duration::from_secs(15)),
                daemon: Duration::from_secs(4),
                clients: vec![1, 2, 4, 8, 16],
                sweep: vec![0.25, 0.5, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5],
                sweep_time: Duration::from_secs(4),
                idle_functions: 1000,
                load_clients: 8,
            }
        }
    }
}

fn bounds(requests: u64, millis: u64) -> Bounds {
    Bounds {
        requests,
        duration: Duration::from_millis(millis),
    }
}

/// One request's input and expected output.
struct Workload {
    id: String,
    title: String,
    function: &'static str,
    composition: String,
    /// The input set whose one item is the request's body, and the output set
    /// whose one item is the answer.
    input_set: &'static str,
    output_set: &'static str,
    input: Bytes,
    expected: Vec<u8>,
    /// When not empty, a correct answer contains every one of these instead of
    /// being `expected` byte for byte.
    contains: &'static [&'static str],
    /// Run the native, container and wasmtime baselines too.
    baselines: bool,
    /// Run the container baselines (slow) too.
    containers: bool,
}

fn workloads() -> Vec<Workload> {
    let mut all = Vec::new();
    for n in [3u64, 128] {
        let input = workloads::matrix(n);
        all.push(Workload {
            id: format!("matmul{n}"),
            title: format!("matmul {n}x{n}"),
            function: "matmul",
            composition: "MatMul".into(),
            input_set: "In",
            output_set: "Out",
            contains: &[],
            expected: kernels::matmul(&input).unwrap_or_default(),
            input: input.into(),
            baselines: true,
            containers: true,
        });
    }
    for (kib, label) in [(64usize, "64 KiB"), (256, "256 KiB"), (1024, "1 MiB")] {
        let input = workloads::log_text(kib * 1024);
        all.push(Workload {
            id: format!("compress{kib}k"),
            title: format!("compress {label}"),
            function: "compress",
            composition: "Compress".into(),
            input_set: "In",
            output_set: "Out",
            contains: &[],
            expected: kernels::compress(&input),
            input: input.into(),
            baselines: true,
            containers: kib == 1024,
        });
    }
    for n in [1usize, 2, 4, 8, 16] {
        let input = workloads::log_text(4096);
        all.push(Workload {
            id: format!("chain{n}"),
            title: format!("chain of {n} (4 KiB)"),
            function: "upper",
            composition: format!("Chain{n}"),
            input_set: "In",
            output_set: "Out",
            contains: &[],
            expected: input.to_ascii_uppercase(),
            input: input.into(),
            baselines: false,
            containers: false,
        });
    }
    all
}

/// What the render-logs page for `alice-7f3a` must say: the heading and the
/// summary of the three shards `www/auth/alice-7f3a` grants.
const RENDER_LOGS_PAGE: [&str; 2] = [
    "<h1>Logs for alice</h1>",
    "<p>3 shards, 14 lines, 2 errors, 3 warnings.</p>",
];

/// The render-logs composition (`examples/render-logs/`) against the auth
/// service and log shards served at `server`.
fn render_logs_workload(server: &str) -> Workload {
    Workload {
        id: "render-logs".into(),
        title: RENDER_LOGS_TITLE.into(),
        function: "render",
        composition: "RenderLogs".into(),
        input_set: "Request",
        output_set: "Page",
        input: format!("server: {server}\ntoken: alice-7f3a\n")
            .into_bytes()
            .into(),
        expected: Vec::new(),
        contains: &RENDER_LOGS_PAGE,
        baselines: false,
        containers: false,
    }
}

/// The example the render-logs workload runs, its functions and the directory
/// nginx serves.
const RENDER_LOGS_DIR: &str = "examples/render-logs";
const RENDER_LOGS_FUNCTIONS: [&str; 3] = ["access", "fan_out", "render"];

/// The render-logs row's label when it has no numbers.
const RENDER_LOGS_TITLE: &str = "render-logs (auth + 3 shards from nginx)";

/// The render-logs workload with the nginx serving it, or why it cannot run.
type RenderLogs = Result<(Server, Workload), String>;

/// The compositions the workloads use, from `examples/`.
const COMPOSITIONS: [&str; 3] = [
    "examples/matmul-bench/matmul.pap",
    "examples/compress/compress.pap",
    "examples/chain/chain.pap",
];
const FUNCTIONS: [&str; 4] = ["matmul", "compress", "upper", "noop"];

/// One mode's outcome: numbers, or why there are none.
struct Outcome {
    mode: String,
    run: Option<RunResult>,
    note: String,
}

impl Outcome {
    fn skipped(mode: &str, note: impl Into<String>) -> Outcome {
        Outcome {
            mode: mode.to_string(),
            run: None,
            note: note.into(),
        }
    }
}

/// Runs `make()`'s caller once as a probe (answering its error message), then
/// sequentially within `bounds`.
fn sequential<F, C>(mode: &str, bounds: Bounds, warmup: u64, make: F) -> Outcome
where
    F: Fn() -> C + Sync,
    C: FnMut() -> Result<(), String>,
{
    let mut probe = make();
    for _ in 0..warmup.max(1) {
        if let Err(e) = probe() {
            return Outcome::skipped(mode, format!("failed: {e}"));
        }
    }
    drop(probe);
    let run = loadgen::run(Mode::Closed { clients: 1 }, bounds, make);
    Outcome {
        mode: mode.to_string(),
        run: Some(run),
        note: String::new(),
    }
}

fn check(out: &[u8], expected: &[u8]) -> Result<(), String> {
    if out == expected {
        Ok(())
    } else {
        Err("wrong_output".to_string())
    }
}

impl Workload {
    /// Whether `out` is a correct answer (`wrong_output` if not).
    fn check(&self, out: &[u8]) -> Result<(), String> {
        if self.contains.is_empty() {
            return check(out, &self.expected);
        }
        let text = String::from_utf8_lossy(out);
        if self.contains.iter().all(|s| text.contains(s)) {
            Ok(())
        } else {
            Err("wrong_output".to_string())
        }
    }
}

/// A caller for the daemon's raw invoke endpoint, checking every answer.
fn daemon_caller<'a>(
    addr: std::net::SocketAddr,
    w: &'a Workload,
) -> impl FnMut() -> Result<(), String> + 'a {
    let mut conn = Connection::new(addr, Duration::from_secs(30));
    let path = invoke_path(&w.composition, w.input_set);
    move || {
        let r = conn
            .request("POST", &path, Some("application/octet-stream"), &w.input)
            .map_err(|e| e.kind().to_string())?;
        if r.status != 200 {
            let kind = error_kind(&r.body).unwrap_or_default();
            return Err(format!("http_{} {kind}", r.status).trim().to_string());
        }
        w.check(&r.body)
    }
}

fn inproc_caller<'a>(
    engine: &'a Engine,
    w: &'a Workload,
) -> impl FnMut() -> Result<(), String> + 'a {
    move || {
        let mut sets = Sets::new();
        sets.insert(w.input_set.into(), vec![Item::new("x", 0, w.input.clone())]);
        let answer = engine
            .invoke(&w.composition, sets)
            .map_err(|e| format!("{} ({e})", e.kind()))?;
        match answer
            .outputs
            .get(w.output_set)
            .and_then(|items| items.first())
        {
            Some(item) => w.check(&item.data),
            None => Err("no_output".to_string()),
        }
    }
}

fn ratio(a: Duration, b: Duration) -> String {
    if b.is_zero() || a.is_zero() {
        return "-".into();
    }
    let r = a.as_secs_f64() / b.as_secs_f64();
    if r >= 100.0 {
        format!("{r:.0}x")
    } else {
        format!("{r:.2}x")
    }
}

fn latency_row(label: &str, run: &RunResult, reference: Option<Duration>) -> Vec<String> {
    let s = run.latencies.summary();
    vec![
        label.to_string(),
        s.count.to_string(),
        format_duration(s.p50),
        format_duration(s.p90),
        format_duration(s.p99),
        format_duration(s.p999),
        format_duration(s.mean),
        reference
            .map(|r| ratio(s.p50, r))
            .unwrap_or_else(|| "-".into()),
        format_errors(&run.errors),
    ]
}

const LATENCY_HEADERS: [&str; 9] = [
    "mode",
    "n",
    "p50",
    "p90",
    "p99",
    "p99.9",
    "mean",
    "p50 vs Pappus in-process",
    "errors",
];

/// Everything the summary at the top of the report needs.
#[derive(Default)]
struct Headline {
    wasmtime_p50: Option<Duration>,
    inproc_p50: Option<Duration>,
    runsc_p50: Option<Duration>,
    runc_p50: Option<Duration>,
    exec_p50: Option<Duration>,
    kvm: String,
    kvm_p50: Option<Duration>,
    tcg_p50: Option<Duration>,
    daemon_one: Option<(f64, Duration, Duration)>,
    render_logs_one: Option<(f64, Duration, Duration)>,
    idle_per_function: Option<(u64, usize)>,
    per_sandbox: Option<u64>,
}

struct Suite {
    opts: Options,
    budget: Budget,
    report: Report,
    headline: Headline,
    plots: PathBuf,
    plots_rel: String,
    log: Vec<String>,
}

/// Runs the suite and answers the report's path.
pub fn run(opts: Options) -> Result<PathBuf> {
    let plots = opts.results.join(&opts.name);
    std::fs::create_dir_all(&plots).with_context(|| format!("creating {}", plots.display()))?;
    std::fs::create_dir_all(&opts.work)
        .with_context(|| format!("creating {}", opts.work.display()))?;
    let mut suite = Suite {
        plots_rel: opts.name.clone(),
        budget: Budget::new(opts.quick),
        report: Report::new(),
        headline: Headline::default(),
        plots,
        log: Vec::new(),
        opts,
    };
    suite.all()
}

impl Suite {
    fn progress(&mut self, what: &str) {
        eprintln!("pappus-bench: {what}");
        self.log.push(what.to_string());
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

    fn all(&mut self) -> Result<PathBuf> {
        let started = Instant::now();
        let load_start = load_average();
        let workloads = workloads();
        let native = native::build(&self.opts.repo, &self.opts.work.join("native"))?;

        // In-process engine with every function and composition registered.
        let engine = Engine::builder()
            .build()
            .context("building the in-process engine")?;
        for f in FUNCTIONS {
            engine.register_function(f, &self.wasm(f)?, Limits::default())?;
        }
        for source in self.compositions()? {
            engine.register_compositions(&source)?;
        }

        let daemon_dir = self.fresh_dir("daemon-data")?;
        let daemon = Daemon::start(
            &self.opts.pappus,
            &daemon_dir,
            &self.opts.work.join("daemon.log"),
            &[],
        )?;
        for f in FUNCTIONS {
            daemon.put_function(f, &self.wasm(f)?)?;
        }
        for source in self.compositions()? {
            daemon.put_compositions(&source)?;
        }

        let mut body = Report::new();
        self.cold_starts(&mut body, &workloads, &engine, &daemon, &native)?;
        self.throughput(&mut body, &workloads[0], &daemon)?;
        // nginx serving render-logs' auth answers and log shards, up only while
        // the workloads run.
        let render_logs = self.render_logs(&engine, &daemon);
        self.workloads(&mut body, &workloads, &render_logs, &engine, &daemon)?;
        drop(render_logs);
        daemon.stop()?;
        drop(engine);
        self.memory(&mut body, &workloads)?;

        // Header, summary, then the sections.
        let title = format!(
            "Pappus benchmark report{}",
            if self.opts.quick { " (quick run)" } else { "" }
        );
        self.report.heading(1, &title);
        self.report.para(&format!(
            "Generated by `scripts/bench.sh{}` in {:.0} s. Every request's output is checked against the \
             expected bytes (computed by the same kernels); a wrong answer counts as an error. Latencies are \
             HdrHistogram percentiles; the daemon runs with `RUST_LOG=warn` (no per-invocation log line).",
            if self.opts.quick { " --quick" } else { "" },
            started.elapsed().as_secs_f64()
        ));
        self.report.heading(2, "Machine");
        let mut machine = report::machine(&self.opts.repo);
        machine.push(vec![
            "load average (1, 5, 15 min), start → end".into(),
            format!(
                "{load_start} → {} (other work on the machine makes the numbers noisier)",
                load_average()
            ),
        ]);
        self.report.table(&["", ""], &machine);
        self.summary();
        let mut text = self.report.text().to_string();
        text.push_str(body.text());
        let path = self.opts.results.join(format!("{}.md", self.opts.name));
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }

    fn fresh_dir(&self, name: &str) -> Result<PathBuf> {
        let dir = self.opts.work.join(name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
        }
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(dir)
    }

    fn plot_path(&self, file: &str) -> (PathBuf, String) {
        (self.plots.join(file), format!("{}/{file}", self.plots_rel))
    }

    fn summary(&mut self) {
        let h = &self.headline;
        let mut rows = Vec::new();
        let fmt = |d: Option<Duration>| {
            d.map(format_duration)
                .unwrap_or_else(|| "not measured".into())
        };
        rows.push(vec![
            "cold start, Pappus in-process vs bare wasmtime (matmul 3x3, p50)".into(),
            format!("{} vs {}", fmt(h.inproc_p50), fmt(h.wasmtime_p50)),
            match (h.inproc_p50, h.wasmtime_p50) {
                (Some(a), Some(b)) => format!("{} of the floor (target: within 2x)", ratio(a, b)),
                _ => "-".into(),
            },
        ]);
        for (label, other) in [
            ("gVisor (runsc)", h.runsc_p50),
            ("runc", h.runc_p50),
            ("fork+exec", h.exec_p50),
        ] {
            rows.push(vec![
                format!("cold start, {label} vs Pappus in-process (matmul 3x3, p50)"),
                format!("{} vs {}", fmt(other), fmt(h.inproc_p50)),
                match (other, h.inproc_p50) {
                    (Some(a), Some(b)) => {
                        let target = if label.starts_with("gVisor") {
                            " (target: at least 1000x)"
                        } else {
                            ""
                        };
                        format!("Pappus {} faster{target}", ratio(a, b))
                    }
                    _ => "-".into(),
                },
            ]);
        }
        rows.push(vec![
            "cold start, microVM (QEMU microvm + KVM) vs Pappus in-process".into(),
            match h.kvm_p50 {
                Some(d) => format!("{} vs {}", format_duration(d), fmt(h.inproc_p50)),
                None => "no KVM number".into(),
            },
            match (h.kvm_p50, h.inproc_p50) {
                (Some(a), Some(b)) => {
                    format!("Pappus {} faster (target: at least 1000x)", ratio(a, b))
                }
                _ => h.kvm.clone(),
            },
        ]);
        if let Some(tcg) = h.tcg_p50 {
            rows.push(vec![
                "microVM boot under software emulation (TCG, not KVM)".into(),
                format_duration(tcg),
                "emulation: not comparable with a KVM boot".into(),
            ]);
        }
        rows.push(vec![
            "daemon, matmul 3x3, one closed-loop client".into(),
            match h.daemon_one {
                Some((tp, p50, p99)) => format!(
                    "{tp:.0} req/s, p50 {}, p99 {}",
                    format_duration(p50),
                    format_duration(p99)
                ),
                None => "not measured".into(),
            },
            "target: well above 800 req/s with p99 under 2 ms".into(),
        ]);
        rows.push(vec![
            "daemon, render-logs (auth + 3 shards from nginx), one closed-loop client".into(),
            match h.render_logs_one {
                Some((tp, p50, p99)) => format!(
                    "{tp:.0} req/s, p50 {}, p99 {}",
                    format_duration(p50),
                    format_duration(p99)
                ),
                None => "not measured".into(),
            },
            "no baseline equivalent (its baselines would need an HTTP client in the guest)".into(),
        ]);
        rows.push(vec![
            "daemon committed memory per registered idle function".into(),
            match h.idle_per_function {
                Some((b, n)) => format!("{} ({n} functions)", format_bytes(b)),
                None => "not measured".into(),
            },
            "idle functions should cost (almost) nothing".into(),
        ]);
        rows.push(vec![
            "daemon committed memory per in-flight sandbox".into(),
            h.per_sandbox
                .map(format_bytes)
                .unwrap_or_else(|| "not measured".into()),
            "compress 1 MiB (see Memory)".into(),
        ]);
        self.report.heading(2, "Summary");
        self.report
            .table(&["claim", "measured", "verdict / target"], &rows);
    }

    fn cold_starts(
        &mut self,
        body: &mut Report,
        all: &[Workload],
        engine: &Engine,
        daemon: &Daemon,
        native: &Path,
    ) -> Result<()> {
        body.heading(2, "Cold start: one request at a time, every baseline");
        body.para(
            "One client, sequential requests, each a fresh sandbox, process, container or VM. Modes: bare \
             wasmtime (in-process, pooling allocator, fresh instance per call: the floor); Pappus in-process \
             (`Engine::invoke` of a one-function composition); Pappus daemon (HTTP on loopback, raw body); \
             fork+exec of the static native build of the same kernel (stdin to stdout); the same binary in an \
             OCI container per request under `runc run` and gVisor `runsc --network=none run`; a microVM boot \
             per request (distribution kernel + initramfs running the binary, then power-off).",
        );
        let kvm = microvm::detect_kvm();
        let kernel = microvm::find_kernel();
        let busybox = microvm::on_path("busybox");
        self.headline.kvm = match &kvm {
            KvmStatus::Usable => "KVM usable".into(),
            KvmStatus::Unusable { reason } => format!("not measurable here: {reason}"),
        };
        let mut probe_note = None;
        for w in all.iter().filter(|w| w.baselines) {
            self.progress(&format!("cold start: {}", w.title));
            let mut outcomes = Vec::new();
            let b = &self.budget;
            let floor = Floor::new(&self.wasm(w.function)?)?;
            outcomes.push(sequential("bare wasmtime (floor)", b.fast, 20, || {
                || {
                    floor
                        .call(&w.input)
                        .map_err(|e| format!("{e:#}"))
                        .and_then(|o| check(&o, &w.expected))
                }
            }));
            outcomes.push(sequential("Pappus in-process", b.fast, 20, || {
                inproc_caller(engine, w)
            }));
            outcomes.push(sequential("Pappus daemon (HTTP)", b.fast, 20, || {
                daemon_caller(daemon.addr(), w)
            }));
            outcomes.push(sequential("fork+exec native", b.exec, 3, || {
                || {
                    process::run(native, w.function, &w.input)
                        .map_err(|e| format!("{e:#}"))
                        .and_then(|o| check(&o, &w.expected))
                }
            }));
            if w.containers {
                let bundle = Bundle::create(
                    &self.fresh_dir(&format!("bundle-{}", w.id))?,
                    native,
                    w.function,
                )?;
                for (runtime, runs, label) in [
                    (Runtime::Runc, b.runc, "runc container"),
                    (Runtime::Runsc, b.runsc, "gVisor container (runsc)"),
                ] {
                    if microvm::on_path(runtime.binary()).is_none() {
                        outcomes.push(Outcome::skipped(
                            label,
                            format!("`{}` not on PATH", runtime.binary()),
                        ));
                        continue;
                    }
                    outcomes.push(sequential(label, bounds(runs, 60_000), 1, || {
                        || {
                            bundle
                                .run(runtime, &w.input)
                                .map_err(|e| format!("{e:#}"))
                                .and_then(|o| check(&o, &w.expected))
                        }
                    }));
                }
                if w.id == "matmul3" {
                    let (vm, note) =
                        self.microvms(w, native, &kvm, kernel.as_deref(), busybox.as_deref())?;
                    outcomes.extend(vm);
                    probe_note = note;
                }
            }
            let reference = outcomes
                .iter()
                .find(|o| o.mode == "Pappus in-process")
                .and_then(|o| o.run.as_ref())
                .map(|r| r.latencies.summary().p50);
            if w.id == "matmul3" {
                let p50 = |mode: &str| {
                    outcomes
                        .iter()
                        .find(|o| o.mode.starts_with(mode))
                        .and_then(|o| o.run.as_ref())
                        .map(|r| r.latencies.summary().p50)
                };
                self.headline.wasmtime_p50 = p50("bare wasmtime");
                self.headline.inproc_p50 = p50("Pappus in-process");
                self.headline.runsc_p50 = p50("gVisor");
                self.headline.runc_p50 = p50("runc");
                self.headline.exec_p50 = p50("fork+exec");
                self.headline.kvm_p50 = p50("microVM, QEMU microvm + KVM");
                self.headline.tcg_p50 = p50("microVM, QEMU microvm, software emulation");
            }
            body.heading(3, &w.title);
            let mut rows = Vec::new();
            for o in &outcomes {
                match &o.run {
                    Some(run) => rows.push(latency_row(&o.mode, run, reference)),
                    None => rows.push(vec![
                        o.mode.clone(),
                        "0".into(),
                        "-".into(),
                        "-".into(),
                        "-".into(),
                        "-".into(),
                        "-".into(),
                        "-".into(),
                        o.note.clone(),
                    ]),
                }
            }
            body.table(&LATENCY_HEADERS, &rows);
            let series: Vec<(String, &Latencies)> = outcomes
                .iter()
                .filter_map(|o| o.run.as_ref().map(|r| (o.mode.clone(), &r.latencies)))
                .collect();
            let (file, rel) = self.plot_path(&format!("cold-start-{}.svg", w.id));
            plot::latency_cdf(
                &file,
                &format!("Cold start latency CDF: {}", w.title),
                &series,
            )?;
            body.image(&format!("cold start CDF, {}", w.title), &rel);
        }
        let mut vm_text = format!(
            "**microVM baseline.** KVM on this host: {}.",
            match &kvm {
                KvmStatus::Usable => "hardware-assisted, usable".to_string(),
                KvmStatus::Unusable { reason } => format!("{reason}; no KVM number is reported"),
            }
        );
        if let Some(note) = probe_note {
            vm_text.push_str(&format!(" {note}"));
        }
        vm_text.push_str(
            " The harness is unchanged on a host with hardware KVM: it boots the same kernel and initramfs under \
             `qemu-system-x86_64 -M microvm -accel kvm` once per request, and under Firecracker when `firecracker` \
             is on PATH (with an uncompressed `vmlinux`, `$PAPPUS_BENCH_VMLINUX` or `/boot/vmlinux-*`).",
        );
        body.para(&vm_text);
        Ok(())
    }

    /// The microVM rows for one workload, and a sentence on the KVM probe.
    fn microvms(
        &mut self,
        w: &Workload,
        native: &Path,
        kvm: &KvmStatus,
        kernel: Option<&Path>,
        busybox: Option<&Path>,
    ) -> Result<(Vec<Outcome>, Option<String>)> {
        let kvm_mode = "microVM, QEMU microvm + KVM";
        let tcg_mode = "microVM, QEMU microvm, software emulation (TCG, not KVM)";
        let fc_mode = "microVM, Firecracker";
        let mut out = Vec::new();
        let (kernel, busybox) = match (kernel, busybox, microvm::on_path("qemu-system-x86_64")) {
            (Some(k), Some(b), Some(_)) => (k, b),
            (k, b, q) => {
                let mut missing = Vec::new();
                if k.is_none() {
                    missing
                        .push("a kernel (install `linux-image-amd64` or set PAPPUS_BENCH_KERNEL)");
                }
                if b.is_none() {
                    missing.push("a static `busybox` (`busybox-static`)");
                }
                if q.is_none() {
                    missing.push("`qemu-system-x86_64` (`qemu-system-x86`)");
                }
                let note = format!("not run: missing {}", missing.join(", "));
                out.push(Outcome::skipped(kvm_mode, note.clone()));
                out.push(Outcome::skipped(tcg_mode, note));
                return Ok((out, None));
            }
        };
        let dir = self.fresh_dir(&format!("microvm-{}", w.id))?;
        let image = microvm::initramfs(
            &std::fs::read(busybox).with_context(|| format!("reading {}", busybox.display()))?,
            &std::fs::read(native).with_context(|| format!("reading {}", native.display()))?,
            w.function,
            &w.input,
        );
        let initrd = dir.join("initramfs.cpio");
        std::fs::write(&initrd, image).with_context(|| format!("writing {}", initrd.display()))?;
        let expected = w.expected.len() as u64;
        let boot_caller = |accel: Accel, timeout: Duration| {
            let initrd = initrd.clone();
            move || match microvm::boot(microvm::qemu_command(kernel, &initrd, accel), timeout) {
                Ok((_, bytes)) if bytes == expected => Ok(()),
                Ok(_) => Err("wrong_output".to_string()),
                Err(e) => Err(format!("{e:#}")),
            }
        };
        let mut probe_note = None;
        match kvm {
            KvmStatus::Usable => {
                self.progress("microVM: KVM boots");
                out.push(sequential(
                    kvm_mode,
                    bounds(self.budget.kvm_boots, 120_000),
                    1,
                    || boot_caller(Accel::Kvm, Duration::from_secs(30)),
                ));
            }
            KvmStatus::Unusable { reason } => {
                out.push(Outcome::skipped(
                    kvm_mode,
                    format!("not measurable: {reason}"),
                ));
                if let Some(timeout) = self.budget.kvm_probe {
                    self.progress("microVM: probing a KVM boot (expected to fail here)");
                    let started = Instant::now();
                    let result =
                        microvm::boot(microvm::qemu_command(kernel, &initrd, Accel::Kvm), timeout);
                    probe_note = Some(match result {
                        Ok((d, _)) => format!(
                            "A probe boot under KVM did complete (in {}), so the detection above may be too strict; \
                             it is still not reported as a KVM number.",
                            format_duration(d)
                        ),
                        Err(e) => format!(
                            "A probe boot under KVM confirms it: after {:.1} s, {}.",
                            started.elapsed().as_secs_f64(),
                            first_sentence(&format!("{e:#}"))
                        ),
                    });
                }
            }
        }
        if self.budget.tcg_boots > 0 {
            self.progress("microVM: emulated (TCG) boots");
            out.push(sequential(
                tcg_mode,
                bounds(self.budget.tcg_boots, 120_000),
                1,
                || boot_caller(Accel::Tcg, Duration::from_secs(60)),
            ));
        } else {
            out.push(Outcome::skipped(
                tcg_mode,
                "skipped in --quick (one boot takes seconds)",
            ));
        }
        match (microvm::on_path("firecracker"), kvm) {
            (None, _) => out.push(Outcome::skipped(fc_mode, "`firecracker` not on PATH")),
            (Some(_), KvmStatus::Unusable { .. }) => out.push(Outcome::skipped(
                fc_mode,
                "not run: Firecracker needs a usable KVM",
            )),
            (Some(_), KvmStatus::Usable) => match microvm::find_vmlinux() {
                None => out.push(Outcome::skipped(
                    fc_mode,
                    "no uncompressed kernel: set PAPPUS_BENCH_VMLINUX",
                )),
                Some(vmlinux) => {
                    let config = dir.join("firecracker.json");
                    std::fs::write(
                        &config,
                        microvm::firecracker_config(&vmlinux, &initrd).to_string(),
                    )
                    .with_context(|| format!("writing {}", config.display()))?;
                    out.push(sequential(
                        fc_mode,
                        bounds(self.budget.kvm_boots, 120_000),
                        1,
                        || {
                            let config = config.clone();
                            move || match microvm::boot(
                                microvm::firecracker_command(&config),
                                Duration::from_secs(30),
                            ) {
                                Ok((_, bytes)) if bytes == expected => Ok(()),
                                Ok(_) => Err("wrong_output".to_string()),
                                Err(e) => Err(format!("{e:#}")),
                            }
                        },
                    ));
                }
            },
        }
        Ok((out, probe_note))
    }

    fn throughput(&mut self, body: &mut Report, w: &Workload, daemon: &Daemon) -> Result<()> {
        body.heading(2, "Daemon under load: matmul 3x3");
        body.para(
            "Closed loop: N clients, each with its own keep-alive connection, sending the next request when \
             the previous one answered. Open loop: requests scheduled at a fixed offered rate (64 sending \
             connections), latency measured from each request's intended send time, so queueing is counted \
             (no coordinated omission); requests still unsent when the run's time is up count as \
             `unsent_by_deadline` errors. The load generator runs on the same two cores as the daemon. \
             Daemon CPU is its user + system time over the run, per successful request.",
        );
        let mut rows = Vec::new();
        let mut best: f64 = 0.0;
        let mut closed_series: Vec<(String, RunResult)> = Vec::new();
        for &clients in &self.budget.clients.clone() {
            self.progress(&format!("daemon matmul 3x3, {clients} closed-loop clients"));
            let (run, cpu, mem) =
                self.daemon_run(daemon, w, Mode::Closed { clients }, self.budget.daemon)?;
            best = best.max(run.throughput());
            if clients == 1 {
                let s = run.latencies.summary();
                self.headline.daemon_one = Some((run.throughput(), s.p50, s.p99));
            }
            rows.push(load_row(
                &format!("closed, {clients} client(s)"),
                &run,
                cpu,
                mem,
            ));
            closed_series.push((format!("closed, {clients} client(s)"), run));
        }
        let mut sweep = Vec::new();
        let mut open_series: Vec<(String, RunResult)> = Vec::new();
        for &fraction in &self.budget.sweep.clone() {
            let rate = (best * fraction).max(10.0).round();
            self.progress(&format!("daemon matmul 3x3, open loop at {rate} req/s"));
            let (run, cpu, mem) = self.daemon_run(
                daemon,
                w,
                Mode::Open {
                    rate,
                    connections: 64,
                },
                self.budget.sweep_time,
            )?;
            sweep.push((rate, run.throughput()));
            rows.push(load_row(
                &format!("open, {rate:.0} req/s offered"),
                &run,
                cpu,
                mem,
            ));
            open_series.push((format!("open, {rate:.0} req/s"), run));
        }
        body.table(&LOAD_HEADERS, &rows);
        let (file, rel) = self.plot_path("daemon-matmul3-throughput.svg");
        plot::throughput_vs_offered(
            &file,
            "Daemon, matmul 3x3: throughput vs offered load (open loop)",
            &sweep,
        )?;
        body.image("throughput vs offered load", &rel);
        let series: Vec<(String, &Latencies)> = closed_series
            .iter()
            .chain(open_series.iter())
            .map(|(l, r)| (l.clone(), &r.latencies))
            .take(8)
            .collect();
        let (file, rel) = self.plot_path("daemon-matmul3-cdf.svg");
        plot::latency_cdf(&file, "Daemon, matmul 3x3: latency CDF", &series)?;
        body.image("daemon latency CDF", &rel);
        Ok(())
    }

    /// A bounded run against the daemon with its CPU time and peak memory.
    fn daemon_run(
        &self,
        daemon: &Daemon,
        w: &Workload,
        mode: Mode,
        duration: Duration,
    ) -> Result<(RunResult, Duration, procfs::Memory)> {
        let pid = daemon.pid();
        let cpu0 = procfs::cpu_time(pid).context("reading the daemon's CPU time")?;
        let sampler = Sampler::start(pid, Duration::from_millis(20));
        let requests = match mode {
            Mode::Open { rate, .. } => (rate * duration.as_secs_f64()).ceil() as u64,
            Mode::Closed { .. } => u64::MAX,
        };
        let mut run = loadgen::run(mode, Bounds { requests, duration }, || {
            daemon_caller(daemon.addr(), w)
        });
        let mem = sampler.stop();
        let cpu = procfs::cpu_time(pid)
            .context("reading the daemon's CPU time")?
            .saturating_sub(cpu0);
        if let Mode::Open { .. } = mode {
            let sent = run.latencies.len() + run.error_count();
            if sent < requests {
                run.errors
                    .insert("unsent_by_deadline".into(), requests - sent);
            }
        }
        Ok((run, cpu, mem))
    }

    /// Starts nginx serving `examples/render-logs/www`, registers the example's
    /// functions and composition in-process and on the daemon, and checks one
    /// answer from each before anything is measured; or says why the workload
    /// cannot run.
    fn render_logs(&mut self, engine: &Engine, daemon: &Daemon) -> RenderLogs {
        let dir = self.opts.repo.join(RENDER_LOGS_DIR);
        let pap = dir.join("render-logs.pap");
        if !pap.exists() {
            return Err(format!(
                "not available: {} is not in this tree",
                pap.display()
            ));
        }
        self.progress("render-logs: starting nginx, registering, checking one answer");
        let nginx = start_nginx(&dir.join("www"))
            .map_err(|e| format!("not run: nginx did not start: {e}"))?;
        let w = render_logs_workload(&nginx.url());
        let register = || -> Result<()> {
            let source = std::fs::read_to_string(&pap)
                .with_context(|| format!("reading {}", pap.display()))?;
            for f in RENDER_LOGS_FUNCTIONS {
                // Default limits: 64 MiB of memory, what pappus.toml gives `render`.
                let wasm = self.wasm(f)?;
                engine.register_function(f, &wasm, Limits::default())?;
                daemon.put_function(f, &wasm)?;
            }
            engine.register_compositions(&source)?;
            daemon.put_compositions(&source)?;
            Ok(())
        };
        register().map_err(|e| format!("not run: {e:#}"))?;
        let mut conn = Connection::new(daemon.addr(), Duration::from_secs(30));
        let r = conn
            .request(
                "POST",
                &invoke_path(&w.composition, w.input_set),
                Some("application/octet-stream"),
                &w.input,
            )
            .map_err(|e| format!("not run: the check request to the daemon failed: {e}"))?;
        if r.status != 200 || w.check(&r.body).is_err() {
            return Err(format!(
                "not run: the daemon's first answer is not the expected page (status {}): {}",
                r.status,
                snippet(&r.body)
            ));
        }
        inproc_caller(engine, &w)()
            .map_err(|e| format!("not run: the in-process check failed: {e}"))?;
        Ok((nginx, w))
    }

    fn workloads(
        &mut self,
        body: &mut Report,
        all: &[Workload],
        render_logs: &RenderLogs,
        engine: &Engine,
        daemon: &Daemon,
    ) -> Result<()> {
        body.heading(2, "Workloads through the daemon");
        body.para(&format!(
            "Closed loop, 1 and {} clients, {:.1} s each. Chains run `upper` N times in sequence over 4 KiB; \
             `chain of 1` is the single-function reference, and the last column compares a chain's in-process \
             p50 with N times that reference (the design target: a chain of N costs about N cold starts plus \
             the copies, not N round trips). render-logs is `examples/render-logs/` against nginx on loopback \
             serving its `www/`: `access`, one auth request by the `http` builtin, `fan_out`, three shard \
             requests sent concurrently, `render`; every answer must be the page with `{}` and `{}` (the page \
             is checked for its heading and summary, not byte for byte). It has no baseline equivalent: the \
             native, container and VM baselines would need an HTTP client in the guest.",
            self.budget.load_clients,
            self.budget.daemon.as_secs_f64(),
            RENDER_LOGS_PAGE[0],
            RENDER_LOGS_PAGE[1],
        ));
        let mut rows = Vec::new();
        let mut inproc_rows = Vec::new();
        let mut chain_one = None;
        let mut chain_series: Vec<(String, RunResult)> = Vec::new();
        let render = render_logs.as_ref().ok().map(|(_, w)| w);
        for w in all.iter().chain(render) {
            for clients in [1, self.budget.load_clients] {
                self.progress(&format!("daemon {}, {clients} client(s)", w.title));
                let (run, cpu, mem) =
                    self.daemon_run(daemon, w, Mode::Closed { clients }, self.budget.daemon)?;
                rows.push(load_row(
                    &format!("{}, {clients} client(s)", w.title),
                    &run,
                    cpu,
                    mem,
                ));
                if clients == 1 && w.id == "render-logs" {
                    let s = run.latencies.summary();
                    self.headline.render_logs_one = Some((run.throughput(), s.p50, s.p99));
                }
                if clients == 1 && w.id.starts_with("chain") {
                    chain_series.push((w.title.clone(), run));
                }
            }
            let o = sequential("in-process", self.budget.fast, 5, || {
                inproc_caller(engine, w)
            });
            if let Some(run) = &o.run {
                let s = run.latencies.summary();
                let n: u32 =
                    w.id.strip_prefix("chain")
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(0);
                if n == 1 {
                    chain_one = Some(s.p50);
                }
                let versus = match (n, chain_one) {
                    (n, Some(one)) if n > 0 => {
                        format!("{} of {n} x chain of 1", ratio(s.p50, one * n))
                    }
                    _ => "-".into(),
                };
                inproc_rows.push(vec![
                    w.title.clone(),
                    s.count.to_string(),
                    format!("{:.0}", run.throughput()),
                    format_duration(s.p50),
                    format_duration(s.p99),
                    format_errors(&run.errors),
                    versus,
                ]);
            } else {
                inproc_rows.push(vec![
                    w.title.clone(),
                    "0".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    o.note.clone(),
                    "-".into(),
                ]);
            }
        }
        if let Err(note) = render_logs {
            rows.push(not_run_row(RENDER_LOGS_TITLE, note, LOAD_HEADERS.len()));
            let mut row = not_run_row(RENDER_LOGS_TITLE, note, 6);
            row.push("-".into());
            inproc_rows.push(row);
        }
        body.table(&LOAD_HEADERS, &rows);
        body.heading(
            3,
            "The same workloads in-process (`Engine::invoke`, one thread)",
        );
        body.table(
            &[
                "workload",
                "n",
                "req/s",
                "p50",
                "p99",
                "errors",
                "chain vs N single functions",
            ],
            &inproc_rows,
        );
        let series: Vec<(String, &Latencies)> = chain_series
            .iter()
            .map(|(l, r)| (l.clone(), &r.latencies))
            .collect();
        let (file, rel) = self.plot_path("daemon-chain-cdf.svg");
        plot::latency_cdf(
            &file,
            "Daemon, chains of upper (1 client): latency CDF",
            &series,
        )?;
        body.image("chain latency CDF", &rel);
        Ok(())
    }

    fn memory(&mut self, body: &mut Report, all: &[Workload]) -> Result<()> {
        let n = self.budget.idle_functions;
        self.progress(&format!("memory: {n} idle functions"));
        let dir = self.fresh_dir("daemon-memory")?;
        let daemon = Daemon::start(
            &self.opts.pappus,
            &dir,
            &self.opts.work.join("daemon-memory.log"),
            &[],
        )?;
        let pid = daemon.pid();
        std::thread::sleep(Duration::from_millis(300));
        let idle = procfs::memory(pid)?;
        let noop = self.wasm("noop")?;
        let started = Instant::now();
        for i in 0..n {
            daemon.put_function(&format!("idle{i:04}"), &noop)?;
        }
        let registering = started.elapsed();
        std::thread::sleep(Duration::from_millis(300));
        let registered = procfs::memory(pid)?;
        let per_function = registered.committed.saturating_sub(idle.committed) / n.max(1) as u64;
        self.headline.idle_per_function = Some((per_function, n));

        // Per in-flight sandbox: many clients of compress 1 MiB; at most one
        // sandbox per compute thread runs at once (the daemon's default: one
        // compute thread per core), the rest wait in the admission queue.
        let w = all
            .iter()
            .find(|w| w.id == "compress1024k")
            .context("compress 1 MiB workload")?;
        daemon.put_function("compress", &self.wasm("compress")?)?;
        daemon.put_compositions(&std::fs::read_to_string(
            self.opts.repo.join(COMPOSITIONS[1]),
        )?)?;
        let mut warm = daemon_caller(daemon.addr(), w);
        for _ in 0..3 {
            warm().map_err(|e| anyhow::anyhow!("compress through the daemon failed: {e}"))?;
        }
        std::thread::sleep(Duration::from_millis(300));
        let before = procfs::memory(pid)?;
        let clients = self.budget.load_clients;
        let (run, _, peak) =
            self.daemon_run(&daemon, w, Mode::Closed { clients }, self.budget.daemon)?;
        let in_flight = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(clients) as u64;
        let per_sandbox = peak.committed.saturating_sub(before.committed) / in_flight.max(1);
        self.headline.per_sandbox = Some(per_sandbox);
        daemon.stop()?;

        body.heading(2, "Memory");
        body.para(
            "Committed memory is the daemon's private anonymous memory (`Anonymous` + `SwapPss` in \
             `/proc/<pid>/smaps_rollup`): what it costs the machine. RSS also counts shared file pages; the \
             virtual size counts address space the sandbox pool only reserves.",
        );
        let row = |label: &str, m: &procfs::Memory| {
            vec![
                label.to_string(),
                format_bytes(m.committed),
                format_bytes(m.rss),
                format_bytes(m.virtual_size),
            ]
        };
        body.table(
            &["daemon state", "committed", "RSS", "virtual size"],
            &[
                row("started, nothing registered", &idle),
                row(
                    &format!(
                        "{n} idle functions registered (noop, {} each)",
                        format_bytes(noop.len() as u64)
                    ),
                    &registered,
                ),
                row("compress registered and warmed up", &before),
                row(
                    &format!("peak under {clients} clients of compress 1 MiB"),
                    &peak,
                ),
            ],
        );
        body.para(&format!(
            "Registering {n} functions took {:.2} s ({:.1} ms each, persisted to the data directory). \
             Committed memory per idle function: **{}**. Per in-flight sandbox (peak minus warmed-up, divided \
             by the {in_flight} sandboxes that run at once, one per compute thread): **{}**, for a 1 MiB input \
             whose sandbox also holds a 1 MiB scratch buffer and the compressed output. That run: {:.0} req/s, \
             p99 {}, errors: {}.",
            registering.as_secs_f64(),
            registering.as_secs_f64() * 1e3 / n.max(1) as f64,
            format_bytes(per_function),
            format_bytes(per_sandbox),
            run.throughput(),
            format_duration(run.latencies.summary().p99),
            format_errors(&run.errors),
        ));
        Ok(())
    }
}

/// The first three fields of `/proc/loadavg`.
fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn first_sentence(s: &str) -> String {
    let s = s.trim();
    let cut = s.find("; console tail").unwrap_or(s.len()).min(300);
    s[..cut].to_string()
}

const LOAD_HEADERS: [&str; 11] = [
    "run",
    "requests",
    "req/s",
    "p50",
    "p90",
    "p99",
    "p99.9",
    "errors",
    "daemon CPU/req",
    "peak RSS",
    "peak committed",
];

fn load_row(label: &str, run: &RunResult, cpu: Duration, mem: procfs::Memory) -> Vec<String> {
    let s = run.latencies.summary();
    let ok = run.latencies.len().max(1) as u32;
    vec![
        label.to_string(),
        s.count.to_string(),
        format!("{:.0}", run.throughput()),
        format_duration(s.p50),
        format_duration(s.p90),
        format_duration(s.p99),
        format_duration(s.p999),
        format_errors(&run.errors),
        format_duration(cpu / ok),
        format_bytes(mem.rss),
        format_bytes(mem.committed),
    ]
}

/// A row with no numbers: the label, `0` requests, `-` up to the last column, the note there.
fn not_run_row(label: &str, note: &str, columns: usize) -> Vec<String> {
    let mut row = vec![label.to_string(), "0".into()];
    row.resize(columns.saturating_sub(1).max(2), "-".into());
    row.push(note.to_string());
    row
}

/// nginx starting on a loopback port and serving `root`, or why it did not.
fn start_nginx(root: &Path) -> Result<Server, String> {
    // The testkit panics with a setup hint when nginx is missing: keep that
    // message for the report, without the panic printed on the way.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let started = std::panic::catch_unwind(|| pappus_testkit::nginx_serving(root));
    std::panic::set_hook(hook);
    started.map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "it panicked".into())
    })
}

/// At most 300 bytes of an answer, for a message.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(300) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_logs_answers_need_the_heading_and_the_summary() {
        let w = render_logs_workload("http://127.0.0.1:1");
        assert_eq!(
            w.input.as_ref(),
            b"server: http://127.0.0.1:1\ntoken: alice-7f3a\n"
        );
        let page = "<html><h1>Logs for alice</h1>\n<p>3 shards, 14 lines, 2 errors, 3 warnings.</p></html>";
        assert_eq!(w.check(page.as_bytes()), Ok(()));
        let wrong = "<h1>Logs for alice</h1>\n<p>2 shards, 4 lines, 0 errors, 1 warnings.</p>";
        assert_eq!(w.check(wrong.as_bytes()), Err("wrong_output".into()));
        assert_eq!(w.check(b""), Err("wrong_output".into()));
    }

    #[test]
    fn a_row_without_numbers_has_the_note_last() {
        let row = not_run_row("x", "why", LOAD_HEADERS.len());
        assert_eq!(row.len(), LOAD_HEADERS.len());
        assert_eq!(row[1], "0");
        assert_eq!(row[LOAD_HEADERS.len() - 1], "why");
    }
}
