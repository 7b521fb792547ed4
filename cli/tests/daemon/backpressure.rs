//! A burst beyond the queue bound: the excess gets `429` with `Retry-After` at
//! once, and every admitted invocation still completes with its own answer.

use std::thread;

use serde_json::json;

use crate::support::{register, register_stuck, request, start_stuck, Daemon};
use crate::SHOUT;

#[test]
fn burst_beyond_the_queue_bound_gets_429_and_admitted_work_completes() {
    let dir = tempfile::tempdir().expect("tempdir");
    // One invocation runs at a time and two may wait.
    let daemon = Daemon::start(
        dir.path(),
        &[
            "--max-in-flight",
            "1",
            "--queue-bound",
            "2",
            "--compute-threads",
            "1",
        ],
    );
    register_stuck(&daemon, 1500);
    register(&daemon, "upper", "");
    daemon.put("/v1/compositions", SHOUT.as_bytes()).expect(201);

    // Occupy the only execution slot with a stuck function (its deadline will fire).
    let stuck = start_stuck(&daemon);
    let addr = daemon.addr;

    // A burst of eight while it runs: two wait in the queue, six are refused at once.
    let burst: Vec<_> = (0..8)
        .map(|i| {
            thread::spawn(move || {
                let body =
                    format!(r#"{{"Text": [{{"name": "n{i}", "key": {i}, "data": "item {i}"}}]}}"#);
                (
                    i,
                    request(
                        addr,
                        "POST",
                        "/v1/compositions/Shout/invoke",
                        &[],
                        body.as_bytes(),
                    ),
                )
            })
        })
        .collect();
    let answers: Vec<_> = burst
        .into_iter()
        .map(|t| t.join().expect("burst thread"))
        .collect();

    let mut accepted = 0;
    let mut refused = 0;
    for (i, answer) in &answers {
        match answer.status {
            200 => {
                accepted += 1;
                assert_eq!(
                    answer.json(),
                    json!({ "Loud": [{ "name": format!("n{i}"), "key": i, "data": format!("ITEM {i}") }] })
                );
            }
            429 => {
                refused += 1;
                assert_eq!(answer.error_kind(), "overloaded");
                assert_eq!(answer.header("retry-after"), Some("1"));
            }
            other => panic!("unexpected status {other}: {}", answer.text()),
        }
    }
    assert_eq!((accepted, refused), (2, 6), "{answers:?}");

    let stuck = stuck.join().expect("stuck thread");
    stuck.expect(422);
    assert_eq!(stuck.json()["error"]["detail"]["failure"], "timeout");

    let metrics = daemon.get("/metrics").text();
    assert!(
        metrics.contains("pappus_invocations_total{tenant=\"default\",composition=\"Shout\",outcome=\"overloaded\"} 6"),
        "{metrics}"
    );
    assert!(metrics.contains(
        "pappus_invocations_total{tenant=\"default\",composition=\"Shout\",outcome=\"ok\"} 2"
    ));
}
