//! The happy paths: register, invoke (JSON and raw), list, get, delete.

use std::process::Command;

use serde_json::json;

use crate::support::{register, wasm_path, Daemon};
use crate::SHOUT;

#[test]
fn register_invoke_list_get_delete() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(dir.path(), &[]);

    let put = daemon.put(
        "/v1/functions/upper?memory_mib=16&timeout_ms=2000",
        &crate::support::wasm("upper"),
    );
    put.expect(201);
    assert_eq!(put.header("location"), Some("/v1/functions/upper"));
    let info = put.json();
    assert_eq!(info["name"], "upper");
    assert_eq!(info["limits"]["memory_bytes"], 16 << 20);
    assert_eq!(info["limits"]["timeout_ms"], 2000);

    let put = daemon.put("/v1/compositions", SHOUT.as_bytes());
    put.expect(201);
    assert_eq!(
        put.json(),
        json!({ "compositions": ["Shout"], "warnings": [] })
    );

    // Lists and members.
    let functions = daemon.get("/v1/functions");
    functions.expect(200);
    assert_eq!(functions.json()["functions"][0]["name"], "upper");
    assert_eq!(
        functions.json()["functions"].as_array().map(Vec::len),
        Some(1)
    );
    daemon.get("/v1/functions/upper").expect(200);
    let compositions = daemon.get("/v1/compositions");
    compositions.expect(200);
    assert_eq!(
        compositions.json(),
        json!({ "compositions": [{ "name": "Shout", "inputs": ["Text"], "outputs": ["Loud"] }] })
    );
    let one = daemon.get("/v1/compositions/Shout");
    one.expect(200);
    assert!(one.json()["source"]
        .as_str()
        .unwrap_or("")
        .contains("composition Shout"));

    // JSON invocation: the outputs in the engine's schema, sorted.
    let inputs = r#"{"Text": [{"name": "b", "key": 2, "data": "world"}, {"name": "a", "key": 1, "data": "hello"}]}"#;
    let answer = daemon.post_json("/v1/compositions/Shout/invoke", inputs);
    answer.expect(200);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(
        answer.json(),
        json!({ "Loud": [
            { "name": "a", "key": 1, "data": "HELLO" },
            { "name": "b", "key": 2, "data": "WORLD" },
        ]})
    );

    // Exactly what `pappus run` prints for the same file and inputs.
    let file = dir.path().join("shout.pap");
    std::fs::write(&file, SHOUT).expect("write composition");
    let inputs_file = dir.path().join("inputs.json");
    std::fs::write(&inputs_file, inputs).expect("write inputs");
    let run = Command::new(crate::pappus_binary())
        .arg("run")
        .arg(&file)
        .arg("--function")
        .arg(format!("upper={}", wasm_path("upper").display()))
        .arg("--inputs")
        .arg(&inputs_file)
        .output()
        .expect("run pappus run");
    assert!(
        run.status.success(),
        "pappus run failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(answer.text(), String::from_utf8_lossy(&run.stdout));

    // Raw invocation: the body is one item; one output item comes back raw.
    let raw = daemon.request(
        "POST",
        "/v1/compositions/Shout/invoke?set=Text&name=greeting&key=7",
        &[("content-type", "application/octet-stream")],
        b"raw \xffbytes",
    );
    raw.expect(200);
    assert_eq!(raw.header("content-type"), Some("application/octet-stream"));
    assert_eq!(raw.body, b"RAW \xffBYTES");
    assert_eq!(raw.header("x-pappus-set"), Some("Loud"));
    assert_eq!(raw.header("x-pappus-item-name"), Some("greeting"));
    assert_eq!(raw.header("x-pappus-item-key"), Some("7"));
    // ... unless JSON is asked for.
    let raw_json = daemon.request(
        "POST",
        "/v1/compositions/Shout/invoke?set=Text",
        &[
            ("content-type", "application/octet-stream"),
            ("accept", "application/json"),
        ],
        b"x",
    );
    raw_json.expect(200);
    assert_eq!(
        raw_json.json(),
        json!({ "Loud": [{ "name": "", "key": 0, "data": "X" }] })
    );

    // Health and metrics reflect the work.
    daemon.get("/healthz").expect(200);
    let metrics = daemon.get("/metrics");
    metrics.expect(200);
    let text = metrics.text();
    assert!(
        text.contains(
            "pappus_invocations_total{tenant=\"default\",composition=\"Shout\",outcome=\"ok\"} 3"
        ),
        "{text}"
    );
    assert!(text.contains(
        "pappus_invocation_duration_seconds_count{tenant=\"default\",composition=\"Shout\"} 3"
    ));
    assert!(text.contains("pappus_invocation_phase_seconds_count{phase=\"compute\"} 3"));
    assert!(text
        .lines()
        .any(|l| l.starts_with("pappus_sandboxes_created_total ")
            && l != "pappus_sandboxes_created_total 0"));
    assert!(text.contains("# TYPE pappus_queue_depth gauge"));
    assert!(text.contains("pappus_io_bytes_fetched_total "));
    assert!(text.contains("pappus_io_bytes_stored_total "));

    // The log has one line per invocation with its timings.
    let timed = |l: &&str| l.contains("invocation") && l.contains("compute_us");
    let log = daemon.log_when(|log| log.lines().filter(timed).count() >= 3);
    let lines: Vec<&str> = log.lines().filter(timed).collect();
    assert_eq!(lines.len(), 3, "{log}");
    for phase in [
        "queued_us",
        "fetching_us",
        "sandbox_us",
        "compute_us",
        "storing_us",
    ] {
        assert!(lines[0].contains(phase), "{}", lines[0]);
    }

    // Delete members, then they are gone.
    daemon.delete("/v1/compositions/Shout").expect(204);
    daemon.get("/v1/compositions/Shout").expect(404);
    daemon.delete("/v1/functions/upper").expect(204);
    daemon.get("/v1/functions/upper").expect(404);
    assert_eq!(
        daemon.get("/v1/functions").json(),
        json!({ "functions": [] })
    );
}

