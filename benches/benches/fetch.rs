//! `fetch` through io_uring against the plain ways of reading the same bytes.
//!
//! For 4 KiB, 1 MiB and 64 MiB objects, side by side in one run:
//! - `file/pappus_fetch`: `fetch` of a `file://` URI (open, statx, reads on the ring);
//! - `file/std_fs_read`: `std::fs::read` of the same file;
//! - `http/pappus_fetch`: `fetch` of the same file served by nginx on loopback
//!   (keep-alive connection reused across iterations);
//! - `http/ureq`: a plain blocking client (`ureq`, one agent, keep-alive).
//!
//! nginx is started by the bench (`pappus-testkit`) in a temporary directory on a free loopback
//! port (Debian `nginx-light`; run ./setup.sh if it is missing) and stopped
//! at the end.

use std::io::Read as _;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pappus_io::{Call, IoRuntime, Item, RingConfig};

const SIZES: [(usize, &str); 3] = [(4 << 10, "4KiB"), (1 << 20, "1MiB"), (64 << 20, "64MiB")];

fn fetch(io: &IoRuntime, uri: &str) -> usize {
    let items = io
        .call(Call::Fetch {
            uris: vec![Item::new("o", 0, uri.to_owned())],
        })
        .expect("fetch");
    items[0].data.len()
}

fn bench(c: &mut Criterion) {
    let nginx = pappus_testkit::nginx();
    let root = nginx.root.clone();
    for (size, name) in SIZES {
        pappus_testkit::put_file(&root, name, &pappus_testkit::pattern(size));
    }
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
