//! Two tenants on one daemon, each with the I/O policy of the tokens file: every
//! attack of one tenant on the node or the other tenant (reading or writing
//! files outside its roots, reaching loopback services, naming the other's
//! Redis keys, growing `/metrics`) is refused with `forbidden` or has no effect,
//! the other tenant keeps working, and the daemon keeps serving and restarts.

use std::io::Write as _;
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

use crate::support::{self, register_stuck_as, wait_for_metric, Daemon, Response, LOAD_SAVE};

/// Builtin-only compositions, registered by both tenants.
const KV: &str = "\
composition Get (Keys) => (Values) {
    kv_get (keys = all Keys) => (Values = values);
}
composition Put (Pairs) => (Receipts) {
    kv_put (pairs = all Pairs) => (Receipts = receipts);
}
";

struct Node {
    _dir: tempfile::TempDir,
    root: std::path::PathBuf,
    daemon: Daemon,
    args: Vec<String>,
    _nginx: pappus_testkit::Server,
    nginx_url: String,
    _redis: pappus_testkit::Server,
}

/// A daemon with tenants `alpha` (least authority plus Redis) and `beta`
/// (reads `DIR/b-in`, writes `DIR/b-out`, may reach the tests' nginx on
/// loopback, Redis), both with the default Redis prefix.
fn node() -> Node {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().canonicalize().expect("canonical tempdir");
    std::fs::create_dir_all(root.join("b-in")).expect("b-in");
    std::fs::create_dir_all(root.join("b-out")).expect("b-out");
    std::fs::write(root.join("b-in/data.txt"), "beta's data").expect("b-in file");
    let nginx = pappus_testkit::nginx();
    std::fs::write(nginx.root.join("hello.txt"), "hello from loopback").expect("nginx file");
    let nginx_url = nginx.url();
    let nginx_host = nginx_url.trim_start_matches("http://").to_owned();
    let redis = pappus_testkit::redis();
    let tokens = format!(
        "[tenants.alpha]\n\
         tokens = [\"alpha-secret\"]\n\
         [tenants.alpha.io.redis]\n\
         [tenants.beta]\n\
         tokens = [\"beta-secret\"]\n\
         [tenants.beta.io.file]\n\
         read = [{read:?}]\n\
         write = [{write:?}]\n\
         [tenants.beta.io.http]\n\
         allow = [{nginx_host:?}]\n\
         [tenants.beta.io.redis]\n",
        read = root.join("b-in"),
        write = root.join("b-out"),
    );
    std::fs::write(root.join("tokens.toml"), tokens).expect("tokens file");
    let args = vec![
        "--tokens".to_owned(),
        root.join("tokens.toml").display().to_string(),
        "--redis-url".to_owned(),
        format!("redis://127.0.0.1:{}/0", redis.port),
    ];
    let daemon = start(&root, &args);
    let node = Node {
        _dir: dir,
        root,
        daemon,
        args,
        _nginx: nginx,
        nginx_url,
        _redis: redis,
    };
    for tenant in ["alpha", "beta"] {
        for source in [LOAD_SAVE, KV] {
            node.call(tenant, "PUT", "/v1/compositions", source.as_bytes())
                .expect(201);
        }
    }
    node
}

fn start(root: &Path, args: &[String]) -> Daemon {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Daemon::start(root, &args)
}

impl Node {
    fn call(&self, tenant: &str, method: &str, path: &str, body: &[u8]) -> Response {
        self.daemon.call_as(tenant, method, path, body)
    }

    fn invoke(&self, tenant: &str, composition: &str, inputs: Value) -> Response {
        self.daemon.invoke_as(tenant, composition, &inputs)
    }

    fn load(&self, tenant: &str, uri: &str) -> Response {
        self.daemon.load_as(tenant, uri)
    }

    fn save(&self, tenant: &str, uri: &str, data: &str) -> Response {
        self.daemon.save_as(tenant, uri, data)
    }

    /// Beta can still read its own file: the other tenant is unaffected.
    fn beta_still_works(&self) {
        let uri = format!("file://{}", self.root.join("b-in/data.txt").display());
        let answer = self.load("beta", &uri);
        answer.expect(200);
        assert!(answer.text().contains("beta's data"), "{}", answer.text());
        self.daemon.get("/healthz").expect(200);
    }
}

/// Asserts a `403 forbidden` naming `uri` and a rule, in the documented
/// shape; answers the rule.
#[track_caller]
fn refused(answer: &Response, uri: &str) -> String {
    let rule = support::refused(answer, uri);
    assert!(!rule.is_empty(), "{}", answer.text());
    let detail = &answer.json()["error"]["detail"];
    // The documented shape: where the refused call was, and its kind.
    assert_eq!(detail["failure"], "forbidden", "{}", answer.text());
    for field in ["composition", "application", "shard", "cause"] {
        assert!(detail[field].is_string(), "{field}: {}", answer.text());
    }
    assert!(
        detail["cause"].as_str().unwrap_or_default().contains(&rule),
        "{}",
        answer.text()
    );
    rule
}

