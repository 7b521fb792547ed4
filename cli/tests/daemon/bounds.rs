//! The node's bounds, tried against `pappus serve` with two tenants: open
//! connections, request body bytes in flight, admission before the body and
//! open files. Each excess gets its typed answer at once, the other tenant is
//! still served, and the daemon keeps serving.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::thread;

use serde_json::{json, Value};

use crate::support::{register_stuck_as, wait_for_metric, wasm, Daemon, Response, LOAD_SAVE};
use crate::SHOUT;

/// A daemon with tenants `alpha` and `beta`; beta may read `DIR/b-in`.
struct Node {
    _dir: tempfile::TempDir,
    root: PathBuf,
    daemon: Daemon,
}

fn tokens_file(root: &Path) -> PathBuf {
    std::fs::create_dir_all(root.join("b-in")).expect("b-in");
    let tokens = format!(
        "[tenants.alpha]\ntokens = [\"alpha-secret\"]\n\
         [tenants.beta]\ntokens = [\"beta-secret\"]\n\
         [tenants.beta.io.file]\nread = [{read:?}]\n",
        read = root.join("b-in"),
    );
    let path = root.join("tokens.toml");
    std::fs::write(&path, tokens).expect("tokens file");
    path
}

fn node(args: &[&str]) -> Node {
    node_with(args, None)
}

fn node_with(args: &[&str], open_file_limit: Option<u64>) -> Node {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().canonicalize().expect("canonical tempdir");
    let tokens = tokens_file(&root).display().to_string();
    let mut all = vec!["--tokens", tokens.as_str()];
    all.extend_from_slice(args);
    let daemon = match open_file_limit {
        None => Daemon::start(&root, &all),
        Some(limit) => Daemon::start_with_open_file_limit(&root, &all, limit),
    };
    Node {
        _dir: dir,
        root,
        daemon,
    }
}

fn bearer(tenant: &str) -> String {
    format!("Bearer {tenant}-secret")
}

impl Node {
    fn call(&self, tenant: &str, method: &str, path: &str, body: &[u8]) -> Response {
        self.daemon.call_as(tenant, method, path, body)
    }

    /// Registers `upper` and `Shout` for `tenant`.
    fn shout(&self, tenant: &str) {
        self.call(tenant, "PUT", "/v1/functions/upper", &wasm("upper"))
            .expect(201);
        self.call(tenant, "PUT", "/v1/compositions", SHOUT.as_bytes())
            .expect(201);
    }

    /// `tenant` invokes `Shout` on `text` and gets it uppercased.
    fn shouts(&self, tenant: &str, text: &str) {
        let answer = self.call(
            tenant,
            "POST",
            "/v1/compositions/Shout/invoke",
            json!({ "Text": [{ "data": text }] }).to_string().as_bytes(),
        );
        answer.expect(200);
        assert_eq!(answer.json()["Loud"][0]["data"], text.to_uppercase());
    }
}

/// A connection the test holds open: requests on it keep the connection alive,
/// and each answer is read as soon as it is complete.
struct Held {
    stream: TcpStream,
    pending: Vec<u8>,
}

impl Held {
    fn open(node: &Node) -> Held {
        let stream = TcpStream::connect(node.daemon.addr).expect("connect");
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(120)))
            .expect("read timeout");
        Held {
            stream,
            pending: Vec::new(),
        }
    }

    /// Sends a request head (and `body`, if any) without closing.
    fn send(&mut self, head: &str, body: &[u8]) {
        self.stream.write_all(head.as_bytes()).expect("send head");
        self.stream.write_all(body).expect("send body");
    }

    /// `GET path` for `tenant` on this connection; answers the status.
    fn get(&mut self, tenant: &str, path: &str) -> Response {
        let head = format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\n\r\n",
            bearer(tenant)
        );
        self.send(&head, b"");
        self.answer()
    }

    /// Reads one whole answer (its head and `Content-Length` bytes).
    fn answer(&mut self) -> Response {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut parsed = httparse::Response::new(&mut headers);
            if let Ok(httparse::Status::Complete(head)) = parsed.parse(&self.pending) {
                let length = parsed
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                    .and_then(|h| std::str::from_utf8(h.value).ok()?.parse::<usize>().ok())
                    .expect("answers carry a Content-Length");
                if self.pending.len() >= head + length {
                    let response = Response {
                        status: parsed.code.expect("status"),
                        headers: parsed
                            .headers
                            .iter()
                            .map(|h| {
                                (
                                    h.name.to_owned(),
                                    String::from_utf8_lossy(h.value).into_owned(),
                                )
                            })
                            .collect(),
                        body: self.pending[head..head + length].to_vec(),
                    };
                    self.pending.drain(..head + length);
                    return response;
                }
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => panic!(
                    "connection closed before a whole answer: {}",
                    String::from_utf8_lossy(&self.pending)
                ),
                Ok(n) => self.pending.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => panic!("reading the answer: {e}"),
            }
        }
    }

    /// Reads until the daemon closes the connection.
    fn read_to_end(&mut self) {
        let mut rest = Vec::new();
        let _ = self.stream.read_to_end(&mut rest);
    }
}

