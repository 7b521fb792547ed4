//! Child processes that serve on a loopback port and die with their guard.

use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::thread;
use std::time::{Duration, Instant};

/// A free loopback port (bound then released; servers bind it right after).
pub fn free_port() -> u16 {
    match TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(addr) => addr.port(),
        Err(e) => panic!("no free port: {e}"),
    }
}

pub(crate) fn temp_dir() -> tempfile::TempDir {
    match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("cannot create a temporary directory: {e}"),
    }
}

/// Finds a server binary among `candidates`, then on `PATH`, or panics with the
/// setup hint.
pub(crate) fn binary(name: &str, candidates: &[PathBuf]) -> PathBuf {
    for c in candidates {
        if c.is_file() {
            return c.clone();
        }
    }
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let p = dir.join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!("{name} is not installed (looked in {candidates:?} and PATH): run ./setup.sh --test");
}

/// A server process, killed (and reaped) on drop; its temporary directory goes
/// with it.
pub struct Server {
    child: Child,
    _dir: Option<tempfile::TempDir>,
    /// The loopback port it listens on.
    pub port: u16,
    /// Its data directory (the document root for nginx).
    pub root: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Server {
    pub(crate) fn new(
        child: Child,
        dir: Option<tempfile::TempDir>,
        port: u16,
        root: PathBuf,
    ) -> Self {
        Server {
            child,
            _dir: dir,
            port,
            root,
        }
    }

    /// Its process id (for `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Base URL, e.g. `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops the server now (for "the server went down" tests).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawns `cmd` so that the kernel kills it if this process dies.
pub(crate) fn spawn(mut cmd: Command, what: &str) -> Child {
    cmd.stdin(std::process::Stdio::null());
    // SAFETY: prctl is async-signal-safe; it only asks the kernel to kill the
    // server if the test process dies, so no server outlives a crashed test.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    match cmd.spawn() {
        Ok(c) => c,
        Err(e) => panic!("cannot start {what}: {e}"),
    }
}

/// Waits (up to 20 s) until `port` accepts connections, or panics with `log`.
pub(crate) fn wait_for_port(child: &mut Child, port: u16, what: &str, log: &Path) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            panic!("{what} exited during start-up ({status}): {log}");
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        thread::sleep(Duration::from_millis(10));
    }
    let log = std::fs::read_to_string(log).unwrap_or_default();
    panic!("{what} did not listen on port {port}: {log}");
}

pub(crate) fn write(path: &Path, text: &str) {
    if let Err(e) = std::fs::write(path, text) {
        panic!("cannot write {}: {e}", path.display());
    }
}

pub(crate) fn euid_is_root() -> bool {
    // The effective uid is in /proc; avoids an unsafe geteuid call.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}
