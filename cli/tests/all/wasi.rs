//! WASI functions through `pappus run`: the README's WASI examples (C, C++,
//! Rust std, and a composition mixing them with ABI v1 functions and `fetch`),
//! replay with `--seed`/`--time`, `--timings` reporting, failures, and argv and
//! environment from `pappus.toml` only.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;

use pappus_engine::json::parse_sets;
use pappus_testkit::{repo_root, wasm_path};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `pappus` in `dir` with `envs` added to its environment.
fn pappus(args: &[&str], dir: &Path, envs: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pappus"))
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(dir)
        .output()
        .expect("cannot run pappus")
}

/// Asserts `out` succeeded and said nothing on stderr: a README example's
/// first run is clean, so that a real warning stands out.
#[track_caller]
fn clean_success(out: &Output) {
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "", "a README example printed on stderr");
}

/// Runs an example's build script (idempotent; the guest toolchain is
/// installed by ./setup.sh).
fn build_example(example: &str) {
    // Tests run in parallel and several build the same example: one build at a
    // time, so that none runs a program another is rewriting.
    static BUILDING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = BUILDING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let script = repo_root().join("examples").join(example).join("build.sh");
    let out = Command::new("bash")
        .arg(&script)
        .stdin(Stdio::null())
        .output()
        .expect("cannot run bash");
    assert!(
        out.status.success(),
        "{} failed (run ./setup.sh):\n{}",
        script.display(),
        text(&out.stderr)
    );
}

/// The probe program (`tests/guests/probe.c`) compiled for WASI into `dir`.
fn probe(dir: &Path) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guests/probe.c");
    let module = dir.join("probe.wasm");
    let out = Command::new("clang")
        .args(["--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-o"])
        .arg(&module)
        .arg(&source)
        .output()
        .expect("cannot run clang (run ./setup.sh)");
    assert!(out.status.success(), "clang: {}", text(&out.stderr));
    module
}

