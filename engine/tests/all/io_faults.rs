//! Storage faults, tried for real through the engine: each fails the fetching
//! shard with an error that names the URI and the cause, and the engine goes on
//! serving the next invocation.

use std::time::Duration;

use pappus_engine::{Engine, Error};

use crate::support::*;

/// Asserts `uri` fails with `kind`, the cause naming the URI, then that the
/// same engine still serves a good fetch.
fn fails_then_serves(engine: &Engine, uri: &str, kind: &str, good: &str) {
    match load(engine, uri) {
        Err(Error::Failure {
            application,
            cause,
            kind: got,
            ..
        }) => {
            assert_eq!(got, kind, "{uri}: {cause}");
            assert_eq!(application, "#1 `fetch` => (Objects)");
            assert!(cause.contains(uri.trim()), "{cause} does not name {uri}");
        }
        other => panic!("{uri}: expected a {kind} failure, got {other:?}"),
    }
    assert_eq!(load(engine, good).unwrap(), ["u@7=GOOD"], "after {uri}");
}

fn engine_for_faults() -> Engine {
    let engine = io_engine(|io| {
        io.timeout(Duration::from_millis(600))
            .retries(1)
            .max_object_bytes(1024);
    });
    engine
        .register_compositions(&format!("{DECLS}\n{LOAD}"))
        .unwrap();
    engine
}

#[test]
fn every_fault_is_named_and_the_engine_keeps_serving() {
    let engine = engine_for_faults();
    // Two servers: faults are provoked on one, the other serves the good file.
    let healthy = pappus_testkit::nginx();
    pappus_testkit::put_file(&healthy.root, "good.txt", b"good");
    let good = format!("{}/good.txt", healthy.url());
    let mut nginx = pappus_testkit::nginx();
    pappus_testkit::put_file(&nginx.root, "big.bin", &pappus_testkit::pattern(4096));

    fails_then_serves(
        &engine,
        &format!("{}/missing.txt", nginx.url()),
        "status",
        &good,
    );
    fails_then_serves(
        &engine,
        &format!("{}/status/500", nginx.url()),
        "status",
        &good,
    );
    fails_then_serves(
        &engine,
        &format!("{}/big.bin", nginx.url()),
        "too_large",
        &good,
    );
    let big_file = pappus_testkit::file_uri(&nginx.root.join("big.bin"));
    fails_then_serves(&engine, &big_file, "too_large", &good);
    fails_then_serves(
        &engine,
        "ftp://127.0.0.1/x.txt",
        "unsupported_scheme",
        &good,
    );
    fails_then_serves(&engine, "s3://bucket/key", "not_configured", &good);

    let stall = pappus_testkit::stalling_server();
    fails_then_serves(
        &engine,
        &format!("http://{stall}/slow.txt"),
        "timeout",
        &good,
    );
    let cut = pappus_testkit::truncating_server(100, b"only this");
    fails_then_serves(&engine, &format!("http://{cut}/cut.txt"), "protocol", &good);

    // The server goes down: connection refused, after the retry.
    let down = format!("{}/big.bin", nginx.url());
    nginx.stop();
    fails_then_serves(&engine, &down, "connect", &good);

    assert_eq!(engine.metrics().in_flight, 0);
}

#[test]
fn a_failed_fetch_cancels_only_its_own_invocation() {
    let engine = engine_for_faults();
    let nginx = pappus_testkit::nginx();
    pappus_testkit::put_file(&nginx.root, "good.txt", b"good");
    let stall = pappus_testkit::stalling_server();
    let slow = format!("http://{stall}/slow.txt");
    let good = format!("{}/good.txt", nginx.url());
    // One invocation stalls until its deadline while others complete.
    let stalled = engine.invoke_async("Load", sets(&[("Uris", vec![item("u", 7, &slow)])]));
    for _ in 0..20 {
        assert_eq!(load(&engine, &good).unwrap(), ["u@7=GOOD"]);
    }
    let err = futures_executor::block_on(stalled).unwrap_err();
    assert!(err.to_string().contains(&slow), "{err}");
}

#[test]
fn http_answers_non_2xx_as_data() {
    let engine = io_engine(|_| {});
    let text = "composition Ask (Requests) => (Answers) {
        http (request = each Requests) => (Answers = response);
    }";
    engine
        .register_compositions(&format!("{DECLS}\n{text}"))
        .unwrap();
    let nginx = pappus_testkit::nginx();
    let request = |path: &str| format!("GET {}{path} HTTP/1.1\r\n\r\n", nginx.url());
    let answer = engine
        .invoke(
            "Ask",
            sets(&[(
                "Requests",
                vec![
                    item("missing", 1, &request("/nothing-here")),
                    item("broken", 2, &request("/status/500")),
                ],
            )]),
        )
        .unwrap();
    let answers = &answer.outputs["Answers"];
    assert_eq!(answers.len(), 2);
    for (name, status) in [("missing", "404"), ("broken", "500")] {
        let found = answers.iter().find(|i| i.name == name).unwrap();
        let head = String::from_utf8_lossy(&found.data);
        assert!(head.starts_with(&format!("HTTP/1.1 {status}")), "{head}");
    }
}
