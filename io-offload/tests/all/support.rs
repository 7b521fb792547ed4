//! Test harness: real servers (nginx, redis, garage) started per test on
//! loopback ports in temporary directories, and tiny misbehaving TCP servers.
//! A missing server binary fails the test with a hint to run ./setup.sh.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use pappus_io::{Call, IoRuntime, Item, RingConfig};

/// Starts a runtime with a short timeout and fast retries, tuned by `tune`.
pub fn runtime_with(tune: impl FnOnce(&mut RingConfig)) -> IoRuntime {
    let mut config = RingConfig::new();
    config.timeout(Duration::from_secs(10));
    tune(&mut config);
    match IoRuntime::start(&config) {
        Ok(rt) => rt,
        Err(e) => panic!("cannot start the i/o runtime: {e}"),
    }
}

/// A runtime with the default test settings.
pub fn runtime() -> IoRuntime {
    runtime_with(|_| {})
}

/// Runs a fetch of the given URIs (keys 0, 1, ...).
pub fn fetch(rt: &IoRuntime, uris: &[&str]) -> pappus_io::Result<Vec<Item>> {
    let uris = uris
        .iter()
        .enumerate()
        .map(|(i, u)| Item::new(format!("u{i}"), i as u64, u.to_string()))
        .collect();
    rt.call(Call::Fetch { uris })
}

/// Fetches one URI and returns its bytes, panicking with the error.
pub fn fetch_one(rt: &IoRuntime, uri: &str) -> Vec<u8> {
    match fetch(rt, &[uri]) {
        Ok(items) => items[0].data.to_vec(),
        Err(e) => panic!("fetch {uri} failed: {e}"),
    }
}

/// Asserts a call failed with `kind` and that the message names `uri`.
pub fn assert_error(res: pappus_io::Result<Vec<Item>>, kind: &str, uri: &str) -> pappus_io::Error {
    match res {
        Ok(items) => panic!(
            "expected a {kind} error for {uri}, got {} items",
            items.len()
        ),
        Err(e) => {
            assert_eq!(e.kind(), kind, "unexpected error: {e}");
            assert!(
                e.to_string().contains(uri),
                "error {e:?} does not name {uri}"
            );
            e
        }
    }
}

/// A free loopback port (bound then released; servers bind it right after).
pub fn free_port() -> u16 {
    match TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(addr) => addr.port(),
        Err(e) => panic!("no free port: {e}"),
    }
}

fn temp_dir() -> tempfile::TempDir {
    match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("cannot create a temporary directory: {e}"),
    }
}

/// Finds a server binary or fails the test with the setup hint.
fn binary(name: &str, candidates: &[PathBuf]) -> PathBuf {
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
    panic!("{name} is not installed (looked in {candidates:?} and PATH): run ./setup.sh");
}