#[test]
fn delete_collections() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(dir.path(), &[]);
    register(&daemon, "upper", "");
    register(&daemon, "identity", "");
    daemon.put("/v1/compositions", SHOUT.as_bytes()).expect(201);

    // `upper` is in use: the bulk delete removes what it can and says what is left.
    let partial = daemon.delete("/v1/functions");
    partial.expect(409);
    assert_eq!(
        partial.json()["error"]["detail"]["deleted"],
        json!(["identity"])
    );
    assert_eq!(
        partial.json()["error"]["detail"]["kept"][0]["name"],
        "upper"
    );

    let compositions = daemon.delete("/v1/compositions");
    compositions.expect(200);
    assert_eq!(compositions.json(), json!({ "deleted": ["Shout"] }));
    daemon.delete("/v1/functions").expect(200);
    assert_eq!(
        daemon.get("/v1/functions").json(),
        json!({ "functions": [] })
    );
    assert_eq!(
        daemon.get("/v1/compositions").json(),
        json!({ "compositions": [] })
    );
}

#[test]
fn raw_invocation_with_several_output_items_answers_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(dir.path(), &[]);
    register(&daemon, "split_words", "");
    daemon
        .put(
            "/v1/compositions",
            b"function split_words (text) => (words);
composition Words (Doc) => (W) {
    split_words (text = each Doc) => (W = words);
}
",
        )
        .expect(201);
    let answer = daemon.request(
        "POST",
        "/v1/compositions/Words/invoke?set=Doc",
        &[("content-type", "application/octet-stream")],
        b"to be",
    );
    answer.expect(200);
    assert_eq!(
        answer.json(),
        json!({ "W": [{ "name": "be", "key": 2, "data": "be" }, { "name": "to", "key": 2, "data": "to" }] })
    );
}
