//! Operator caps on what a registration or an invocation may ask for: a deadline
//! or memory limit above the cap is refused with 400 naming it; compositions that
//! nest too deeply or shard too much are refused with their own kinds; damaged
//! records are skipped at start and counted in `/metrics`; the cache key is
//! private.

use std::os::unix::fs::PermissionsExt as _;

use crate::support::{register, Daemon};
use crate::SHOUT;

#[test]
fn deadline_and_memory_above_the_caps_are_refused_naming_the_cap() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(
        dir.path(),
        &[
            "--max-timeout-ms",
            "2000",
            "--max-memory-mib",
            "32",
            "--function-timeout-ms",
            "1000",
            "--function-memory-mib",
            "16",
        ],
    );
    let answer = daemon.put(
        "/v1/functions/upper?timeout_ms=2001",
        &crate::support::wasm("upper"),
    );
    answer.expect(400);
    assert_eq!(answer.error_kind(), "invalid_limits");
    let json = answer.json();
    assert_eq!(json["error"]["detail"]["limit"], "max_timeout_ms", "{json}");
    assert_eq!(json["error"]["detail"]["max"], 2000, "{json}");
    let message = json["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("max_timeout_ms"), "{message}");

    let answer = daemon.put(
        "/v1/functions/upper?memory_mib=33",
        &crate::support::wasm("upper"),
    );
    answer.expect(400);
    let json = answer.json();
    assert_eq!(json["error"]["detail"]["limit"], "max_memory_mib", "{json}");
    // At the caps is fine, and nothing was registered by the refusals.
    daemon.get("/v1/functions/upper").expect(404);
    register(&daemon, "upper", "?timeout_ms=2000&memory_mib=32");
}

#[test]
fn default_deadline_above_the_cap_stops_the_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let status = std::process::Command::new(crate::pappus_binary())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--max-timeout-ms",
            "100",
        ])
        .arg("--data-dir")
        .arg(dir.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run pappus");
    assert!(!status.success());
}

#[test]
fn shard_and_nesting_bounds_answer_with_their_kinds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(
        dir.path(),
        &[
            "--max-shards-per-application",
            "2",
            "--max-nesting-depth",
            "1",
        ],
    );
    register(&daemon, "upper", "");
    daemon.put("/v1/compositions", SHOUT.as_bytes()).expect(201);
    let answer = daemon.post_json(
        "/v1/compositions/Shout/invoke",
        r#"{"Text": [{"name": "a", "data": "x"}, {"name": "b", "data": "y"}, {"name": "c", "data": "z"}]}"#,
    );
    answer.expect(422);
    assert_eq!(answer.error_kind(), "too_many_shards");
    let json = answer.json();
    assert_eq!(json["error"]["detail"]["composition"], "Shout", "{json}");
    daemon
        .post_json(
            "/v1/compositions/Shout/invoke",
            r#"{"Text": [{"name": "a", "data": "x"}]}"#,
        )
        .expect(200);
    let nested = "composition Outer (Text) => (Loud) { Shout (Text = all Text) => (Loud = Loud); }";
    let answer = daemon.put("/v1/compositions", nested.as_bytes());
    answer.expect(400);
    assert_eq!(answer.error_kind(), "nesting_too_deep");
    assert_eq!(
        answer.json()["error"]["detail"]["chain"],
        serde_json::json!(["Outer", "Shout"])
    );
}

#[test]
fn damaged_record_is_skipped_at_start_and_counted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(dir.path(), &[]);
    register(&daemon, "upper", "");
    register(&daemon, "identity", "");
    daemon.put("/v1/compositions", SHOUT.as_bytes()).expect(201);
    daemon.kill9();
    let data = dir.path().join("data");
    let key = std::fs::metadata(data.join("cache.key")).expect("cache key");
    assert_eq!(key.permissions().mode() & 0o777, 0o600);
    assert_eq!(key.len(), 32);
    std::fs::write(
        data.join("tenants/default/functions/identity.json"),
        b"{\"memory_bytes\": 1",
    )
    .expect("corrupt");
    let daemon = Daemon::start(dir.path(), &[]);
    let metrics = daemon.get("/metrics").text();
    assert!(
        metrics.contains("pappus_registry_records_skipped_total 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("pappus_code_cache_rejected_total 0\n"),
        "{metrics}"
    );
    daemon.get("/v1/functions/identity").expect(404);
    daemon
        .post_json(
            "/v1/compositions/Shout/invoke",
            r#"{"Text": [{"name": "a", "data": "x"}]}"#,
        )
        .expect(200);
}
