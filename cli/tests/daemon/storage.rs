//! The daemon's I/O runtime settings reach the builtins: with `--s3-*` flags a
//! composition stores to and fetches from a real Garage; a composition that
//! needs an unconfigured store fails with a clear error, and the daemon serves on.

use serde_json::json;

use crate::support::{register, Daemon};

const SAVE_AND_LOAD: &str = "\
function upper (in) => (out);
composition Save (Objects, Uris) => (Receipts) {
    store (objects = all Objects, uris = all Uris) => (Receipts = receipts);
}
composition Load (Uris) => (Loud) {
    fetch (uris = each Uris) => (Objects = objects);
    upper (in = each Objects) => (Loud = out);
}
";

fn setup(daemon: &Daemon) {
    register(daemon, "upper", "");
    daemon
        .put("/v1/compositions", SAVE_AND_LOAD.as_bytes())
        .expect(201);
}

#[test]
fn s3_settings_from_flags_and_environment_reach_the_builtins() {
    let garage = pappus_testkit::garage();
    let dir = tempfile::tempdir().expect("tempdir");
    // Without authentication the tenant's authority is the least one unless
    // a policy grants more: here the bucket, with the node's credentials.
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "[[s3]]\nbucket = {:?}\nnode_credentials = true\n",
            garage.bucket
        ),
    )
    .expect("write policy");
    let daemon = Daemon::start_with_garage(
        dir.path(),
        &garage,
        &["--io-policy", policy.to_str().expect("utf-8 path")],
    );
    setup(&daemon);
    let uri = format!("s3://{}/daemon/hello.txt", garage.bucket);
    let saved = daemon.post_json(
        "/v1/compositions/Save/invoke",
        &json!({
            "Objects": [{"name": "o", "key": 1, "data": "hello from the daemon"}],
            "Uris": [{"name": "u", "key": 1, "data": uri}],
        })
        .to_string(),
    );
    saved.expect(200);
    let receipt = saved.json()["Receipts"][0]["data"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(receipt.contains(&uri), "{receipt}");

    let loaded = daemon.post_json(
        "/v1/compositions/Load/invoke",
        &json!({ "Uris": [{"name": "u", "key": 1, "data": uri}] }).to_string(),
    );
    loaded.expect(200);
    assert_eq!(loaded.json()["Loud"][0]["data"], "HELLO FROM THE DAEMON");
    // The secret never reaches the log (all of it, once the daemon has exited).
    let log = daemon.stop();
    assert!(log.contains("invocation"), "{log}");
    assert!(!log.contains(&garage.secret_key));
}

#[test]
fn an_unconfigured_store_fails_the_invocation_not_the_daemon() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().canonicalize().expect("canonical tempdir");
    let policy = root.join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "[file]\nread = [{root:?}]\n[[s3]]\nbucket = \"bucket\"\nnode_credentials = true\n"
        ),
    )
    .expect("write policy");
    let daemon = Daemon::start(
        dir.path(),
        &["--io-policy", policy.to_str().expect("utf-8 path")],
    );
    setup(&daemon);
    let failed = daemon.post_json(
        "/v1/compositions/Load/invoke",
        &json!({ "Uris": [{"name": "u", "key": 1, "data": "s3://bucket/key"}] }).to_string(),
    );
    assert!(
        failed.text().contains("s3://bucket/key"),
        "{}",
        failed.text()
    );
    assert!(
        failed.text().contains("not_configured"),
        "{}",
        failed.text()
    );

    let file = root.join("ok.txt");
    std::fs::write(&file, "still here").expect("write");
    let ok = daemon.post_json(
        "/v1/compositions/Load/invoke",
        &json!({ "Uris": [{"name": "u", "key": 1, "data": pappus_testkit::file_uri(&file)}] })
            .to_string(),
    );
    ok.expect(200);
    assert_eq!(ok.json()["Loud"][0]["data"], "STILL HERE");
}