#[test]
fn wordfreq_c_example_matches_its_native_build() {
    build_example("wordfreq-c");
    let root = repo_root();
    let out = pappus(
        &[
            "run",
            "examples/wordfreq-c/wordfreq.pap",
            "--input",
            "Docs=@examples/wordfreq-c/docs",
        ],
        &root,
        &[],
    );
    clean_success(&out);
    let sets = parse_sets(&out.stdout).unwrap();
    let docs = root.join("examples/wordfreq-c/docs");
    let mut names: Vec<String> = std::fs::read_dir(&docs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(sets["Freqs"].len(), names.len());
    for name in names {
        let native = Command::new(root.join("examples/wordfreq-c/wordfreq"))
            .stdin(std::fs::File::open(docs.join(&name)).unwrap())
            .output()
            .unwrap();
        let item = sets["Freqs"].iter().find(|i| i.name == name).unwrap();
        assert!(!native.stdout.is_empty());
        assert_eq!(&item.data[..], &native.stdout[..], "{name}");
    }
}

#[test]
fn wordfreq_cpp_example_takes_its_arguments_from_pappus_toml() {
    build_example("wordfreq-cpp");
    build_example("wordfreq-c");
    let root = repo_root();
    let run = |example: &str| {
        let out = pappus(
            &[
                "run",
                &format!("examples/{example}/wordfreq.pap"),
                "--input",
                "Docs=@examples/wordcount/docs",
            ],
            &root,
            &[],
        );
        clean_success(&out);
        parse_sets(&out.stdout).unwrap()
    };
    let cpp = run("wordfreq-cpp");
    let c = run("wordfreq-c");
    assert_eq!(cpp["Top"].len(), 3);
    for item in &cpp["Top"] {
        // `--top 3` from pappus.toml: the first three lines of the C program's.
        let full = c["Freqs"].iter().find(|i| i.name == item.name).unwrap();
        let first3: Vec<&str> = std::str::from_utf8(&full.data)
            .unwrap()
            .lines()
            .take(3)
            .collect();
        assert_eq!(text(&item.data), format!("{}\n", first3.join("\n")));
    }
}

#[test]
fn wordlen_rust_example_writes_keyed_files() {
    build_example("wordlen-rust");
    let root = repo_root();
    let out = pappus(
        &[
            "run",
            "examples/wordlen-rust/wordlen.pap",
            "--input",
            "Docs=@examples/wordcount/docs",
        ],
        &root,
        &[],
    );
    clean_success(&out);
    let sets = parse_sets(&out.stdout).unwrap();
    let by_length = &sets["ByLength"];
    assert!(by_length.len() > 3, "{by_length:?}");
    for item in by_length {
        let length: u64 = item.name.trim_end_matches(".txt").parse().unwrap();
        assert_eq!(item.key, length, "{}", item.name);
        for line in text(&item.data).lines() {
            let (count, word) = line.split_once(' ').unwrap();
            assert!(count.parse::<u64>().unwrap() >= 1);
            assert_eq!(word.chars().count() as u64, length, "{line}");
        }
    }
    let three = by_length.iter().find(|i| i.name == "3.txt").unwrap();
    assert!(
        text(&three.data).contains(" the\n"),
        "{}",
        text(&three.data)
    );
}

#[test]
fn wasi_mix_example_fetches_and_mixes_wasi_with_abi_v1() {
    for f in ["upper", "concat"] {
        wasm_path(f);
    }
    build_example("wordfreq-c");
    let root = repo_root();
    let dir = tempfile::tempdir().unwrap();
    let docs = root.join("examples/wordcount/docs");
    let fox = docs.join("fox.txt");
    let inputs = format!(
        r#"{{"Uris": [{{"name": "fox.txt", "data": "file://{}"}}]}}"#,
        fox.display()
    );
    let inputs_path = dir.path().join("inputs.json");
    std::fs::write(&inputs_path, inputs).unwrap();
    let out = pappus(
        &[
            "run",
            "examples/wasi-mix/wasi-mix.pap",
            "--inputs",
            inputs_path.to_str().unwrap(),
        ],
        &root,
        &[],
    );
    clean_success(&out);
    let sets = parse_sets(&out.stdout).unwrap();
    let native = Command::new(root.join("examples/wordfreq-c/wordfreq"))
        .stdin(std::fs::File::open(&fox).unwrap())
        .output()
        .unwrap();
    // Uppercased first, then counted (wordfreq lowercases): the native counts.
    let freqs = &sets["Freqs"];
    assert_eq!(freqs.len(), 1);
    assert_eq!(freqs[0].name, "fox.txt");
    assert_eq!(&freqs[0].data[..], &native.stdout[..]);
    assert_eq!(&sets["Report"][0].data[..], &native.stdout[..]);
}

/// A directory with the probe, a composition applying it, and a pappus.toml
/// giving it arguments and an environment.
fn probe_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    probe(dir.path());
    std::fs::write(
        dir.path().join("probe.pap"),
        "function probe (stdin) => (stdout);\n\
         function failing (stdin) => (stdout);\n\
         composition Probe (In) => (Out) { probe (stdin = each In) => (Out = stdout); }\n\
         composition Fail (In) => (Out) { failing (stdin = each In) => (Out = stdout); }\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("pappus.toml"),
        "[functions]\n\
         probe = { wasm = \"probe.wasm\", args = [\"one\", \"two words\"], env = { GREETING = \"hello\" } }\n\
         failing = { wasm = \"probe.wasm\", args = [\"fail\"] }\n",
    )
    .unwrap();
    dir
}

/// What the probe printed: the data of its one `Out` item.
fn probe_output(out: &Output) -> String {
    let sets = parse_sets(&out.stdout).unwrap();
    text(&sets["Out"][0].data)
}

fn probe_run(dir: &Path, extra: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut args = vec!["run", "probe.pap", "-c", "Probe", "--input", "In=x"];
    args.extend_from_slice(extra);
    pappus(&args, dir, envs)
}

