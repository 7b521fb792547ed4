//! Settings from flags, environment and a config file, in that order.

use crate::support::Daemon;

#[test]
fn flags_beat_environment_beat_config_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("pappus.toml");
    std::fs::write(&file, "max_module_bytes = 1000\nqueue_bound = 3\n").expect("write config");
    let config = file.to_str().expect("utf-8 path");
    let body = vec![b'x'; 1500];

    // File alone: 1000 bytes.
    let daemon = Daemon::start(dir.path(), &["--config", config]);
    daemon.put("/v1/functions/f", &body).expect(413);
    drop(daemon);

    // Environment over file: 2000 bytes (the body is then read and refused as a module).
    let daemon = Daemon::start_with_env(
        dir.path(),
        &["--config", config],
        &[("PAPPUS_MAX_MODULE_BYTES", "2000")],
    );
    daemon.put("/v1/functions/f", &body).expect(400);
    drop(daemon);

    // Flag over environment: 1200 bytes.
    let daemon = Daemon::start_with_env(
        dir.path(),
        &["--config", config, "--max-module-bytes", "1200"],
        &[("PAPPUS_MAX_MODULE_BYTES", "2000")],
    );
    daemon.put("/v1/functions/f", &body).expect(413);
}

#[test]
fn unknown_config_keys_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("pappus.toml");
    std::fs::write(&file, "max_body_byte = 1000\n").expect("write config");
    let out = std::process::Command::new(crate::pappus_binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&file)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run pappus serve");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("max_body_byte"));
}
