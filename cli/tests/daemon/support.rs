//! Shared plumbing: guest modules, a daemon process guard and a small HTTP client.
//!
//! The client is a plain `TcpStream` writer with `httparse` reading the answer, so
//! a test controls every byte it sends (oversized bodies, odd headers).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

pub use pappus_testkit::{wasm, wasm_path};

/// A running `pappus serve`; killed (SIGKILL) when dropped.
pub struct Daemon {
    child: Option<Child>,
    /// The address it listens on.
    pub addr: SocketAddr,
    log: PathBuf,
}

impl Daemon {
    /// Starts `pappus serve --listen 127.0.0.1:0 --data-dir DIR/data ARGS...` and
    /// waits for its `listening on ADDR` line. Logs go to `DIR/daemon.log`.
    pub fn start(dir: &Path, args: &[&str]) -> Daemon {
        Daemon::start_with_env(dir, args, &[])
    }

    /// [`Daemon::start`] with extra environment variables.
    pub fn start_with_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Daemon {
        Daemon::launch(dir, args, env, None)
    }

    /// [`Daemon::start`] with `garage` as the node's S3 store (its endpoint and
    /// region as flags, its key as the node's key in the environment).
    pub fn start_with_garage(dir: &Path, garage: &pappus_testkit::Garage, args: &[&str]) -> Daemon {
        let mut all = args.to_vec();
        all.extend([
            "--s3-endpoint",
            &garage.endpoint,
            "--s3-region",
            &garage.region,
        ]);
        Daemon::start_with_env(
            dir,
            &all,
            &[
                ("PAPPUS_S3_ACCESS_KEY", &garage.access_key),
                ("PAPPUS_S3_SECRET_KEY", &garage.secret_key),
            ],
        )
    }

    /// [`Daemon::start`] with the process's limit on open files
    /// (`RLIMIT_NOFILE`) lowered to `limit`.
    pub fn start_with_open_file_limit(dir: &Path, args: &[&str], limit: u64) -> Daemon {
        Daemon::launch(dir, args, &[], Some(limit))
    }

