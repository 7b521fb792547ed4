//! Running `pappus serve` for a benchmark: start it on an ephemeral loopback port,
//! register functions and compositions over its HTTP API, stop it with SIGTERM.
//! The HTTP floor (`pappus-bench floor`) is started and stopped the same way.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::http::Connection;

/// A running daemon, killed if dropped without [`Daemon::stop`].
pub struct Daemon {
    child: Child,
    addr: SocketAddr,
}

impl Daemon {
    /// Starts `binary serve --listen 127.0.0.1:0 --data-dir DATA_DIR EXTRA...`,
    /// with per-invocation logs off (`RUST_LOG=warn`) and stderr in `log`, and
    /// waits (up to 60 s) for its `listening on ADDR` line.
    pub fn start(binary: &Path, data_dir: &Path, log: &Path, extra: &[String]) -> Result<Daemon> {
        let mut command = Command::new(binary);
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(extra)
            .env("RUST_LOG", "warn");
        Daemon::spawn(command, binary, log)
    }

    /// Starts the HTTP floor (`pappus-bench floor`, see [`crate::floor`]) from
    /// the `pappus-bench` binary `binary`, as [`start`](Self::start) does the
    /// daemon. It registers nothing: only invoke requests get an answer.
    pub fn floor(binary: &Path, log: &Path) -> Result<Daemon> {
        let mut command = Command::new(binary);
        command.args(["floor", "--listen", "127.0.0.1:0"]);
        Daemon::spawn(command, binary, log)
    }

    /// Runs `command` with stderr in `log`; waits for its `listening on ADDR`.
    fn spawn(mut command: Command, binary: &Path, log: &Path) -> Result<Daemon> {
        let stderr =
            std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout = child.stdout.take().context("daemon stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                if let Some(addr) = line.trim().strip_prefix("listening on ") {
                    let _ = tx.send(addr.parse::<SocketAddr>().ok());
                    break;
                }
                line.clear();
            }
            // Keep draining so the daemon never blocks on a full pipe.
            let _ = std::io::copy(
                &mut reader.into_inner().take(u64::MAX),
                &mut std::io::sink(),
            );
        });
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(Some(addr)) => addr,
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                let log_text = std::fs::read_to_string(log).unwrap_or_default();
                bail!(
                    "{} did not report its address; its log: {}",
                    binary.display(),
                    log_text.trim()
                );
            }
        };
        Ok(Daemon { child, addr })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its process id (for `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn expect(&self, method: &str, path: &str, body: &[u8], ok: u16) -> Result<Vec<u8>> {
        self.expect_typed(method, path, "application/octet-stream", body, ok)
    }

    fn expect_typed(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: &[u8],
        ok: u16,
    ) -> Result<Vec<u8>> {
        let mut c = Connection::new(self.addr, Duration::from_secs(120));
        let r = c
            .request(method, path, Some(content_type), body)
            .with_context(|| format!("{method} {path}"))?;
        if r.status != ok {
            bail!(
                "{method} {path}: status {} ({})",
                r.status,
                String::from_utf8_lossy(&r.body).trim()
            );
        }
        Ok(r.body)
    }

    /// `PUT /v1/functions/{name}` with the module, expecting `201`.
    pub fn put_function(&self, name: &str, wasm: &[u8]) -> Result<()> {
        self.expect("PUT", &format!("/v1/functions/{name}"), wasm, 201)
            .map(drop)
    }

    /// `PUT /v1/functions/{name}` with `body` of type `content_type` (a
    /// function bundle, for instance), expecting `201`.
    pub fn put_function_as(&self, name: &str, body: &[u8], content_type: &str) -> Result<()> {
        self.expect_typed(
            "PUT",
            &format!("/v1/functions/{name}"),
            content_type,
            body,
            201,
        )
        .map(drop)
    }

    /// `PUT /v1/compositions` with composition-language text, expecting `201`.
    pub fn put_compositions(&self, source: &str) -> Result<()> {
        self.expect("PUT", "/v1/compositions", source.as_bytes(), 201)
            .map(drop)
    }

    /// `GET /metrics` (Prometheus text).
    pub fn metrics(&self) -> Result<String> {
        self.expect("GET", "/metrics", b"", 200)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    /// SIGTERM, then up to 10 s for a drained exit, then SIGKILL.
    pub fn stop(mut self) -> Result<()> {
        // SAFETY: kill(2) on our own child's pid has no memory-safety preconditions.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        bail!("the daemon did not exit within 10 s of SIGTERM")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The path of `POST .../invoke` sending a raw body as the one item of `set`.
pub fn invoke_path(composition: &str, set: &str) -> String {
    format!("/v1/compositions/{composition}/invoke?set={set}")
}

/// The path of `POST .../invoke` sending a JSON body (the set schema of
/// `docs/json.md`) and answered in JSON.
pub fn invoke_json_path(composition: &str) -> String {
    format!("/v1/compositions/{composition}/invoke")
}

/// Sends `body` to `path` (an [`invoke_path`]) and answers the response body of
/// a `200`, or the load generator's error kind: the connection error's kind, or
/// `http_STATUS KIND` with the daemon's error kind.
pub fn invoke_raw(conn: &mut Connection, path: &str, body: &[u8]) -> Result<Vec<u8>, String> {
    invoke(conn, path, "application/octet-stream", body)
}

/// Sends the JSON sets `body` to `path` (an [`invoke_json_path`]) and answers
/// as [`invoke_raw`] does: the JSON answer of a `200`, or the error kind.
pub fn invoke_json(conn: &mut Connection, path: &str, body: &[u8]) -> Result<Vec<u8>, String> {
    invoke(conn, path, "application/json", body)
}

fn invoke(
    conn: &mut Connection,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> Result<Vec<u8>, String> {
    let r = conn
        .request("POST", path, Some(content_type), body)
        .map_err(|e| e.kind().to_string())?;
    if r.status == 200 {
        return Ok(r.body);
    }
    let kind = crate::http::error_kind(&r.body).unwrap_or_default();
    Err(format!("http_{} {kind}", r.status).trim().to_string())
}

/// The `pappus` binary: `$PAPPUS_BIN`, else `target/release/pappus` under `repo`.
pub fn find_binary(repo: &Path) -> PathBuf {
    match std::env::var_os("PAPPUS_BIN") {
        Some(p) => PathBuf::from(p),
        None => repo.join("target/release/pappus"),
    }
}