fn detail(answer: &Response) -> Value {
    answer.json()["error"]["detail"].clone()
}

#[test]
fn connections_over_the_cap_are_answered_429_and_the_open_ones_still_served() {
    let node = node(&["--max-connections", "2"]);
    node.shout("beta");
    // Two connections held open, each known to be accepted (answered once).
    let mut first = Held::open(&node);
    first.get("alpha", "/v1/functions").expect(200);
    let mut second = Held::open(&node);
    second.get("beta", "/v1/functions").expect(200);

    // A third is answered at once with the typed refusal and closed.
    for _ in 0..3 {
        let refused = node.daemon.get("/healthz");
        refused.expect(429);
        assert_eq!(refused.error_kind(), "overloaded");
        assert_eq!(detail(&refused)["limit"], "max_connections");
        assert_eq!(refused.header("retry-after"), Some("1"));
    }

    // The open connections are still served, for either tenant.
    first.get("alpha", "/v1/compositions").expect(200);
    second.get("beta", "/v1/compositions").expect(200);

    // A connection that ends gives its place back: new clients are served.
    first.send(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"",
    );
    first.answer().expect(200);
    first.read_to_end();
    node.shouts("beta", "still here");
}

#[test]
fn body_bytes_in_flight_are_bounded_and_the_other_tenant_is_still_served() {
    let node = node(&[
        "--max-body-bytes",
        "1048576",
        "--max-body-bytes-in-flight",
        "1048576",
        "--max-module-bytes",
        "1048576",
    ]);
    node.shout("alpha");
    node.shout("beta");

    // Alpha starts a 768 KiB body and sends only half of it.
    let size = 768 * 1024;
    let mut slow = Held::open(&node);
    slow.send(
        &format!(
            "POST /v1/compositions/Shout/invoke?set=Text HTTP/1.1\r\nHost: x\r\n\
             Authorization: {}\r\nContent-Type: application/octet-stream\r\n\
             Content-Length: {size}\r\n\r\n",
            bearer("alpha")
        ),
        &vec![b'a'; size / 2],
    );
    wait_for_metric(&node.daemon, &format!("pappus_body_bytes_in_flight {size}"));

    // Beta's 512 KiB body does not fit beside it: refused before it is read.
    let big = vec![b'b'; 512 * 1024];
    let refused = node.daemon.request(
        "POST",
        "/v1/compositions/Shout/invoke?set=Text",
        &[
            ("authorization", bearer("beta").as_str()),
            ("content-type", "application/octet-stream"),
        ],
        &big,
    );
    refused.expect(429);
    assert_eq!(refused.error_kind(), "overloaded");
    assert_eq!(detail(&refused)["limit"], "max_body_bytes_in_flight");
    // A registration's body is bounded by the same budget.
    let refused = node.call("beta", "PUT", "/v1/functions/big", &big);
    refused.expect(429);
    assert_eq!(detail(&refused)["limit"], "max_body_bytes_in_flight");

    // A small one fits: beta is still served.
    node.shouts("beta", "small");

    // Alpha's body completes and is answered; the budget is whole again.
    slow.send("", &vec![b'a'; size / 2]);
    let answer = slow.answer();
    answer.expect(200);
    assert_eq!(answer.body, vec![b'A'; size]);
    wait_for_metric(&node.daemon, "pappus_body_bytes_in_flight 0");
    let fits = node.daemon.request(
        "POST",
        "/v1/compositions/Shout/invoke?set=Text",
        &[
            ("authorization", bearer("beta").as_str()),
            ("content-type", "application/octet-stream"),
        ],
        &big,
    );
    fits.expect(200);
}

