//! The developer loop, run for real: `pappus new` for each language, `pappus
//! build`, `pappus run` on the result, then `deploy`, `invoke`, `ls`, `rm` and
//! `logs` against a `pappus serve` the test starts.
//!
//! The WASI languages (`rust`, `c`) build and run as generated.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use pappus_engine::json;
use pappus_testkit::{free_port, wasm_path};

/// Guest builds share one target dir across runs, so `std` for each wasm
/// target is compiled once, not once per test run.
fn guest_target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("guest-target")
}

fn pappus_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pappus"));
    command
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", guest_target_dir())
        .env_remove("PAPPUS_URL")
        .env_remove("PAPPUS_TOKEN");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("cannot run pappus")
}

fn pappus(dir: &Path, args: &[&str]) -> Output {
    pappus_with(dir, args, &[])
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[track_caller]
fn succeeds(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        text(&out.stderr),
        text(&out.stdout)
    );
    text(&out.stdout)
}

#[track_caller]
fn fails_naming(out: &Output, needle: &str) {
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "succeeded: {}", text(&out.stdout));
    assert!(stderr.contains(needle), "no {needle:?} in: {stderr}");
}

/// The one item of set `Output`, as text.
#[track_caller]
fn only_output(stdout: &str) -> String {
    let sets = json::parse_sets(stdout.as_bytes()).expect("JSON outputs");
    assert_eq!(sets.keys().collect::<Vec<_>>(), ["Output"], "{stdout}");
    assert_eq!(sets["Output"].len(), 1, "{stdout}");
    text(&sets["Output"][0].data)
}

/// `pappus new NAME --lang LANG` then `pappus build` in it; returns the project.
fn new_and_build(parent: &Path, name: &str, lang: &str) -> PathBuf {
    let out = pappus(parent, &["new", name, "--lang", lang]);
    let stdout = succeeds(&out);
    assert!(stdout.contains("pappus build"), "{stdout}");
    let project = parent.join(name);
    for file in ["pappus.toml", "app.pap"] {
        assert!(project.join(file).is_file(), "{file} missing");
    }
    // Nothing in the project points into this repository or this machine.
    let root = pappus_testkit::repo_root();
    for file in ["pappus.toml", "app.pap", "Cargo.toml"] {
        if let Ok(content) = std::fs::read_to_string(project.join(file)) {
            assert!(
                !content.contains(root.to_str().expect("UTF-8 path")),
                "{file}: {content}"
            );
            // What the file says is true: args and env reach the program.
            assert!(!content.contains("not passed yet"), "{file}: {content}");
        }
    }
    let out = pappus(&project, &["build"]);
    let stdout = succeeds(&out);
    let wasm = project
        .join("wasm")
        .join(format!("{}.wasm", name.replace('-', "_")));
    assert!(
        stdout.contains(&wasm.display().to_string()),
        "build does not print where the module is: {stdout}"
    );
    let bytes = std::fs::read(&wasm).expect("the built module");
    assert_eq!(&bytes[..4], b"\0asm");
    project
}

/// Runs a generated WASI project as generated and checks its greeting.
fn run_generated(project: &Path) {
    let out = pappus(project, &["run", "app.pap", "--input", "Input=world"]);
    let stdout = succeeds(&out);
    assert_eq!(only_output(&stdout), "Hello, world!");
}

#[test]
fn new_c_builds_and_runs() {
    let parent = tempfile::tempdir().unwrap();
    let project = new_and_build(parent.path(), "greet-c", "c");
    assert!(project.join("greet_c.c").is_file());
    run_generated(&project);
}

#[test]
fn new_rust_builds_and_runs() {
    let parent = tempfile::tempdir().unwrap();
    let project = new_and_build(parent.path(), "greet-rs", "rust");
    assert!(project.join("src/main.rs").is_file());
    run_generated(&project);
}

