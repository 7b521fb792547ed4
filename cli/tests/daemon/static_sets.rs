//! Static sets end to end: `pappus deploy` uploads a project's static sets
//! with its function, a WASI function reads them through the daemon, they
//! survive a restart, and a malformed bundle or a missing path is refused.

use std::path::Path;
use std::process::Command;

use crate::pappus_binary;
use crate::support::Daemon;

/// `examples/static-sets`, built, copied into `dir/project`.
fn project(dir: &Path) -> std::path::PathBuf {
    let example = pappus_testkit::repo_root().join("examples/static-sets");
    let built = Command::new("bash")
        .arg(example.join("build.sh"))
        .output()
        .expect("cannot run build.sh");
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let project = dir.join("project");
    for file in [
        "pappus.toml",
        "peek.pap",
        "peek.wasm",
        "data/table.txt",
        "data/lib/main.py",
        "data/lib/sub/util.py",
    ] {
        let to = project.join(file);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(example.join(file), &to).expect("copy");
    }
    project
}

fn deploy(project: &Path, daemon: &Daemon) -> std::process::Output {
    Command::new(pappus_binary())
        .args(["deploy", "--url", &format!("http://{}", daemon.addr)])
        .current_dir(project)
        .env_remove("PAPPUS_TOKEN")
        .output()
        .expect("cannot run pappus deploy")
}

const REQUESTS: &str = "ls /lib/sub\nread /table/table.txt 6 4\nwrite /lib/x\n";

fn ask(daemon: &Daemon) -> String {
    let inputs = serde_json::json!({ "Requests": [{ "name": "r", "data": REQUESTS }] });
    let answer = daemon.post_json("/v1/compositions/Peek/invoke", &inputs.to_string());
    answer.expect(200);
    answer.json()["Answers"][0]["data"]
        .as_str()
        .expect("text data")
        .to_owned()
}

#[test]
fn deployed_static_sets_are_read_by_wasi_functions_and_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let project = project(dir.path());
    let daemon = Daemon::start(dir.path(), &[]);
    let out = deploy(&project, &daemon);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = "util.py 6\nbeta\nrefused 69\n";
    assert_eq!(ask(&daemon), expected);
    let info = daemon.get("/v1/functions/peek").json();
    assert_eq!(info["static"][0]["name"], "lib");
    assert_eq!(info["static"][0]["items"], 2);
    assert_eq!(info["static"][1]["name"], "table");
    assert_eq!(info["static"][1]["bytes"], 17);
    daemon.stop();
    let daemon = Daemon::start(dir.path(), &[]);
    assert_eq!(ask(&daemon), expected);
}

#[test]
fn a_malformed_bundle_and_a_missing_path_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let project = project(dir.path());
    let daemon = Daemon::start(dir.path(), &[]);
    let answer = daemon.request(
        "PUT",
        "/v1/functions/peek",
        &[("content-type", "application/vnd.pappus.function")],
        b"PPFN\x01\0\0\0\xff\xff\xff\xff\0\0\0\0",
    );
    answer.expect(400);
    assert_eq!(answer.error_kind(), "bad_body");
    std::fs::remove_file(project.join("data/table.txt")).expect("rm");
    let out = deploy(&project, &daemon);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("static set `table`") && stderr.contains("table.txt"),
        "{stderr}"
    );
    // Nothing was registered.
    daemon.get("/v1/functions/peek").expect(404);
}
