//! WASI functions behind the daemon: argv and environment from the
//! registration only, the seed and time reported in every answer's headers
//! (and a failure's detail) and in the log line, and replayed from `?seed=` and
//! `?time=`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::Daemon;

/// The probe program (`tests/guests/probe.c`) compiled for WASI into `dir`.
fn probe(dir: &Path) -> Vec<u8> {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guests/probe.c");
    let module: PathBuf = dir.join("probe.wasm");
    let out = Command::new("clang")
        .args(["--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-o"])
        .arg(&module)
        .arg(&source)
        .output()
        .expect("cannot run clang (run ./setup.sh)");
    assert!(
        out.status.success(),
        "clang: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(&module).expect("probe.wasm")
}

const PROBE: &str = "\
function probe (stdin) => (stdout);
function failing (stdin) => (stdout);
composition Probe (In) => (Out) { probe (stdin = each In) => (Out = stdout); }
composition Fail (In) => (Out) { failing (stdin = each In) => (Out = stdout); }
";

const INPUT: &str = r#"{"In": [{"name": "x", "data": "hi"}]}"#;

fn seed_and_time(answer: &crate::support::Response) -> (String, String) {
    (
        answer
            .header("pappus-seed")
            .expect("pappus-seed")
            .to_owned(),
        answer
            .header("pappus-time")
            .expect("pappus-time")
            .to_owned(),
    )
}

#[test]
fn wasi_functions_get_registered_args_and_env_and_report_seed_and_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let module = probe(dir.path());
    let daemon = Daemon::start_with_env(
        dir.path(),
        &[],
        &[
            ("PAPPUS_LEAK_CHECK", "leaked"),
            ("GREETING", "from the daemon"),
        ],
    );
    let registered = daemon.put(
        "/v1/functions/probe?arg=one&arg=two%20words&env=GREETING%3Dhello&timeout_ms=2000",
        &module,
    );
    registered.expect(201);
    let body = registered.json();
    assert_eq!(body["args"], serde_json::json!(["one", "two words"]));
    assert_eq!(body["env"]["GREETING"], "hello");
    daemon
        .put("/v1/functions/failing?arg=fail", &module)
        .expect(201);
    daemon.put("/v1/compositions", PROBE.as_bytes()).expect(201);
    daemon
        .put("/v1/functions/probe?env=NOEQUALS", &module)
        .expect(400);
    assert_eq!(
        daemon.get("/v1/functions/probe").json()["args"],
        serde_json::json!(["one", "two words"])
    );

    // Replay parameters: the guest sees them, the headers report them.
    let first = daemon.post_json(
        "/v1/compositions/Probe/invoke?seed=5&time=1700000000",
        INPUT,
    );
    first.expect(200);
    assert_eq!(
        seed_and_time(&first),
        ("5".to_owned(), "1700000000".to_owned())
    );
    let out = first.json()["Out"][0]["data"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(out.contains("time 1700000000\n"), "{out}");
    for line in [
        "arg probe",
        "arg one",
        "arg two words",
        "env GREETING=hello",
    ] {
        assert!(out.contains(&format!("{line}\n")), "{line}: {out}");
    }
    assert!(!out.contains("leaked"), "{out}");
    assert!(!out.contains("from the daemon"), "{out}");
    let again = daemon.post_json(
        "/v1/compositions/Probe/invoke?seed=5&time=1700000000",
        INPUT,
    );
    assert_eq!(first.body, again.body);
    let other = daemon.post_json(
        "/v1/compositions/Probe/invoke?seed=6&time=1700000000",
        INPUT,
    );
    assert_ne!(first.body, other.body);

    // Fresh values are reported and replay the call.
    let fresh = daemon.post_json("/v1/compositions/Probe/invoke", INPUT);
    fresh.expect(200);
    let (seed, time) = seed_and_time(&fresh);
    let replayed = daemon.post_json(
        &format!("/v1/compositions/Probe/invoke?seed={seed}&time={time}"),
        INPUT,
    );
    assert_eq!(fresh.body, replayed.body);
    daemon.log_when(|log| log.contains(&format!("seed={seed}")));

    // A failure reports them too: headers, detail and log line.
    let failed = daemon.post_json("/v1/compositions/Fail/invoke?seed=7&time=1234", INPUT);
    failed.expect(422);
    assert_eq!(seed_and_time(&failed), ("7".to_owned(), "1234".to_owned()));
    let detail = &failed.json()["error"]["detail"];
    assert_eq!(
        (detail["seed"].as_u64(), detail["time"].as_u64()),
        (Some(7), Some(1234))
    );
    assert_eq!(detail["failure"], "exit");
    assert!(
        detail["cause"]
            .as_str()
            .unwrap_or_default()
            .contains("failing on purpose"),
        "{detail}"
    );
    daemon.log_when(|log| log.contains("seed=7") && log.contains("time=1234"));
    // A bad seed is a bad query.
    daemon
        .post_json("/v1/compositions/Probe/invoke?seed=x", INPUT)
        .expect(400);
}
