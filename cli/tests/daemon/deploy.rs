//! `pappus deploy` and `pappus ls` against a daemon: what a function is
//! deployed with (limits, a WASI program's args and env) is shown; module
//! uploads have their own size limit (`max_module_bytes`), apart from other
//! request bodies; and a refused module shows the daemon's answer rather than
//! the broken pipe of a body written into a connection the daemon has
//! stopped reading.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::{wasm, wasm_path, Daemon};
use crate::SHOUT;

/// `pappus ARGS... --url http://ADDR` without a token.
fn pappus(daemon: &Daemon, args: &[&str]) -> Output {
    Command::new(crate::pappus_binary())
        .args(args)
        .arg("--url")
        .arg(format!("http://{}", daemon.addr))
        .env_remove("PAPPUS_TOKEN")
        .env_remove("PAPPUS_URL")
        .output()
        .expect("run pappus")
}

#[test]
fn deploy_and_ls_show_args_and_env() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(dir.path(), &[]);
    let project = dir.path().join("project");
    std::fs::create_dir(&project).expect("project dir");
    let module = wasm_path("upper");
    std::fs::write(
        project.join("pappus.toml"),
        format!(
            "[functions]\nupper = {{ wasm = {:?}, args = [\"--top\", \"3\"], env = {{ LANG = \"C\" }} }}\nplain = {:?}\n",
            module.display().to_string(),
            module.display().to_string(),
        ),
    )
    .expect("write pappus.toml");
    let shown = r#"args ["--top","3"], env {"LANG":"C"}"#;
    let out = pappus(&daemon, &["deploy", path(&project)]);
    let stdout = succeeded(&out);
    let line = |text: &str, prefix: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .unwrap_or_else(|| panic!("no line for {prefix:?} in {text}"))
            .to_owned()
    };
    assert!(
        line(&stdout, "function upper:").ends_with(shown),
        "{stdout}"
    );
    assert!(
        !line(&stdout, "function plain:").contains("args"),
        "{stdout}"
    );
    let out = pappus(&daemon, &["ls", "functions"]);
    let stdout = succeeded(&out);
    assert!(line(&stdout, "upper ").ends_with(shown), "{stdout}");
    assert!(!line(&stdout, "plain ").contains("env"), "{stdout}");
}

#[track_caller]
fn succeeded(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A module over `max_module_bytes` and far over what socket buffers hold, so
/// that writing all of it into a refusing daemon's connection would fail.
const HUGE: usize = 24 << 20;

#[test]
fn deploy_shows_the_refusal_of_a_module_over_the_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(dir.path(), &["--max-module-bytes", "1048576"]);
    let project = dir.path().join("project");
    std::fs::create_dir(&project).expect("project dir");
    std::fs::write(
        project.join("pappus.toml"),
        "[functions]\nbig = \"big.wasm\"\n",
    )
    .expect("write pappus.toml");
    // Not a module at all: the daemon must refuse it on its length alone.
    std::fs::write(project.join("big.wasm"), vec![0u8; HUGE]).expect("write module");
    let out = pappus(&daemon, &["deploy", path(&project)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "deploy succeeded: {stderr}");
    for needle in [
        "cannot register function `big`",
        "413 (payload_too_large)",
        &format!("request body of {HUGE} bytes"),
        "[limit max_module_bytes = 1048576]",
    ] {
        assert!(stderr.contains(needle), "no {needle:?} in: {stderr}");
    }
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
    // The daemon is fine and takes a module under the limit.
    daemon
        .put("/v1/functions/upper", &wasm("upper"))
        .expect(201);
}

#[test]
fn modules_and_other_bodies_have_separate_limits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(
        dir.path(),
        &["--max-body-bytes", "65536", "--max-module-bytes", "200000"],
    );
    // A body over max_body_bytes but under max_module_bytes is read as a
    // module (and then refused for what it is, not for its size).
    let junk = vec![b'x'; 100_000];
    let answer = daemon.put("/v1/functions/junk", &junk);
    answer.expect(400);
    assert_eq!(answer.error_kind(), "invalid_module");
    // Over max_module_bytes: 413 naming that setting and its value.
    let answer = daemon.put("/v1/functions/junk", &vec![b'x'; 200_001]);
    answer.expect(413);
    assert_eq!(answer.error_kind(), "payload_too_large");
    let detail = &answer.json()["error"]["detail"];
    assert_eq!(detail["limit"], "max_module_bytes");
    assert_eq!(detail["max"], 200_000);
    // Composition text and invocation bodies keep max_body_bytes.
    let answer = daemon.put("/v1/compositions", &junk);
    answer.expect(413);
    assert_eq!(answer.json()["error"]["detail"]["limit"], "max_body_bytes");
    daemon
        .put("/v1/functions/upper", &wasm("upper"))
        .expect(201);
    daemon.put("/v1/compositions", SHOUT.as_bytes()).expect(201);
    let answer = daemon.post_json(
        "/v1/compositions/Shout/invoke",
        &String::from_utf8_lossy(&junk),
    );
    answer.expect(413);
    assert_eq!(answer.json()["error"]["detail"]["max"], 65536);
}

#[test]
fn in_flight_budget_must_hold_the_largest_module() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(crate::pappus_binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--max-module-bytes"])
        .arg((512u64 << 20).to_string())
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .output()
        .expect("run pappus serve");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("must be at least max_module_bytes"),
        "{stderr}"
    );
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}