#[test]
fn a_tenant_cannot_read_files_outside_its_roots() {
    let node = node();
    let targets = [
        "file:///etc/passwd".to_owned(),
        "file:///proc/self/environ".to_owned(),
        format!("file://{}", node.root.join("tokens.toml").display()),
        format!("file://{}", node.root.join("daemon.log").display()),
        format!("file://{}", node.root.join("b-in/data.txt").display()),
        format!("file://{}/../tokens.toml", node.root.join("b-in").display()),
    ];
    for uri in &targets {
        refused(&node.load("alpha", uri), uri);
    }
    // Beta's own roots do not reach the daemon's files either.
    for uri in [
        format!("file://{}/../tokens.toml", node.root.join("b-in").display()),
        format!("file://{}", node.root.join("tokens.toml").display()),
        "file:///proc/self/environ".to_owned(),
    ] {
        refused(&node.load("beta", &uri), &uri);
    }
    // The same rule whether the target exists or not.
    let existing = format!("file://{}", node.root.join("b-in/data.txt").display());
    let missing = format!("file://{}", node.root.join("b-in/missing.txt").display());
    assert_eq!(
        refused(&node.load("alpha", &existing), &existing),
        refused(&node.load("alpha", &missing), &missing)
    );
    // Every refused call is counted for the tenant that made it: alpha made
    // eight (six, then two with and without a target), beta three.
    let text = node.daemon.get("/metrics").text();
    for line in [
        "pappus_io_forbidden_total{tenant=\"alpha\"} 8",
        "pappus_io_forbidden_total{tenant=\"beta\"} 3",
        "pappus_io_forbidden_calls_total 11",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing: {text}");
    }
    node.beta_still_works();
}

#[test]
fn a_tenant_cannot_write_the_daemons_files_or_outside_its_write_roots() {
    let node = node();
    let data = node.root.join("data");
    let targets = [
        format!("file://{}", data.join("planted").display()),
        format!("file://{}", data.join("cache/planted").display()),
        format!("file://{}", node.root.join("tokens.toml").display()),
        format!("file://{}", node.root.join("b-out/planted").display()),
        "file:///tmp/planted-by-alpha".to_owned(),
    ];
    for uri in &targets {
        refused(&node.save("alpha", uri, "evil"), uri);
    }
    // Beta writes beneath its root, and nowhere else.
    let own = format!("file://{}", node.root.join("b-out/ok.txt").display());
    node.save("beta", &own, "fine").expect(200);
    let into_data = format!("file://{}", data.join("planted").display());
    refused(&node.save("beta", &into_data, "evil"), &into_data);
    assert!(!data.join("planted").exists());
    assert!(!node.root.join("b-out/planted").exists());
    // The tokens file is intact: both tenants still authenticate.
    node.call("alpha", "GET", "/v1/compositions", b"")
        .expect(200);
    node.beta_still_works();
}

#[test]
fn loopback_is_refused_unless_allowed() {
    let node = node();
    let hello = format!("{}/hello.txt", node.nginx_url);
    refused(&node.load("alpha", &hello), &hello);
    for uri in [
        "http://127.0.0.2/".to_owned(),
        "http://[::1]/".to_owned(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://10.0.0.1/".to_owned(),
        format!("http://localhost:{}/hello.txt", node.daemon.addr.port()),
    ] {
        refused(&node.load("alpha", &uri), &uri);
    }
    // The same service under every other spelling of a loopback, unspecified
    // or private address: refused by the address connected to.
    let port = node
        .nginx_url
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_owned();
    for host in [
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "0.0.0.0",
        "[::]",
        "2130706433",
        "0x7f.1",
        "0x7f000001",
        "0177.0.0.1",
        "127.1",
        "localhost.",
        "LocalHost",
        "[fd00::1]",
        "[fe80::1]",
        "100.64.0.1",
        "192.168.0.1",
        "172.16.0.1",
    ] {
        let uri = format!("http://{host}:{port}/hello.txt");
        let answer = node.load("alpha", &uri);
        assert!(!answer.text().contains("hello from loopback"), "{uri}");
        refused(&answer, &uri);
    }
    let allowed = node.load("beta", &hello);
    allowed.expect(200);
    assert!(
        allowed.text().contains("hello from loopback"),
        "{}",
        allowed.text()
    );
    node.beta_still_works();
}

#[test]
fn a_tenant_cannot_name_anothers_redis_keys() {
    let node = node();
    let pairs = |value: &str| json!({ "Pairs": [{ "name": "secret", "data": value }] });
    let keys = json!({ "Keys": [{ "data": "secret" }] });
    node.invoke("beta", "Put", pairs("beta's value"))
        .expect(200);
    // Alpha's `secret` is another key: empty, and writing it leaves beta's.
    let alpha_view = node.invoke("alpha", "Get", keys.clone());
    alpha_view.expect(200);
    assert!(
        !alpha_view.text().contains("beta's value"),
        "{}",
        alpha_view.text()
    );
    for name in ["../beta/secret", "tenant/beta/secret"] {
        let answer = node.invoke("alpha", "Get", json!({ "Keys": [{ "data": name }] }));
        answer.expect(200);
        assert!(!answer.text().contains("beta's value"), "{}", answer.text());
    }
    node.invoke("alpha", "Put", pairs("alpha's value"))
        .expect(200);
    let beta_view = node.invoke("beta", "Get", keys);
    beta_view.expect(200);
    assert!(
        beta_view.text().contains("beta's value"),
        "{}",
        beta_view.text()
    );
    assert!(
        !beta_view.text().contains("alpha's value"),
        "{}",
        beta_view.text()
    );
}

#[test]
fn metrics_do_not_grow_with_names_clients_invent() {
    let node = node();
    node.load("alpha", "file:///etc/passwd").expect(403);
    let series = |node: &Node| {
        node.daemon
            .get("/metrics")
            .text()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.rsplit_once(' ').map_or(l, |(name, _)| name).to_owned())
            .collect::<std::collections::BTreeSet<_>>()
    };
    let before = series(&node);
    for i in 0..50 {
        let name = format!("Invented{i}");
        node.invoke("alpha", &name, json!({})).expect(404);
        node.daemon
            .request(
                "POST",
                &format!("/v1/compositions/{name}/invoke"),
                &[("authorization", "Bearer invented-token")],
                b"{}",
            )
            .expect(403);
        node.daemon.get(&format!("/v1/{name}"));
        node.daemon.get(&format!("/{name}")).expect(404);
        node.load("alpha", "file:///etc/passwd").expect(403);
    }
    assert_eq!(before, series(&node));
}