#[test]
fn an_overloaded_daemon_answers_429_without_reading_the_body() {
    let node = node(&[
        "--max-in-flight",
        "1",
        "--queue-bound",
        "0",
        "--compute-threads",
        "1",
    ]);
    node.shout("beta");
    register_stuck_as(&node.daemon, "alpha", 3000);

    // Alpha's spinning function holds the only execution slot until its deadline.
    let addr = node.daemon.addr;
    let stuck = thread::spawn(move || {
        crate::support::request(
            addr,
            "POST",
            "/v1/compositions/Stuck/invoke",
            &[("authorization", bearer("alpha").as_str())],
            br#"{"In": [{"data": "x"}]}"#,
        )
    });
    wait_for_metric(&node.daemon, "pappus_in_flight_invocations 1");

    // Beta claims a 10 MiB body and sends none of it: the answer comes at once.
    let mut claimed = Held::open(&node);
    claimed.send(
        &format!(
            "POST /v1/compositions/Shout/invoke HTTP/1.1\r\nHost: x\r\n\
             Authorization: {}\r\nContent-Type: application/json\r\n\
             Content-Length: 10485760\r\n\r\n",
            bearer("beta")
        ),
        b"",
    );
    let refused = claimed.answer();
    refused.expect(429);
    assert_eq!(refused.error_kind(), "overloaded");
    assert_eq!(detail(&refused)["queue_bound"], 0);

    // A chunked body that has only begun: the same.
    let mut trickle = Held::open(&node);
    trickle.send(
        &format!(
            "POST /v1/compositions/Shout/invoke HTTP/1.1\r\nHost: x\r\n\
             Authorization: {}\r\nContent-Type: application/json\r\n\
             Transfer-Encoding: chunked\r\n\r\n5\r\n{{\"Tex\r\n",
            bearer("beta")
        ),
        b"",
    );
    let refused = trickle.answer();
    refused.expect(429);
    assert_eq!(refused.error_kind(), "overloaded");
    // Nothing of either body was held.
    let metrics = node.daemon.get("/metrics").text();
    assert!(
        metrics
            .lines()
            .any(|l| l == "pappus_body_bytes_in_flight 0"),
        "{metrics}"
    );

    // Once the slot is free, beta is served.
    let stuck = stuck.join().expect("stuck thread");
    stuck.expect(422);
    assert_eq!(detail(&stuck)["failure"], "timeout");
    node.shouts("beta", "after the spin");
}

/// Composition fetching each of its URIs: one file open per shard, all at once.
/// `count` files under beta's read root, and the inputs fetching them all.
fn many_files(node: &Node, count: usize) -> Value {
    let uris: Vec<Value> = (0..count)
        .map(|i| {
            let path = node.root.join(format!("b-in/f{i}.txt"));
            std::fs::write(&path, format!("file {i}")).expect("write input file");
            json!({ "name": format!("f{i}"), "data": format!("file://{}", path.display()) })
        })
        .collect();
    json!({ "Uris": uris })
}

#[test]
fn open_files_are_bounded_below_the_process_limit() {
    // 600 files fetched at once by a process that may open 256: the I/O
    // runtime holds at most 32 of them, so every fetch succeeds.
    let node = node_with(&["--io-max-open-files", "32"], Some(256));
    node.call("beta", "PUT", "/v1/compositions", LOAD_SAVE.as_bytes())
        .expect(201);
    let inputs = many_files(&node, 600);
    let answer = node.daemon.invoke_as("beta", "Load", &inputs);
    answer.expect(200);
    assert_eq!(answer.json()["Objects"].as_array().map(Vec::len), Some(600));
    node.daemon.get("/healthz").expect(200);
}

