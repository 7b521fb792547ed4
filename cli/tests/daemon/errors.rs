//! Every error status, triggered for real, with the JSON error shape.

use crate::support::{register, register_stuck, wasm, Daemon};
use crate::SHOUT;

#[test]
fn invalid_module_is_400_naming_the_import() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(dir.path(), &[]);
    let answer = daemon.put(
        "/v1/functions/imports_something",
        &wasm("imports_something"),
    );
    answer.expect(400);
    assert_eq!(answer.error_kind(), "invalid_module");
    let message = answer.json()["error"]["message"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    assert!(message.contains("host_function"), "{message}");
    // Not a module at all.
    let junk = daemon.put("/v1/functions/junk", b"not wasm");
    junk.expect(400);
    assert_eq!(junk.error_kind(), "invalid_module");
    // Bad limits and names.
    daemon
        .put("/v1/functions/upper?memory_mib=0", &wasm("upper"))
        .expect(400);
    daemon
        .put("/v1/functions/upper?bogus=1", &wasm("upper"))
        .expect(400);
    daemon
        .put("/v1/functions/bad-name", &wasm("upper"))
        .expect(400);
    daemon.get("/v1/functions").expect(200);
}

#[test]
fn bad_composition_is_400_with_every_diagnostic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(dir.path(), &[]);
    register(&daemon, "upper", "");
    let text = "\
function upper (in) => (out);
composition A (X) => (Y) {
    nowhere (in = each X) => (Y = out);
}
composition B (X) => (Y) {
    upper (in = each Missing) => (Y = out);
}
";
    let answer = daemon.put("/v1/compositions", text.as_bytes());
    answer.expect(400);
    assert_eq!(answer.error_kind(), "diagnostics");
    let json = answer.json();
    let diagnostics = json["error"]["detail"]["diagnostics"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(diagnostics.len() >= 2, "{json}");
    assert_eq!(diagnostics[0]["line"], 3, "{json}");
    assert!(diagnostics[0]["column"].as_u64().unwrap_or(0) >= 1);
    assert!(
        diagnostics[0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("nowhere"),
        "{json}"
    );
    assert!(diagnostics.iter().any(|d| d["line"] == 6), "{json}");
    // A syntax error, and text that is not UTF-8.
    daemon.put("/v1/compositions", b"composition (").expect(400);
    daemon.put("/v1/compositions", b"\xff\xfe").expect(400);
    // Nothing was registered.
    assert_eq!(
        daemon.get("/v1/compositions").json()["compositions"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );
}

#[test]
fn bad_inputs_are_400() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(dir.path(), &[]);
    register(&daemon, "upper", "");
    daemon.put("/v1/compositions", SHOUT.as_bytes()).expect(201);
    let path = "/v1/compositions/Shout/invoke";
    for body in [
        "{not json",
        r#"{"Text": 3}"#,
        r#"{"Nope": []}"#,
        r#"{"Text": [{"data_base64": "%%"}]}"#,
    ] {
        let answer = daemon.post_json(path, body);
        answer.expect(400);
        assert_eq!(answer.error_kind(), "invalid_input", "{body}");
    }
    // A raw body needs ?set=, and ?set= needs a raw body.
    daemon
        .request(
            "POST",
            path,
            &[("content-type", "application/octet-stream")],
            b"x",
        )
        .expect(400);
    daemon
        .request(
            "POST",
            &format!("{path}?set=Text"),
            &[("content-type", "application/json")],
            b"{}",
        )
        .expect(400);
    daemon.post_json(&format!("{path}?key=x"), "{}").expect(400);
}

#[test]
fn unknown_names_and_routes_are_404() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(dir.path(), &[]);
    let answer = daemon.post_json("/v1/compositions/Nope/invoke", "{}");
    answer.expect(404);
    assert_eq!(answer.error_kind(), "unknown_composition");
    daemon.get("/v1/functions/nope").expect(404);
    daemon.delete("/v1/functions/nope").expect(404);
    daemon.get("/v1/compositions/Nope").expect(404);
    daemon.delete("/v1/compositions/Nope").expect(404);
    let route = daemon.get("/v2/anything");
    route.expect(404);
    assert_eq!(route.error_kind(), "no_route");
    let method = daemon.request("PATCH", "/v1/functions", &[], b"");
    method.expect(405);
    assert_eq!(method.error_kind(), "method_not_allowed");
}

