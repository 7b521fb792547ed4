//! redis-server (Debian package) without persistence.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::process::{binary, free_port, spawn, temp_dir, wait_for_port, Server};

/// redis-server on a free loopback port; its URL is `redis://127.0.0.1:PORT/0`.
pub fn redis() -> Server {
    let bin = binary("redis-server", &[PathBuf::from("/usr/bin/redis-server")]);
    let dir = temp_dir();
    let base = dir.path().to_path_buf();
    let port = free_port();
    let log = base.join("redis.log");
    let mut cmd = Command::new(bin);
    cmd.args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .arg("--dir")
        .arg(&base)
        .arg("--logfile")
        .arg(&log)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = spawn(cmd, "redis-server");
    wait_for_port(&mut child, port, "redis-server", &log);
    Server::new(child, Some(dir), port, base)
}