#[test]
fn running_out_of_file_descriptors_fails_the_call_and_the_daemon_keeps_serving() {
    // A bound above the process limit: 600 fetches at once run out of
    // descriptors (EMFILE).
    let node = node_with(&["--io-max-open-files", "4096"], Some(256));
    node.shout("alpha");
    node.call("beta", "PUT", "/v1/compositions", LOAD_SAVE.as_bytes())
        .expect(201);
    let inputs = many_files(&node, 600);
    let answer = node.daemon.invoke_as("beta", "Load", &inputs);
    // The fetch that found no descriptor failed its shard with a typed error
    // naming the cause.
    answer.expect(422);
    assert_eq!(answer.error_kind(), "failure", "{}", answer.text());
    let detail = detail(&answer);
    assert_eq!(detail["failure"], "io", "{}", answer.text());
    let cause = detail["cause"].as_str().unwrap_or_default();
    assert!(cause.contains("Too many open files"), "{}", answer.text());
    // The daemon keeps serving both tenants, with descriptors back.
    node.daemon.get("/healthz").expect(200);
    node.shouts("alpha", "still serving");
    let small = many_files(&node, 3);
    node.daemon.invoke_as("beta", "Load", &small).expect(200);
}

/// Sends `bytes` on a fresh connection and reads what comes back until the
/// daemon closes it: the answer's status line, if there was one.
fn raw_exchange(node: &Node, bytes: &[u8]) -> String {
    let mut stream = TcpStream::connect(node.daemon.addr).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(120)))
        .expect("read timeout");
    // The daemon may answer and close before reading everything.
    let _ = stream.write_all(bytes);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn hostile_request_text_gets_typed_answers_and_the_daemon_keeps_serving() {
    let node = node(&[]);
    node.shout("alpha");
    node.shout("beta");
    let invoke = |body: &[u8]| node.call("alpha", "POST", "/v1/compositions/Shout/invoke", body);

    // JSON inputs nested 100,000 deep, in an item and as a set.
    let deep = format!(
        r#"{{"Text": [{{"data": "x", "extra": {}1{}}}]}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let nested_set = format!(
        r#"{{"Text": {}{}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    for body in [deep.as_bytes(), nested_set.as_bytes()] {
        let answer = invoke(body);
        answer.expect(400);
        assert_eq!(answer.error_kind(), "invalid_input", "{}", answer.text());
    }
    // Numbers no item key can hold.
    for key in ["1e400", "99999999999999999999999999", "-1", "1.5"] {
        let body = format!(r#"{{"Text": [{{"data": "x", "key": {key}}}]}}"#);
        let answer = invoke(body.as_bytes());
        answer.expect(400);
        assert_eq!(
            answer.error_kind(),
            "invalid_input",
            "{key}: {}",
            answer.text()
        );
    }

    // Composition text built to nest or to be huge: refused with diagnostics.
    let texts = [
        "(".repeat(200_000),
        format!(
            "composition A (X) => (Y) {{ {} }}",
            "{".repeat(100_000)
        ),
        format!(
            "function f (in) => (out);\ncomposition A (X) => (Y) {{ f (in = each X{}) => (Y = out); }}",
            "[0]".repeat(50_000)
        ),
        format!(
            "composition A{} (X) => (Y) {{ }}",
            "9".repeat(100_000)
        ),
        "composition A (X) => (Y) { 99999999999999999999999999999 (in = each X) => (Y = out); }"
            .to_owned(),
    ];
    for text in &texts {
        let answer = node.call("alpha", "PUT", "/v1/compositions", text.as_bytes());
        answer.expect(400);
        assert_eq!(answer.error_kind(), "diagnostics", "{}", answer.text());
    }

    // A 1 MiB query string and ten thousand headers: refused by the HTTP
    // layer with a 4xx status, not a crash.
    let long_query = format!(
        "GET /v1/functions?{} HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\n\r\n",
        "a".repeat(1 << 20),
        bearer("alpha")
    );
    let many_headers = format!(
        "GET /v1/functions HTTP/1.1\r\nHost: x\r\n{}\r\n",
        (0..10_000)
            .map(|i| format!("X-H{i}: v\r\n"))
            .collect::<String>()
    );
    let huge_header = format!(
        "GET /v1/functions HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "v".repeat(1 << 20)
    );
    for request in [long_query, many_headers, huge_header] {
        let status = raw_exchange(&node, request.as_bytes());
        assert!(
            status.is_empty() || status.contains(" 4"),
            "unexpected answer {status:?}"
        );
    }

    node.daemon.get("/healthz").expect(200);
    node.shouts("alpha", "after alpha's attempts");
    node.shouts("beta", "beta unaffected");
}

#[test]
fn idle_and_trickling_clients_are_cut_off_and_their_places_reused() {
    let node = node(&[
        "--max-connections",
        "1",
        "--client-timeout-ms",
        "1500",
        "--max-in-flight",
        "1",
        "--queue-bound",
        "0",
    ]);
    // One connection, answered once and then idle, holds the only place.
    let mut idle = Held::open(&node);
    idle.get("alpha", "/v1/functions").expect(200);
    node.daemon.get("/healthz").expect(429);
    // The daemon closes it after client_timeout_ms without a request...
    idle.read_to_end();
    // ...and its place serves the next client.
    node.shout("beta");

    // A request head trickled in and never finished is cut off the same way.
    let mut trickle = Held::open(&node);
    trickle.send("GET /v1/functions HTTP/1.1\r\nHost: x\r\nX-Slow: ", b"");
    trickle.read_to_end();
    node.daemon.get("/healthz").expect(200);

    // An admitted body that stops arriving: 408, and the execution slot it
    // held is free again.
    let mut slow = Held::open(&node);
    slow.send(
        &format!(
            "POST /v1/compositions/Shout/invoke HTTP/1.1\r\nHost: x\r\n\
             Authorization: {}\r\nContent-Type: application/json\r\n\
             Content-Length: 100\r\n\r\n",
            bearer("beta")
        ),
        br#"{"Text": "#,
    );
    let late = slow.answer();
    late.expect(408);
    assert_eq!(late.error_kind(), "request_timeout");
    assert_eq!(detail(&late)["limit"], "client_timeout_ms");
    // The daemon closes that connection after its answer; its place is the
    // next client's once it has (the answer can arrive before the close).
    slow.read_to_end();
    node.shouts("beta", "slot free again");
}

#[test]
fn a_client_that_stops_reading_its_answer_is_cut_off() {
    // Long enough for the body to arrive; the answer is what stalls.
    let node = node(&["--max-connections", "1", "--client-timeout-ms", "2000"]);
    node.shout("alpha");
    // A 15 MiB answer, more than the sockets' buffers hold, to a client that
    // sends its request and then reads nothing.
    let size = 15 << 20;
    let mut stalled = Held::open(&node);
    stalled.send(
        &format!(
            "POST /v1/compositions/Shout/invoke?set=Text HTTP/1.1\r\nHost: x\r\n\
             Authorization: {}\r\nContent-Type: application/octet-stream\r\n\
             Content-Length: {size}\r\n\r\n",
            bearer("alpha")
        ),
        &vec![b'a'; size],
    );
    // While it holds the only connection, others are refused; once the
    // daemon gives up on it, the place serves the next client.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let answer = node.daemon.get("/healthz");
        if answer.status == 200 {
            break;
        }
        answer.expect(429);
        assert!(std::time::Instant::now() < deadline, "never cut off");
        thread::sleep(std::time::Duration::from_millis(20));
    }
    // The stalled client gets only part of its answer.
    let mut received = Vec::new();
    let _ = stalled.stream.read_to_end(&mut received);
    assert!(
        received.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&received[..received.len().min(200)])
    );
    assert!(
        received.len() < size,
        "the whole answer ({} bytes) was sent",
        received.len()
    );
}