#[test]
fn a_client_that_disconnects_cancels_its_invocation() {
    let node = node();
    register_stuck_as(&node.daemon, "beta", 60_000);
    let body = br#"{"In": [{"data": "x"}]}"#;
    let mut stream = TcpStream::connect(node.daemon.addr).expect("connect");
    let head = format!(
        "POST /v1/compositions/Stuck/invoke HTTP/1.1\r\nHost: x\r\n\
         Authorization: Bearer beta-secret\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("send head");
    stream.write_all(body).expect("send body");
    wait_for_metric(&node.daemon, "pappus_in_flight_invocations 1");
    drop(stream);
    // The deadline is ten minutes away: only the cancellation ends it.
    wait_for_metric(&node.daemon, "pappus_invocations_cancelled_total 1");
    wait_for_metric(&node.daemon, "pappus_in_flight_invocations 0");
    node.beta_still_works();
}

#[test]
fn the_daemon_restarts_on_its_data_after_the_attacks() {
    let node = node();
    let into_data = format!("file://{}", node.root.join("data/planted").display());
    refused(&node.save("alpha", &into_data, "evil"), &into_data);
    let Node {
        _dir,
        root,
        daemon,
        args,
        _nginx,
        nginx_url,
        _redis,
    } = node;
    daemon.kill9();
    let node = Node {
        daemon: start(&root, &args),
        _dir,
        root,
        args,
        _nginx,
        nginx_url,
        _redis,
    };
    // The registrations survived, and the policies still hold.
    node.beta_still_works();
    refused(
        &node.load("alpha", "file:///etc/passwd"),
        "file:///etc/passwd",
    );
}

#[test]
fn a_bad_policy_stops_the_daemon_naming_the_tenant_and_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        (
            "[tenants.alpha]\ntokens = [\"a\"]\n[tenants.alpha.io.file]\nreed = [\"/srv\"]\n",
            ["alpha", "reed"],
        ),
        (
            "[tenants.alpha]\ntokens = [\"a\"]\n[tenants.alpha.io.file]\nread = [\"srv\"]\n",
            ["alpha", "srv"],
        ),
        (
            "[tenants.alpha]\ntokens = [\"a\"]\n[tenants.alpha.io.redis]\nprefix = \"t/\"\n\
             [tenants.beta]\ntokens = [\"b\"]\n[tenants.beta.io.redis]\nprefix = \"t/b/\"\n",
            ["alpha", "prefix"],
        ),
    ];
    for (text, words) in cases {
        let tokens = dir.path().join("tokens.toml");
        std::fs::write(&tokens, text).expect("tokens file");
        let out = Command::new(crate::pappus_binary())
            .args(["serve", "--listen", "127.0.0.1:0", "--tokens"])
            .arg(&tokens)
            .output()
            .expect("run pappus serve");
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        for word in words {
            assert!(stderr.contains(word), "{word:?} missing from: {stderr}");
        }
    }
}

#[test]
fn a_tenant_cannot_use_buckets_it_is_not_granted() {
    // Refused by the policy before any store is chosen, so no S3 server is
    // needed: neither tenant was granted a bucket, and the node's credentials
    // are never lent to a tenant without `node_credentials = true`.
    let node = node();
    for uri in ["s3://pappus/beta/data", "s3://any-bucket/key"] {
        refused(&node.load("alpha", uri), uri);
        refused(&node.save("alpha", uri, "evil"), uri);
    }
    node.beta_still_works();
}