/// A child process killed (and reaped) on drop.
pub struct Server {
    child: Child,
    _dir: tempfile::TempDir,
    pub port: u16,
    pub root: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Base URL, e.g. `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops the server (for "server went down" tests).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(mut cmd: Command, what: &str) -> Child {
    cmd.stdin(Stdio::null());
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

fn wait_for_port(child: &mut Child, port: u16, what: &str, log: &Path) {
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

/// nginx serving `root` (a temp dir) with WebDAV PUT/DELETE, plus
/// `/status/500` answering 500 and `/status/404` answering 404.
pub fn nginx() -> Server {
    let bin = binary("nginx", &[PathBuf::from("/usr/sbin/nginx")]);
    let dir = temp_dir();
    let base = dir.path().to_path_buf();
    let root = base.join("data");
    for d in ["data", "tmp", "logs"] {
        if let Err(e) = std::fs::create_dir_all(base.join(d)) {
            panic!("cannot prepare nginx dirs: {e}");
        }
    }
    let port = free_port();
    // Running as root, nginx's worker would switch to an unprivileged user
    // that cannot write the data directory; a single process avoids that.
    let user = if euid_is_root() { "user root;" } else { "" };
    let b = base.display();
    let conf = format!(
        r#"{user}
daemon off;
master_process off;
worker_processes 1;
pid {b}/nginx.pid;
error_log {b}/logs/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {b}/tmp/body;
    proxy_temp_path {b}/tmp/proxy;
    fastcgi_temp_path {b}/tmp/fastcgi;
    uwsgi_temp_path {b}/tmp/uwsgi;
    scgi_temp_path {b}/tmp/scgi;
    client_max_body_size 0;
    keepalive_requests 10000;
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        root {b}/data;
        location / {{
            dav_methods PUT DELETE;
            create_full_put_path on;
            dav_access user:rw group:r all:r;
        }}
        location = /status/500 {{ return 500 "internal failure\n"; }}
        location = /status/404 {{ return 404 "no such thing\n"; }}
    }}
}}
"#
    );
    let conf_path = base.join("nginx.conf");
    if let Err(e) = std::fs::write(&conf_path, conf) {
        panic!("cannot write nginx.conf: {e}");
    }
    let log = base.join("logs/error.log");
    let mut cmd = Command::new(bin);
    cmd.arg("-p")
        .arg(&base)
        .arg("-e")
        .arg(&log)
        .arg("-c")
        .arg(&conf_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = spawn(cmd, "nginx");
    wait_for_port(&mut child, port, "nginx", &log);
    Server {
        child,
        _dir: dir,
        port,
        root,
    }
}

fn euid_is_root() -> bool {
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

/// redis-server on a loopback port, no persistence.
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
    Server {
        child,
        _dir: dir,
        port,
        root: base,
    }
}

/// Garage (S3-compatible store) with one node, a key and a bucket.
pub struct Garage {
    /// Kept to stop the store when the test ends.
    pub _server: Server,
    pub s3: pappus_io::S3Config,
    pub bucket: String,
}

const GARAGE_KEY_ID: &str = "GK0123456789abcdef01234567";
const GARAGE_SECRET: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn garage_binary() -> PathBuf {
    let mut candidates = Vec::new();
    if let Some(p) = std::env::var_os("PAPPUS_GARAGE") {
        candidates.push(PathBuf::from(p));
    }
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(Path::new(&home).join(".cache/pappus/garage/bin/garage"));
    }
    binary("garage", &candidates)
}

fn garage_cli(bin: &Path, conf: &Path, args: &[&str]) -> Output {
    let out = Command::new(bin).arg("-c").arg(conf).args(args).output();
    match out {
        Ok(o) if o.status.success() => o,
        Ok(o) => panic!(
            "garage {args:?} failed: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => panic!("cannot run garage {args:?}: {e}"),
    }
}

/// Starts Garage and bootstraps layout, key and bucket `pappus`.
pub fn garage() -> Garage {
    let bin = garage_binary();
    let dir = temp_dir();
    let base = dir.path().to_path_buf();
    let (rpc, s3, admin) = (free_port(), free_port(), free_port());
    let region = "pappus-test";
    let b = base.display();
    let conf = format!(
        r#"metadata_dir = "{b}/meta"
data_dir = "{b}/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:{rpc}"
rpc_public_addr = "127.0.0.1:{rpc}"
rpc_secret = "{GARAGE_SECRET}"

[s3_api]
s3_region = "{region}"
api_bind_addr = "127.0.0.1:{s3}"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "127.0.0.1:{admin}"
"#
    );
    let conf_path = base.join("garage.toml");
    if let Err(e) = std::fs::write(&conf_path, conf) {
        panic!("cannot write garage.toml: {e}");
    }
    let log = base.join("garage.log");
    let log_file = match std::fs::File::create(&log) {
        Ok(f) => f,
        Err(e) => panic!("cannot create garage log: {e}"),
    };
    let mut cmd = Command::new(&bin);
    cmd.arg("-c")
        .arg(&conf_path)
        .arg("server")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log_file);
    let mut child = spawn(cmd, "garage");
    wait_for_port(&mut child, rpc, "garage", &log);
    wait_for_port(&mut child, s3, "garage", &log);
    let server = Server {
        child,
        _dir: dir,
        port: s3,
        root: base,
    };
    let node = garage_cli(&bin, &conf_path, &["node", "id", "-q"]);
    let node = String::from_utf8_lossy(&node.stdout);
    let node_id = node.trim().split('@').next().unwrap_or_default().to_owned();
    garage_cli(
        &bin,
        &conf_path,
        &["layout", "assign", "-z", "dc1", "-c", "1G", &node_id],
    );
    garage_cli(&bin, &conf_path, &["layout", "apply", "--version", "1"]);
    garage_cli(
        &bin,
        &conf_path,
        &[
            "key",
            "import",
            "--yes",
            "-n",
            "pappus",
            GARAGE_KEY_ID,
            GARAGE_SECRET,
        ],
    );
    garage_cli(&bin, &conf_path, &["bucket", "create", "pappus"]);
    garage_cli(
        &bin,
        &conf_path,
        &[
            "bucket", "allow", "--read", "--write", "pappus", "--key", "pappus",
        ],
    );
    Garage {
        s3: pappus_io::S3Config {
            endpoint: format!("http://127.0.0.1:{s3}"),
            region: region.into(),
            access_key: GARAGE_KEY_ID.into(),
            secret_key: GARAGE_SECRET.into(),
        },
        bucket: "pappus".into(),
        _server: server,
    }
}

/// A TCP server that runs `answer` on each accepted connection, on its own
/// thread (left running until the test process exits).
pub fn tcp_server(answer: impl Fn(TcpStream) + Send + Sync + 'static) -> SocketAddr {
    let listener = match TcpListener::bind("127.0.0.1:0") {
        Ok(l) => l,
        Err(e) => panic!("cannot bind a test server: {e}"),
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => panic!("no local address: {e}"),
    };
    let answer = std::sync::Arc::new(answer);
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let answer = std::sync::Arc::clone(&answer);
            thread::spawn(move || answer(stream));
        }
    });
    addr
}

/// Reads a request head (up to the blank line) from `stream`.
pub fn read_head(stream: &mut TcpStream) -> Vec<u8> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    head
}

/// A server that accepts and never answers.
pub fn stalling_server() -> SocketAddr {
    tcp_server(|stream| {
        thread::sleep(Duration::from_secs(60));
        drop(stream);
    })
}

/// A server that promises `promised` bytes and sends `body`, then closes.
pub fn truncating_server(promised: usize, body: &'static [u8]) -> SocketAddr {
    tcp_server(move |mut stream| {
        read_head(&mut stream);
        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {promised}\r\n\r\n");
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(body);
    })
}

/// Writes `data` at `path` under a server root, creating directories.
pub fn put_file(root: &Path, path: &str, data: &[u8]) {
    let p = root.join(path);
    if let Some(parent) = p.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    if let Err(e) = std::fs::write(&p, data) {
        panic!("cannot write {}: {e}", p.display());
    }
}

/// Deterministic test bytes.
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// A `file://` URI for a local path.
pub fn file_uri(path: &Path) -> String {
    format!("file://{}", path.display())
}