#[test]
fn registrations_over_a_tenant_quota_are_answered_403_and_the_other_tenant_still_registers() {
    let node = node(&[
        "--max-functions-per-tenant",
        "1",
        "--max-compositions-per-tenant",
        "1",
    ]);
    node.shout("alpha");

    let refused = node.call("alpha", "PUT", "/v1/functions/identity", &wasm("identity"));
    refused.expect(403);
    assert_eq!(refused.error_kind(), "quota_exceeded");
    assert_eq!(
        detail(&refused),
        json!({ "tenant": "alpha", "what": "functions", "limit": 1 })
    );
    let whisper = "function upper (in) => (out);\n\
                   composition Whisper (Text) => (Loud) { upper (in = all Text) => (Loud = out); }";
    let refused = node.call("alpha", "PUT", "/v1/compositions", whisper.as_bytes());
    refused.expect(403);
    assert_eq!(refused.error_kind(), "quota_exceeded");
    assert_eq!(
        detail(&refused),
        json!({ "tenant": "alpha", "what": "compositions", "limit": 1 })
    );

    // Replacing is not adding; the tenant keeps working.
    node.call("alpha", "PUT", "/v1/functions/upper", &wasm("upper"))
        .expect(201);
    node.shouts("alpha", "still here");
    // The other tenant has a quota of its own.
    node.shout("beta");
    node.shouts("beta", "me too");
}