    fn launch(dir: &Path, args: &[&str], env: &[(&str, &str)], nofile: Option<u64>) -> Daemon {
        let log = dir.join("daemon.log");
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("open daemon log");
        // With a file limit, a shell lowers it and then becomes the daemon.
        let mut command = match nofile {
            None => Command::new(crate::pappus_binary()),
            Some(limit) => {
                let mut shell = Command::new("sh");
                shell
                    .arg("-c")
                    .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
                    .arg(crate::pappus_binary());
                shell
            }
        };
        command
            .arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(dir.join("data"))
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file));
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("spawn pappus serve");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            while let Some(Ok(line)) = lines.next() {
                if let Some(addr) = line.strip_prefix("listening on ") {
                    let _ = tx.send(addr.trim().to_owned());
                }
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(addr) => addr.parse().expect("listening address"),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "pappus serve did not print its address; log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
        };
        Daemon {
            child: Some(child),
            addr,
            log,
        }
    }

    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("daemon running").id()
    }

    /// What the daemon has written to its log so far. Lines below `WARN` are
    /// buffered for a moment: use [`Daemon::log_when`] or [`Daemon::stop`]
    /// to see a line that must be there.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Polls the log (at most 30 s) until `ready` holds for it, and returns it.
    pub fn log_when(&self, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let log = self.log();
            if ready(&log) {
                return log;
            }
            assert!(
                Instant::now() < deadline,
                "the awaited lines never appeared; log:\n{log}"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the daemon with SIGTERM, asserts it exited with status 0 (at
    /// most 30 s later) and returns its whole log.
    pub fn stop(self) -> String {
        self.sigterm();
        let log = self.log.clone();
        let status = self.wait_exit(Duration::from_secs(30));
        let text = std::fs::read_to_string(log).unwrap_or_default();
        assert_eq!(status.code(), Some(0), "{status:?}; log:\n{text}");
        text
    }

    fn signal(&self, signal: libc::c_int) {
        let child = self.child.as_ref().expect("daemon running");
        let pid = libc::pid_t::try_from(child.id()).expect("pid fits");
        // SAFETY: sending a signal to our own child process; no memory is involved.
        let rc = unsafe { libc::kill(pid, signal) };
        assert_eq!(rc, 0, "kill({pid}, {signal}) failed");
    }

    /// Sends SIGTERM.
    pub fn sigterm(&self) {
        self.signal(libc::SIGTERM);
    }

    /// Kills the daemon with SIGKILL and reaps it.
    pub fn kill9(mut self) {
        self.signal(libc::SIGKILL);
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
    }

    /// Waits (at most `timeout`) for the daemon to exit and returns its status.
    pub fn wait_exit(mut self, timeout: Duration) -> ExitStatus {
        let mut child = self.child.take().expect("daemon running");
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "daemon did not exit within {timeout:?}; log:\n{}",
                    self.log()
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends a request and reads the whole answer.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        request(self.addr, method, path, headers, body)
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Response {
        self.request("GET", path, &[], b"")
    }

    /// `PUT path` with `body`.
    pub fn put(&self, path: &str, body: &[u8]) -> Response {
        self.request("PUT", path, &[], body)
    }

    /// `POST path` with a JSON body.
    pub fn post_json(&self, path: &str, body: &str) -> Response {
        self.request(
            "POST",
            path,
            &[("content-type", "application/json")],
            body.as_bytes(),
        )
    }

    /// `DELETE path`.
    pub fn delete(&self, path: &str) -> Response {
        self.request("DELETE", path, &[], b"")
    }

    /// `method path` as `tenant`, whose token in the tests' tokens files is
    /// `TENANT-secret`, with a JSON content type.
    pub fn call_as(&self, tenant: &str, method: &str, path: &str, body: &[u8]) -> Response {
        let bearer = format!("Bearer {tenant}-secret");
        self.request(
            method,
            path,
            &[
                ("authorization", bearer.as_str()),
                ("content-type", "application/json"),
            ],
            body,
        )
    }

    /// Invokes `composition` as `tenant` with JSON `inputs`.
    pub fn invoke_as(
        &self,
        tenant: &str,
        composition: &str,
        inputs: &serde_json::Value,
    ) -> Response {
        self.call_as(
            tenant,
            "POST",
            &format!("/v1/compositions/{composition}/invoke"),
            inputs.to_string().as_bytes(),
        )
    }

    /// Invokes [`LOAD_SAVE`]'s `Load` as `tenant`: a fetch of `uri`.
    pub fn load_as(&self, tenant: &str, uri: &str) -> Response {
        self.invoke_as(
            tenant,
            "Load",
            &serde_json::json!({ "Uris": [{ "data": uri }] }),
        )
    }

    /// Invokes [`LOAD_SAVE`]'s `Save` as `tenant`: a store of `data` to `uri`.
    pub fn save_as(&self, tenant: &str, uri: &str, data: &str) -> Response {
        self.invoke_as(
            tenant,
            "Save",
            &serde_json::json!({ "Objects": [{ "name": "x", "data": data }], "Uris": [{ "data": uri }] }),
        )
    }
}

/// Builtin-only compositions that fetch (`Load`) and store (`Save`) objects.
pub const LOAD_SAVE: &str = "\
composition Load (Uris) => (Objects) {
    fetch (uris = each Uris) => (Objects = objects);
}
composition Save (Objects, Uris) => (Receipts) {
    store (objects = all Objects, uris = all Uris) => (Receipts = receipts);
}
";

/// Asserts a `403 forbidden` naming `uri`; answers the rule it names.
#[track_caller]
pub fn refused(answer: &Response, uri: &str) -> String {
    answer.expect(403);
    assert_eq!(answer.error_kind(), "forbidden", "{}", answer.text());
    let detail = &answer.json()["error"]["detail"];
    assert_eq!(detail["uri"], uri, "{}", answer.text());
    detail["rule"].as_str().unwrap_or_default().to_owned()
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("answer is not JSON ({e}): {}", self.text()))
    }

    /// `error.kind` of an error answer.
    pub fn error_kind(&self) -> String {
        self.json()["error"]["kind"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Asserts the status, showing the body if it differs.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Response {
        assert_eq!(self.status, status, "unexpected answer: {}", self.text());
        self
    }
}

/// Sends one request on a fresh connection (`Connection: close`) and reads the answer.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let mut stream = TcpStream::connect(addr).expect("connect to daemon");
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .expect("read timeout");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream
        .write_all(head.as_bytes())
        .expect("write request head");
    // The server may answer (e.g. 413) before reading the whole body; a failed
    // write then is expected, and the answer is still there to read.
    let _ = stream.write_all(body);
    read_response(&mut stream)
}

fn read_response(stream: &mut TcpStream) -> Response {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            // A signal (e.g. another test's child exiting) interrupted the read.
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            // A reset after the answer arrived (unread request body): keep what we have.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset && !buf.is_empty() => break,
            Err(e) => panic!("reading the answer: {e}"),
        }
    }
    let mut header_buf = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Response::new(&mut header_buf);
    let head_len = match parsed.parse(&buf) {
        Ok(httparse::Status::Complete(n)) => n,
        other => panic!(
            "incomplete answer ({other:?}): {}",
            String::from_utf8_lossy(&buf)
        ),
    };
    let status = parsed.code.expect("status code");
    let headers: Vec<(String, String)> = parsed
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_owned(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    let raw_body = &buf[head_len..];
    let chunked = headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let body = if chunked {
        dechunk(raw_body)
    } else {
        raw_body.to_vec()
    };
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size line");
        let size_text = std::str::from_utf8(&data[..line_end]).expect("chunk size");
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .expect("hex chunk size");
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// Registers the example function `name` (with optional query string) and
/// checks for `201`.
pub fn register(daemon: &Daemon, name: &str, query: &str) {
    daemon
        .put(&format!("/v1/functions/{name}{query}"), &wasm(name))
        .expect(201);
}

/// Registers `spin` with a `timeout_ms` deadline and `Stuck (In) => (Out)`,
/// which runs it: an invocation that holds an execution slot until the deadline
/// fails it.
pub fn register_stuck(daemon: &Daemon, timeout_ms: u64) {
    register(daemon, "spin", &format!("?timeout_ms={timeout_ms}"));
    daemon.put("/v1/compositions", STUCK).expect(201);
}

/// [`register_stuck`] for `tenant` (token `TENANT-secret`).
pub fn register_stuck_as(daemon: &Daemon, tenant: &str, timeout_ms: u64) {
    let path = format!("/v1/functions/spin?timeout_ms={timeout_ms}");
    daemon
        .call_as(tenant, "PUT", &path, &wasm("spin"))
        .expect(201);
    daemon
        .call_as(tenant, "PUT", "/v1/compositions", STUCK)
        .expect(201);
}

/// `Stuck (In) => (Out)`: `spin` on each input item.
const STUCK: &[u8] = b"function spin (in) => (out);
composition Stuck (In) => (Out) {
    spin (in = each In) => (Out = out);
}
";

/// Invokes `Stuck` (see [`register_stuck`]) on another thread and waits until
/// it is executing; the thread answers its response.
pub fn start_stuck(daemon: &Daemon) -> thread::JoinHandle<Response> {
    let addr = daemon.addr;
    let stuck = thread::spawn(move || {
        request(
            addr,
            "POST",
            "/v1/compositions/Stuck/invoke",
            &[],
            br#"{"In": [{"data": "x"}]}"#,
        )
    });
    wait_for_metric(daemon, "pappus_in_flight_invocations 1");
    stuck
}

/// Polls `/metrics` until `line` appears (at most 30 s).
pub fn wait_for_metric(daemon: &Daemon, line: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if daemon.get("/metrics").text().lines().any(|l| l == line) {
            return;
        }
        thread::sleep(Duration::from_millis(20));
    }
    panic!("metric line {line:?} never appeared");
}