#[test]
fn seed_and_time_replay_and_are_reported_by_timings() {
    let dir = probe_dir();
    let flags = ["--seed", "42", "--time", "1700000000", "--timings"];
    let first = probe_run(dir.path(), &flags, &[]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let stdout = probe_output(&first);
    assert!(stdout.starts_with("time 1700000000\n"), "{stdout}");
    let stderr = text(&first.stderr);
    assert!(stderr.contains("timings: "), "{stderr}");
    assert!(stderr.contains("seed 42, time 1700000000"), "{stderr}");
    assert!(stderr.contains("--seed 42 --time 1700000000"), "{stderr}");
    // Same inputs, seed and time: the same bytes.
    let again = probe_run(dir.path(), &flags, &[]);
    assert_eq!(first.stdout, again.stdout);
    // Another seed draws other random bytes.
    let other = probe_run(dir.path(), &["--seed", "43", "--time", "1700000000"], &[]);
    assert!(other.status.success(), "{}", text(&other.stderr));
    assert_ne!(first.stdout, other.stdout);
    // Without them, --timings reports fresh ones that replay the run.
    let fresh = probe_run(dir.path(), &["--timings"], &[]);
    let stderr = text(&fresh.stderr);
    let replay = stderr
        .split("(replay: ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("no replay flags in {stderr}"));
    let replay: Vec<&str> = replay.split(' ').collect();
    let replayed = probe_run(dir.path(), &replay, &[]);
    assert_eq!(fresh.stdout, replayed.stdout);
}

#[test]
fn arguments_and_environment_come_from_pappus_toml_only() {
    let dir = probe_dir();
    let out = probe_run(
        dir.path(),
        &[],
        &[
            ("PAPPUS_LEAK_CHECK", "leaked"),
            ("GREETING", "from the shell"),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = probe_output(&out);
    for line in [
        "arg probe",
        "arg one",
        "arg two words",
        "env GREETING=hello",
    ] {
        assert!(stdout.contains(&format!("{line}\n")), "{line}: {stdout}");
    }
    assert!(!stdout.contains("leaked"), "{stdout}");
    assert!(!stdout.contains("from the shell"), "{stdout}");
    assert!(!stdout.contains("PATH="), "{stdout}");
}

#[test]
fn a_failure_reports_the_seed_time_exit_status_and_stderr() {
    let dir = probe_dir();
    let out = pappus(
        &[
            "run",
            "probe.pap",
            "-c",
            "Fail",
            "--input",
            "In=x",
            "--seed",
            "7",
            "--time",
            "1234",
        ],
        dir.path(),
        &[],
    );
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("seed 7, time 1234"), "{stderr}");
    assert!(stderr.contains("--seed 7 --time 1234"), "{stderr}");
    assert!(stderr.contains("exited with status 3"), "{stderr}");
    assert!(stderr.contains("probe: failing on purpose"), "{stderr}");
}

/// A project folder with `picky` (`tests/guests/picky.c`) compiled for WASI
/// and `thumbs.pap` applying it to each item of `Images`, its failures caught
/// in `Failed` when `catch` is true.
fn picky_dir(catch: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guests/picky.c");
    let out = Command::new("clang")
        .args(["--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-o"])
        .arg(dir.path().join("picky.wasm"))
        .arg(&source)
        .output()
        .expect("cannot run clang (run ./setup.sh)");
    assert!(out.status.success(), "clang: {}", text(&out.stderr));
    std::fs::write(
        dir.path().join("pappus.toml"),
        "[functions]\npicky = \"picky.wasm\"\n",
    )
    .unwrap();
    let (outputs, clause) = if catch {
        ("Thumbs, Failed", " catch Failed")
    } else {
        ("Thumbs", "")
    };
    std::fs::write(
        dir.path().join("thumbs.pap"),
        format!(
            "function picky (stdin) => (stdout);\n\
             composition Thumbs (Images) => ({outputs}) {{\n    \
             picky (stdin = each Images) => (Thumbs = stdout){clause};\n}}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("inputs.json"),
        r#"{"Images": [
            {"name": "cat.png", "key": 1, "data": "cat"},
            {"name": "broken.png", "key": 2, "data": "bad bytes"},
            {"name": "dog.png", "key": 3, "data": "dog"}
        ]}"#,
    )
    .unwrap();
    dir
}

#[test]
fn catch_turns_a_trapping_shard_into_an_item_and_the_others_complete() {
    // All-or-nothing by default: the one bad item fails the run.
    let dir = picky_dir(false);
    let out = pappus(
        &["run", "thumbs.pap", "--inputs", "inputs.json"],
        dir.path(),
        &[],
    );
    assert!(!out.status.success(), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("picky: cannot decode this item"),
        "{}",
        text(&out.stderr)
    );

    let dir = picky_dir(true);
    let out = pappus(
        &["run", "thumbs.pap", "--inputs", "inputs.json"],
        dir.path(),
        &[],
    );
    clean_success(&out);
    let sets = parse_sets(&out.stdout).unwrap();
    let mut thumbs: Vec<(String, u64, String)> = sets["Thumbs"]
        .iter()
        .map(|i| (i.name.clone(), i.key, text(&i.data)))
        .collect();
    thumbs.sort();
    assert_eq!(
        thumbs,
        [
            ("cat.png".to_string(), 1, "CAT".to_string()),
            ("dog.png".to_string(), 3, "DOG".to_string())
        ]
    );
    let failed = &sets["Failed"];
    assert_eq!(failed.len(), 1);
    assert_eq!((failed[0].name.as_str(), failed[0].key), ("broken.png", 2));
    let record: serde_json::Value = serde_json::from_slice(&failed[0].data).unwrap();
    assert_eq!(record["kind"], "trap", "{record}");
    assert_eq!(
        record["stderr"], "picky: cannot decode this item\n",
        "{record}"
    );
    assert!(
        record["shard"]
            .as_str()
            .is_some_and(|s| s.contains("broken.png")),
        "{record}"
    );
}
