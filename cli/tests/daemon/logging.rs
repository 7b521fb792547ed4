//! The daemon's log on stderr. Lines below `WARN` are buffered for a moment,
//! but none is lost or broken: the buffer is written out when the daemon
//! exits, lines from concurrent requests stay whole, and warnings are written
//! at once.

use std::collections::BTreeMap;
use std::net::TcpStream;
use std::thread;

use serde_json::Value;

use crate::support::{register, request, Daemon};
use crate::SHOUT;

const INPUT: &str = r#"{"Text": [{"data": "logged"}]}"#;

/// Each line of a `--log-format json` log, parsed; panics on a line that is
/// not one whole JSON object.
fn json_lines(log: &str) -> Vec<Value> {
    log.lines()
        .map(|line| {
            serde_json::from_str::<Value>(line)
                .unwrap_or_else(|e| panic!("not a whole JSON line ({e}): {line:?}\nlog:\n{log}"))
        })
        .collect()
}

#[test]
fn every_line_is_written_by_the_time_the_daemon_exits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(dir.path(), &["--log-format", "json"]);
    register(&daemon, "upper", "");
    daemon.put("/v1/compositions", SHOUT.as_bytes()).expect(201);
    daemon
        .post_json("/v1/compositions/Shout/invoke?seed=4242&time=77", INPUT)
        .expect(200);

    let log = daemon.stop();
    let lines = json_lines(&log);
    let invocations: Vec<&Value> = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "invocation")
        .collect();
    assert_eq!(invocations.len(), 1, "{log}");
    assert_eq!(invocations[0]["fields"]["seed"], 4242, "{log}");
    assert_eq!(invocations[0]["fields"]["outcome"], "ok", "{log}");
    // The last line is logged just before the daemon returns from serving.
    let last = lines.last().expect("a log line");
    assert_eq!(last["fields"]["message"], "drained; exiting", "{log}");
}

#[test]
fn lines_of_concurrent_invocations_are_whole_and_all_there() {
    const THREADS: u64 = 4;
    const EACH: u64 = 25;
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(dir.path(), &["--log-format", "json"]);
    register(&daemon, "upper", "");
    daemon.put("/v1/compositions", SHOUT.as_bytes()).expect(201);

    let clients: Vec<_> = (0..THREADS)
        .map(|t| {
            let addr = daemon.addr;
            thread::spawn(move || {
                for i in 0..EACH {
                    let seed = 1000 + t * EACH + i;
                    let path = format!("/v1/compositions/Shout/invoke?seed={seed}");
                    let json = [("content-type", "application/json")];
                    request(addr, "POST", &path, &json, INPUT.as_bytes()).expect(200);
                }
            })
        })
        .collect();
    for client in clients {
        client.join().expect("client thread");
    }

    let log = daemon.stop();
    let mut seeds = BTreeMap::new();
    for line in json_lines(&log) {
        if line["fields"]["message"] == "invocation" {
            let seed = line["fields"]["seed"].as_u64().expect("seed field");
            *seeds.entry(seed).or_insert(0) += 1;
        }
    }
    let expected: BTreeMap<u64, i32> = (1000..1000 + THREADS * EACH).map(|s| (s, 1)).collect();
    assert_eq!(seeds, expected, "{log}");
}

#[test]
fn a_warning_is_written_before_the_daemon_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(dir.path(), &["--max-connections", "1"]);
    // Accepted first, so it holds the only place; the next connection is
    // refused, and the refusal's warning is logged before its answer is sent.
    let _held = TcpStream::connect(daemon.addr).expect("connect");
    daemon.get("/healthz").expect(429);

    // No waiting: the warning was written out before the answer left.
    let log = daemon.log();
    assert!(
        log.contains("connection refused: max_connections reached"),
        "{log}"
    );
}