#[test]
fn new_refuses_bad_names_and_existing_folders() {
    let parent = tempfile::tempdir().unwrap();
    let out = pappus(parent.path(), &["new", "../escape", "--lang", "c"]);
    fails_naming(&out, "must start with a letter");
    std::fs::create_dir(parent.path().join("taken")).unwrap();
    let out = pappus(parent.path(), &["new", "taken", "--lang", "c"]);
    fails_naming(&out, "exist");
    assert_eq!(
        std::fs::read_dir(parent.path().join("taken"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn build_names_the_missing_toolchain() {
    let parent = tempfile::tempdir().unwrap();
    succeeds(&pappus(parent.path(), &["new", "lonely", "--lang", "c"]));
    let empty = tempfile::tempdir().unwrap();
    let path = empty.path().to_str().unwrap();
    let out = pappus_with(&parent.path().join("lonely"), &["build"], &[("PATH", path)]);
    fails_naming(&out, "clang");
    fails_naming(&out, "wasm-ld");
    // Outside a project, build says so.
    let out = pappus(parent.path(), &["build"]);
    fails_naming(&out, "pappus.toml");
}

/// A running `pappus serve` with two tenants; killed when dropped.
struct Daemon {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

const ALPHA: &str = "alpha-secret-token";
const BETA: &str = "beta-secret-token";

impl Daemon {
    fn start() -> Daemon {
        let dir = tempfile::tempdir().unwrap();
        let tokens = dir.path().join("tokens.toml");
        std::fs::write(
            &tokens,
            format!("[tokens]\n\"{ALPHA}\" = \"alpha\"\n\"{BETA}\" = \"beta\"\n"),
        )
        .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_pappus"))
            .args(["serve", "--listen", "127.0.0.1:0", "--logs-per-tenant", "8"])
            .arg("--tokens")
            .arg(&tokens)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn pappus serve");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("listening on ") {
                    let _ = tx.send(addr.trim().to_string());
                }
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                panic!("pappus serve did not print its address");
            }
        };
        Daemon {
            child,
            url: format!("http://{addr}"),
            _dir: dir,
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn rust_sdk_project_from_new_to_deployed_with_logs() {
    let parent = tempfile::tempdir().unwrap();
    let project = new_and_build(parent.path(), "hello", "rust-sdk");
    // The SDK is in the project, not referred to by a path outside it.
    assert!(project.join("vendor/pappus-guest/src/lib.rs").is_file());

    // Runs as generated.
    let run = succeeds(&pappus(
        &project,
        &["run", "app.pap", "--input", "Input=world"],
    ));
    assert_eq!(only_output(&run), "Hello, world!");

    let daemon = Daemon::start();
    let url = daemon.url.as_str();
    let alpha = ["--url", url, "--token", ALPHA];
    let with = |args: &[&str], remote: &[&str]| -> Vec<String> {
        args.iter().chain(remote).map(|s| s.to_string()).collect()
    };
    let call = |dir: &Path, args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        pappus(dir, &args)
    };

    // Deploy, twice: the second changes nothing and succeeds.
    let first = succeeds(&call(&project, with(&["deploy"], &alpha)));
    assert!(first.contains("function hello"), "{first}");
    assert!(first.contains("memory 64 MiB"), "{first}");
    assert!(
        first.contains("compositions from app.pap: Hello"),
        "{first}"
    );
    let ls_once = succeeds(&call(&project, with(&["ls"], &alpha)));
    let second = succeeds(&call(&project, with(&["deploy", "."], &alpha)));
    assert_eq!(first, second);
    let ls_twice = succeeds(&call(&project, with(&["ls"], &alpha)));
    assert_eq!(ls_once, ls_twice);
    assert!(
        ls_once.contains("hello") && ls_once.contains("Hello (Input) => (Output)"),
        "{ls_once}"
    );

    // Invoke prints exactly what run printed; PAPPUS_URL/PAPPUS_TOKEN stand for the flags.
    let out_dir = parent.path().join("out");
    let invoked = succeeds(&pappus_with(
        parent.path(),
        &[
            "invoke",
            "Hello",
            "--input",
            "Input=world",
            "--out-dir",
            out_dir.to_str().unwrap(),
        ],
        &[("PAPPUS_URL", url), ("PAPPUS_TOKEN", ALPHA)],
    ));
    assert_eq!(invoked, run);
    let files: Vec<_> = std::fs::read_dir(out_dir.join("Output")).unwrap().collect();
    assert_eq!(files.len(), 1);

    // Another tenant sees nothing of alpha's.
    let beta = ["--url", url, "--token", BETA];
    let out = call(
        parent.path(),
        with(&["invoke", "Hello", "-i", "Input=x"], &beta),
    );
    fails_naming(&out, "unknown_composition");

    // A failing function: the error reaches the user and `pappus logs`.
    let crash = parent.path().join("crash");
    std::fs::create_dir(&crash).unwrap();
    std::fs::write(
        crash.join("pappus.toml"),
        format!(
            "[functions]\ntrap = {:?}\n",
            wasm_path("trap").to_str().unwrap()
        ),
    )
    .unwrap();
    std::fs::write(
        crash.join("crash.pap"),
        "function trap (in) => (out);\ncomposition Crash (A) => (B) { trap (in = each A) => (B = out); }\n",
    )
    .unwrap();
    succeeds(&call(&crash, with(&["deploy"], &alpha)));
    let out = call(
        parent.path(),
        with(
            &["invoke", "Crash", "--input", "A=@crash/crash.pap"],
            &alpha,
        ),
    );
    fails_naming(&out, "failure");
    let logs = succeeds(&call(parent.path(), with(&["logs"], &alpha)));
    let lines: Vec<&str> = logs.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Hello") && l.contains(" ok ")),
        "{logs}"
    );
    let crash_line = lines
        .iter()
        .position(|l| l.contains("Crash") && l.contains("failure"))
        .unwrap_or_else(|| panic!("no failed Crash in: {logs}"));
    assert!(lines[crash_line].contains("shard"), "{logs}");
    assert!(lines[crash_line + 1].contains("trap"), "{logs}");
    let json_logs = succeeds(&call(
        parent.path(),
        with(&["logs", "--json", "-c", "Crash", "-n", "1"], &alpha),
    ));
    let value: serde_json::Value = serde_json::from_str(&json_logs).unwrap();
    let entries = value["invocations"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{json_logs}");
    assert_eq!(entries[0]["error"]["failure"], "trap");
    assert!(
        entries[0]["error"]["shard"]
            .as_str()
            .unwrap()
            .contains("crash.pap"),
        "{json_logs}"
    );
    // Beta's log holds only beta's failed invocation, none of alpha's.
    let beta_logs = succeeds(&call(parent.path(), with(&["logs", "--json"], &beta)));
    assert!(
        !beta_logs.contains("Crash") && beta_logs.contains("unknown_composition"),
        "{beta_logs}"
    );

    // rm: compositions before functions, whatever the order given.
    let out = succeeds(&call(parent.path(), with(&["rm", "trap", "Crash"], &alpha)));
    assert!(
        out.contains("deleted composition Crash") && out.contains("deleted function trap"),
        "{out}"
    );
    let out = call(parent.path(), with(&["rm", "Crash"], &alpha));
    fails_naming(&out, "no function or composition named `Crash`");
    let ls = succeeds(&call(parent.path(), with(&["ls", "--json"], &alpha)));
    assert!(
        !ls.contains("Crash") && !ls.contains("\"trap\"") && ls.contains("Hello"),
        "{ls}"
    );

    // Wrong token and wrong URL: non-zero, with the daemon's error or the cause.
    let out = call(
        &project,
        with(&["deploy"], &["--url", url, "--token", "wrong"]),
    );
    fails_naming(&out, "403 (forbidden)");
    let out = call(&project, with(&["deploy"], &["--url", url]));
    fails_naming(&out, "401 (unauthorized)");
    let closed = format!("http://127.0.0.1:{}", free_port());
    let out = call(
        &project,
        with(&["deploy"], &["--url", &closed, "--token", ALPHA]),
    );
    fails_naming(&out, "cannot reach the daemon");

    let out = succeeds(&call(parent.path(), with(&["rm", "--all"], &alpha)));
    assert!(out.contains("Hello") && out.contains("hello"), "{out}");
}
