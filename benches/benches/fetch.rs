//! `fetch` through io_uring against the plain ways of reading the same bytes.
//!
//! For 4 KiB, 1 MiB and 64 MiB objects, side by side in one run:
//! - `file/pappus_fetch`: `fetch` of a `file://` URI (open, statx, reads on the ring);
//! - `file/std_fs_read`: `std::fs::read` of the same file;
//! - `http/pappus_fetch`: `fetch` of the same file served by nginx on loopback
//!   (keep-alive connection reused across iterations);
//! - `http/ureq`: a plain blocking client (`ureq`, one agent, keep-alive).
//!
//! nginx is started by the bench in a temporary directory on a free loopback
//! port (Debian `nginx-light`; run ./setup.sh if it is missing) and stopped
//! at the end.

use std::io::Read as _;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pappus_io::{Call, IoRuntime, Item, RingConfig};

const SIZES: [(usize, &str); 3] = [(4 << 10, "4KiB"), (1 << 20, "1MiB"), (64 << 20, "64MiB")];

struct Nginx {
    child: Child,
    port: u16,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_nginx(base: &Path, root: &Path) -> Nginx {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free loopback port")
        .port();
    for d in ["tmp", "logs"] {
        std::fs::create_dir_all(base.join(d)).expect("nginx dirs");
    }
    let b = base.display();
    let conf = format!(
        r#"daemon off;
master_process off;
worker_processes 1;
pid {b}/nginx.pid;
error_log {b}/logs/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    sendfile on;
    keepalive_requests 1000000;
    client_body_temp_path {b}/tmp/body;
    proxy_temp_path {b}/tmp/proxy;
    fastcgi_temp_path {b}/tmp/fastcgi;
    uwsgi_temp_path {b}/tmp/uwsgi;
    scgi_temp_path {b}/tmp/scgi;
    server {{ listen 127.0.0.1:{port}; root {root}; }}
}}
"#,
        root = root.display()
    );
    let conf_path = base.join("nginx.conf");
    std::fs::write(&conf_path, conf).expect("write nginx.conf");
    let child = Command::new("/usr/sbin/nginx")
        .arg("-p")
        .arg(base)
        .arg("-e")
        .arg(base.join("logs/error.log"))
        .arg("-c")
        .arg(&conf_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start /usr/sbin/nginx (run ./setup.sh to install nginx-light)");
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "nginx did not start"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    Nginx { child, port }
}

fn fetch(io: &IoRuntime, uri: &str) -> usize {
    let items = io
        .call(Call::Fetch {
            uris: vec![Item::new("o", 0, uri.to_owned())],
        })
        .expect("fetch");
    items[0].data.len()
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("data");
    std::fs::create_dir_all(&root).expect("data dir");
    for (size, name) in SIZES {
        let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        std::fs::write(root.join(name), data).expect("write object");
    }
    let nginx = start_nginx(dir.path(), &root);
    let io = IoRuntime::start(RingConfig::new().max_object_bytes(128 << 20)).expect("io runtime");
    let agent = ureq::Agent::new_with_defaults();

    let mut files = c.benchmark_group("file");
    for (size, name) in SIZES {
        let path = root.join(name);
        let uri = format!("file://{}", path.display());
        files.throughput(Throughput::Bytes(size as u64));
        files.bench_with_input(BenchmarkId::new("pappus_fetch", name), &uri, |b, uri| {
            b.iter(|| assert_eq!(fetch(&io, uri), size))
        });
        files.bench_with_input(BenchmarkId::new("std_fs_read", name), &path, |b, path| {
            b.iter(|| assert_eq!(std::fs::read(path).expect("read").len(), size))
        });
    }
    files.finish();

    let mut http = c.benchmark_group("http");
    for (size, name) in SIZES {
        let url = format!("http://127.0.0.1:{}/{name}", nginx.port);
        http.throughput(Throughput::Bytes(size as u64));
        http.bench_with_input(BenchmarkId::new("pappus_fetch", name), &url, |b, url| {
            b.iter(|| assert_eq!(fetch(&io, url), size))
        });
        http.bench_with_input(BenchmarkId::new("ureq", name), &url, |b, url| {
            b.iter(|| {
                let mut response = agent.get(url).call().expect("ureq get");
                let mut body = Vec::with_capacity(size);
                response
                    .body_mut()
                    .as_reader()
                    .read_to_end(&mut body)
                    .expect("ureq body");
                assert_eq!(body.len(), size);
            })
        });
    }
    http.finish();
    drop(nginx);
}

criterion_group!(benches, bench);
criterion_main!(benches);