#[test]
fn deleting_a_function_in_use_is_409() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(dir.path(), &[]);
    register(&daemon, "upper", "");
    daemon.put("/v1/compositions", SHOUT.as_bytes()).expect(201);
    let answer = daemon.delete("/v1/functions/upper");
    answer.expect(409);
    assert_eq!(answer.error_kind(), "conflict");
    // Still there and still working.
    daemon.get("/v1/functions/upper").expect(200);
    daemon
        .post_json(
            "/v1/compositions/Shout/invoke",
            r#"{"Text": [{"data": "a"}]}"#,
        )
        .expect(200);
}

#[test]
fn oversized_body_is_413() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Module uploads and other bodies have limits of their own.
    let daemon = Daemon::start(
        dir.path(),
        &["--max-body-bytes", "65536", "--max-module-bytes", "65536"],
    );
    let big = vec![b'x'; 100_000];
    let answer = daemon.put("/v1/functions/big", &big);
    answer.expect(413);
    assert_eq!(answer.error_kind(), "payload_too_large");
    // An unknown composition is refused before its body is read.
    let answer = daemon.post_json(
        "/v1/compositions/Any/invoke",
        &String::from_utf8_lossy(&big),
    );
    answer.expect(404);
    register(&daemon, "upper", "");
    daemon.put("/v1/compositions", SHOUT.as_bytes()).expect(201);
    let answer = daemon.post_json(
        "/v1/compositions/Shout/invoke",
        &String::from_utf8_lossy(&big),
    );
    answer.expect(413);
    // A body just under the limit is read (and then refused for what it is).
    daemon
        .put("/v1/functions/small", &big[..60_000])
        .expect(400);
    daemon.get("/healthz").expect(200);
}

#[test]
fn function_failures_are_422_naming_application_and_shard() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(dir.path(), &[]);
    register(&daemon, "trap", "");
    // A stuck function: its deadline fires and the server stays responsive.
    register_stuck(&daemon, 300);
    daemon
        .put(
            "/v1/compositions",
            b"function trap (in) => (out);
composition Crash (In) => (Out) {
    trap (in = each In) => (Out = out);
}
",
        )
        .expect(201);
    let answer = daemon.post_json(
        "/v1/compositions/Crash/invoke",
        r#"{"In": [{"name": "victim", "key": 5, "data": "x"}]}"#,
    );
    answer.expect(422);
    let json = answer.json();
    assert_eq!(json["error"]["kind"], "failure");
    let detail = &json["error"]["detail"];
    assert_eq!(detail["failure"], "trap", "{json}");
    assert_eq!(detail["composition"], "Crash");
    assert!(
        detail["application"]
            .as_str()
            .unwrap_or("")
            .contains("trap"),
        "{json}"
    );
    assert!(
        detail["shard"].as_str().unwrap_or("").contains("victim"),
        "{json}"
    );

    let stuck = daemon.post_json(
        "/v1/compositions/Stuck/invoke",
        r#"{"In": [{"data": "x"}]}"#,
    );
    stuck.expect(422);
    assert_eq!(
        stuck.json()["error"]["detail"]["failure"],
        "timeout",
        "{}",
        stuck.text()
    );
    daemon.get("/healthz").expect(200);
    let metrics = daemon.get("/metrics").text();
    assert!(
        metrics.contains("pappus_invocations_total{tenant=\"default\",composition=\"Stuck\",outcome=\"failure\"} 1"),
        "{metrics}"
    );
}
