//! Restarts and shutdown: registrations survive a clean restart and `kill -9`;
//! SIGTERM drains (503 for new requests, in-flight work finishes) and exits 0.

use std::time::Duration;

use serde_json::json;

use crate::support::{register, register_stuck, start_stuck, wait_for_metric, Daemon};
use crate::SHOUT;

const INPUT: &str = r#"{"Text": [{"data": "persist"}]}"#;

fn shout_works(daemon: &Daemon) {
    let answer = daemon.post_json("/v1/compositions/Shout/invoke", INPUT);
    answer.expect(200);
    assert_eq!(
        answer.json(),
        json!({ "Loud": [{ "name": "", "key": 0, "data": "PERSIST" }] })
    );
}

#[test]
fn registrations_survive_a_clean_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(dir.path(), &[]);
    register(&daemon, "upper", "?memory_mib=8&timeout_ms=1234");
    daemon.put("/v1/compositions", SHOUT.as_bytes()).expect(201);
    shout_works(&daemon);
    daemon.sigterm();
    assert!(daemon.wait_exit(Duration::from_secs(30)).success());

    let daemon = Daemon::start(dir.path(), &[]);
    let info = daemon.get("/v1/functions/upper");
    info.expect(200);
    assert_eq!(info.json()["limits"]["timeout_ms"], 1234);
    assert_eq!(info.json()["limits"]["memory_bytes"], 8 << 20);
    daemon.get("/v1/compositions/Shout").expect(200);
    shout_works(&daemon);
}

#[test]
fn acknowledged_registrations_survive_kill_9() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(dir.path(), &[]);
    register(&daemon, "upper", "");
    daemon.put("/v1/compositions", SHOUT.as_bytes()).expect(201);
    // SIGKILL right after the acknowledgement: no chance to flush anything more.
    daemon.kill9();

    let daemon = Daemon::start(dir.path(), &[]);
    shout_works(&daemon);
    // A delete is durable too.
    daemon.delete("/v1/compositions/Shout").expect(204);
    daemon.kill9();
    let daemon = Daemon::start(dir.path(), &[]);
    daemon.get("/v1/compositions/Shout").expect(404);
    daemon.get("/v1/functions/upper").expect(200);
}

#[test]
fn sigterm_drains_answers_503_and_exits_0() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(dir.path(), &["--drain-timeout-ms", "20000"]);
    register_stuck(&daemon, 1500);
    register(&daemon, "upper", "");
    daemon.put("/v1/compositions", SHOUT.as_bytes()).expect(201);

    let in_flight = start_stuck(&daemon);
    daemon.sigterm();
    wait_for_metric(&daemon, "pappus_draining 1");

    // New work is refused while the in-flight invocation finishes.
    let refused = daemon.post_json("/v1/compositions/Shout/invoke", INPUT);
    refused.expect(503);
    assert_eq!(refused.error_kind(), "draining");
    assert_eq!(refused.header("retry-after"), Some("1"));
    daemon.get("/healthz").expect(503);

    // The in-flight invocation ran to its end (its deadline) and was answered.
    let answer = in_flight.join().expect("in-flight thread");
    answer.expect(422);
    assert_eq!(answer.json()["error"]["detail"]["failure"], "timeout");

    let status = daemon.wait_exit(Duration::from_secs(30));
    assert_eq!(status.code(), Some(0), "{status:?}");
}
