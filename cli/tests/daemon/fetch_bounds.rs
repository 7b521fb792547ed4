//! `fetch` through a real `pappus serve`: the daemon's memory stays bounded
//! while an invocation fetches many large objects from nginx, an object its
//! reader cannot take fails fast with `too_large`, and the tenants' fetch
//! cache answers an unchanged object without its body, per tenant.

use std::path::Path;

use crate::support::{wait_for_metric, Daemon, Response};

/// Resident and peak resident memory of a process, in bytes (`VmRSS`, `VmHWM`).
fn rss(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .expect("a kB figure")
            * 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

const MIB: u64 = 1 << 20;

/// `Digest`: fetch each URI, count each object with `count` (an ABI v1
/// function, which receives the whole object in its memory).
const DIGEST: &str = "\
function count (in) => (counts);
composition Digest (Uris) => (Counts) {
    fetch (uris = each Uris) => (Objects = objects);
    count (in = each Objects) => (Counts = counts);
}
composition Load (Uris) => (Objects) {
    fetch (uris = each Uris) => (Objects = objects);
}
";

/// A daemon whose tenants `alpha` and `beta` may fetch from `nginx_host`.
fn daemon(dir: &Path, nginx_host: &str, args: &[&str]) -> Daemon {
    let tokens = format!(
        "[tenants.alpha]\ntokens = [\"alpha-secret\"]\n[tenants.alpha.io.http]\nallow = [{nginx_host:?}]\n\
         [tenants.beta]\ntokens = [\"beta-secret\"]\n[tenants.beta.io.http]\nallow = [{nginx_host:?}]\n"
    );
    let path = dir.join("tokens.toml");
    std::fs::write(&path, tokens).expect("tokens file");
    let path = path.display().to_string();
    let mut all = vec!["--tokens", path.as_str()];
    all.extend_from_slice(args);
    Daemon::start(dir, &all)
}

fn deploy(daemon: &Daemon, tenant: &str, count_query: &str) {
    let path = format!("/v1/functions/count{count_query}");
    daemon
        .call_as(tenant, "PUT", &path, &crate::support::wasm("count"))
        .expect(201);
    daemon
        .call_as(tenant, "PUT", "/v1/compositions", DIGEST.as_bytes())
        .expect(201);
}

fn invoke(daemon: &Daemon, tenant: &str, composition: &str, uris: &[String]) -> Response {
    let items: Vec<_> = uris
        .iter()
        .enumerate()
        .map(|(i, u)| serde_json::json!({ "name": format!("o{i}"), "key": i, "data": u }))
        .collect();
    daemon.invoke_as(tenant, composition, &serde_json::json!({ "Uris": items }))
}

/// The kind of a failed invocation's failure (`error.detail.failure`).
fn failure(answer: &Response) -> String {
    answer.json()["error"]["detail"]["failure"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// One small failing run (a missing object) starts the I/O runtime, so what
/// follows measures fetching alone; answers the daemon's resident bytes then.
fn warm_up(daemon: &Daemon, nginx_url: &str) -> u64 {
    let warm = invoke(daemon, "alpha", "Digest", &[format!("{nginx_url}/missing")]);
    assert_eq!(failure(&warm), "status", "{}", warm.text());
    rss(daemon.pid()).0
}

/// Sparse files of `size` bytes (zeros): nginx serves them in full, the
/// test's disk holds nothing.
fn sparse_objects(root: &Path, count: usize, size: u64) -> Vec<String> {
    (0..count)
        .map(|i| {
            let name = format!("big-{i}.bin");
            let file = std::fs::File::create(root.join(&name)).expect("object file");
            file.set_len(size).expect("object size");
            name
        })
        .collect()
}

#[test]
fn an_invocation_fetching_many_large_objects_keeps_the_daemon_memory_bounded() {
    let nginx = pappus_testkit::nginx();
    let host = nginx.url().trim_start_matches("http://").to_owned();
    // 8 objects of 128 MiB: 1 GiB fetched by one invocation, each read
    // whole by an ABI v1 function allowed 192 MiB. nginx sends validators, so
    // with the fetch cache on the objects go to its files; with it off, they
    // are spilled. Either way they are on disk, not in the daemon's memory.
    let names = sparse_objects(&nginx.root, 8, 128 * MIB);
    let uris: Vec<String> = names
        .iter()
        .map(|n| format!("{}/{n}", nginx.url()))
        .collect();
    for cache_mib in ["0", "2048"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let daemon = daemon(
            dir.path(),
            &host,
            &[
                "--compute-threads",
                "1",
                "--io-invocation-fetch-memory-mib",
                "32",
                "--io-fetch-memory-mib",
                "64",
                "--fetch-cache-node-mib",
                cache_mib,
            ],
        );
        deploy(&daemon, "alpha", "?memory_mib=192");
        // A first small run starts the I/O runtime.
        let before = warm_up(&daemon, &nginx.url());
        let answer = invoke(&daemon, "alpha", "Digest", &uris);
        answer.expect(200);
        let counts = answer.json()["Counts"].as_array().expect("counts").len();
        assert_eq!(counts, 8, "{}", answer.text());
        let (after, peak) = rss(daemon.pid());
        // What may be resident at once: the invocation's 32 MiB of objects in
        // memory, one sandbox's 192 MiB and the object it is reading (128 MiB),
        // plus 64 MiB of slack; holding the objects would take over 1 GiB.
        let bound = before + (32 + 192 + 128 + 64) * MIB;
        eprintln!(
            "fetch cache {cache_mib} MiB: daemon RSS {} MiB before, {} MiB peak, {} MiB after \
             (1 GiB fetched; bound {} MiB)",
            before / MIB,
            peak / MIB,
            after / MIB,
            bound / MIB
        );
        assert!(peak < bound, "peak RSS {} MiB over the bound", peak / MIB);
        let metrics = daemon.get("/metrics").text();
        let metric = |name: &str| {
            metrics
                .lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or_else(|| panic!("{name} missing:\n{metrics}"))
        };
        if cache_mib == "0" {
            assert!(metric("pappus_fetch_spills_total") >= 7, "{metrics}");
            assert_eq!(metric("pappus_fetch_cache_bytes"), 0);
        } else {
            assert_eq!(metric("pappus_fetch_cache_bytes"), 8 * 128 * MIB);
        }
        // The invocation's objects are let go once its last shard's thread
        // has dropped it, which may be just after the answer.
        wait_for_metric(&daemon, "pappus_fetch_memory_bytes 0");
        wait_for_metric(&daemon, "pappus_fetch_spill_bytes 0");
        // Spill files have no name: nothing is left in the spill directory.
        let spill = dir.path().join("data/spill");
        assert_eq!(std::fs::read_dir(spill).expect("spill dir").count(), 0);
    }
}

#[test]
fn an_object_larger_than_its_reader_takes_fails_fast_with_too_large() {
    let nginx = pappus_testkit::nginx();
    let host = nginx.url().trim_start_matches("http://").to_owned();
    let dir = tempfile::tempdir().expect("tempdir");
    // The case: 12 objects of 200 MiB, read by a function allowed 64 MiB.
    let names = sparse_objects(&nginx.root, 12, 200 * MIB);
    let daemon = daemon(dir.path(), &host, &["--function-memory-mib", "64"]);
    deploy(&daemon, "alpha", "");
    let uris: Vec<String> = names
        .iter()
        .map(|n| format!("{}/{n}", nginx.url()))
        .collect();
    let before = warm_up(&daemon, &nginx.url());
    let answer = invoke(&daemon, "alpha", "Digest", &uris);
    assert_eq!(failure(&answer), "too_large", "{}", answer.text());
    let text = answer.text();
    assert!(text.contains("/big-"), "names the URI: {text}");
    assert!(
        text.contains("memory limit of function `count`") && text.contains(&(64 * MIB).to_string()),
        "names the limit: {text}"
    );
    let (_, peak) = rss(daemon.pid());
    assert!(
        peak < before + 64 * MIB,
        "peak RSS {} MiB from {} MiB: the objects were buffered",
        peak / MIB,
        before / MIB
    );
}

/// `(status, body bytes)` nginx logged for `path`.
fn logged(log: &Path, path: &str) -> Vec<(u16, u64)> {
    pappus_testkit::logged_body_bytes(log, path)
}

#[test]
fn the_fetch_cache_answers_unchanged_objects_without_their_body_per_tenant() {
    let (nginx, log) = pappus_testkit::nginx_logging();
    let host = nginx.url().trim_start_matches("http://").to_owned();
    let dir = tempfile::tempdir().expect("tempdir");
    pappus_testkit::put_file(&nginx.root, "model.bin", &pappus_testkit::pattern(3 << 20));
    let daemon = daemon(dir.path(), &host, &[]);
    for tenant in ["alpha", "beta"] {
        deploy(&daemon, tenant, "");
    }
    let uri = vec![format!("{}/model.bin", nginx.url())];
    for tenant in ["alpha", "alpha", "beta", "alpha", "beta"] {
        let answer = invoke(&daemon, tenant, "Digest", &uri);
        answer.expect(200);
        assert_eq!(answer.json()["Counts"][0]["data"], "1", "{}", answer.text());
    }
    assert_eq!(
        logged(&log, "/model.bin"),
        vec![(200, 3 << 20), (304, 0), (200, 3 << 20), (304, 0), (304, 0)],
        "beta's first fetch did not use alpha's entry"
    );
    // The invocation log says how many objects each invocation had from the cache.
    let logs = daemon.call_as("alpha", "GET", "/v1/logs", b"").json();
    let hits: Vec<u64> = logs["invocations"]
        .as_array()
        .expect("invocations")
        .iter()
        .map(|e| e["fetch_cache_hits"].as_u64().expect("fetch_cache_hits"))
        .collect();
    assert_eq!(hits, [0, 1, 1], "{logs}");
    let metrics = daemon.get("/metrics").text();
    for line in [
        "pappus_fetch_cache_hits_total 3",
        "pappus_fetch_cache_misses_total 2",
        "pappus_fetch_cache_bytes 6291456",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "{line} missing:\n{metrics}"
        );
    }
    // A changed object (another size, so another ETag) is transferred again.
    pappus_testkit::put_file(&nginx.root, "model.bin", &pappus_testkit::pattern(1 << 20));
    let answer = invoke(&daemon, "alpha", "Load", &uri);
    answer.expect(200);
    assert_eq!(logged(&log, "/model.bin").last(), Some(&(200, 1 << 20)));
}
