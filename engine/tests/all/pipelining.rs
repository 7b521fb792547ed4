//! Pipelining: an `each` consumer shard starts as soon as its item exists,
//! not after the producer's last shard. Observed through the event hook.

use std::sync::{Arc, Mutex};

use pappus_engine::{Engine, Event, EventKind};

use crate::support::*;

/// An engine that records every event it emits.
fn recording_engine() -> (Engine, Arc<Mutex<Vec<Event>>>) {
    let events: Arc<Mutex<Vec<Event>>> = Arc::default();
    let sink = events.clone();
    let engine =
        engine_with(|builder| builder.on_event(move |e| sink.lock().unwrap().push(e.clone())));
    (engine, events)
}

#[test]
fn each_consumer_starts_before_slow_sibling_finishes() {
    let (engine, events) = recording_engine();
    let text = "composition Pipe (M) => (Out) {
        matmul (in = each M) => (Sq = out);
        identity (in = each Sq) => (Out = out);
    }";
    engine
        .register_compositions(&format!("{DECLS}\n{text}"))
        .unwrap();
    // A 2x2 matrix squares at once; a 360x360 one takes tens of milliseconds.
    let inputs = sets(&[(
        "M",
        vec![matrix("small", 1, 2, 1), matrix("big", 2, 360, 1)],
    )]);
    let answer = engine.invoke("Pipe", inputs).unwrap();
    assert_eq!(answer.outputs["Out"].len(), 2);

    let events = events.lock().unwrap();
    let find = |kind: EventKind, app: &str, shard: &str| {
        events
            .iter()
            .find(|e| e.kind == kind && e.application.contains(app) && e.shard.contains(shard))
            .unwrap_or_else(|| panic!("no {kind:?} event for {app} {shard}: {events:#?}"))
            .at
    };
    let downstream_small = find(EventKind::ShardStarted, "`identity`", "\"small\"");
    let upstream_big = find(EventKind::ShardFinished, "`matmul`", "\"big\"");
    assert!(
        downstream_small < upstream_big,
        "identity(small) started {:?} after matmul(big) finished",
        downstream_small - upstream_big
    );
    // `all` consumers, by contrast, wait for the whole set: checked by the
    // mode tests' outputs; here the 4 shards each started and finished once.
    assert_eq!(events.len(), 8);
}

/// Prefetch: each object's consumer starts as soon as that object has arrived,
/// while another fetch of the same invocation is still waiting on a slow server.
#[test]
fn a_fetched_object_is_computed_on_while_a_slow_fetch_is_pending() {
    use std::io::Write as _;

    let (engine, events) = recording_engine();
    engine
        .register_compositions(&format!("{DECLS}\n{LOAD}"))
        .unwrap();
    // The slow server answers only after it is told to.
    let (release, gate) = std::sync::mpsc::channel::<()>();
    let gate = Mutex::new(gate);
    let slow = pappus_testkit::tcp_server(move |mut stream| {
        pappus_testkit::read_head(&mut stream);
        let _ = gate.lock().unwrap().recv();
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow");
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fast.txt"), "fast").unwrap();
    let pending = engine.invoke_async(
        "Load",
        sets(&[(
            "Uris",
            vec![
                item(
                    "fast",
                    1,
                    &pappus_testkit::file_uri(&dir.path().join("fast.txt")),
                ),
                item("slow", 2, &format!("http://{slow}/slow.txt")),
            ],
        )]),
    );
    // Wait until `upper` has finished on the fast object, then let the slow one go.
    let upper_done = |events: &[Event]| {
        events.iter().any(|e| {
            e.kind == EventKind::ShardFinished
                && e.application.contains("`upper`")
                && e.shard.contains("\"fast\"")
        })
    };
    let start = std::time::Instant::now();
    while !upper_done(&events.lock().unwrap()) {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "upper(fast) did not run while fetch(slow) was pending: {:#?}",
            events.lock().unwrap()
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    release.send(()).unwrap();
    let answer = futures_executor::block_on(pending).unwrap();
    assert_eq!(
        show_set(&answer.outputs, "Loud"),
        ["fast@1=FAST", "slow@2=SLOW"]
    );
}

/// Shards of one application run in parallel on the compute threads, also right
/// after a synchronous call (when an idle compute thread is spinning for work).
#[test]
fn sibling_shards_run_in_parallel_after_a_synchronous_call() {
    let (engine, events) = recording_engine();
    let text = "composition Squares (M) => (Out) {
        matmul (in = each M) => (Out = out);
    }";
    engine
        .register_compositions(&format!("{DECLS}\n{text}"))
        .unwrap();
    let small = || sets(&[("M", vec![matrix("warm", 0, 2, 1)])]);
    let big = || sets(&[("M", vec![matrix("a", 1, 300, 1), matrix("b", 2, 300, 2)])]);
    for _ in 0..5 {
        // A synchronous call first, so a compute thread is spinning when the
        // two big shards are queued together.
        engine.invoke("Squares", small()).unwrap();
        events.lock().unwrap().clear();
        engine.invoke("Squares", big()).unwrap();
        let events = events.lock().unwrap();
        let first_finish = events
            .iter()
            .position(|e| e.kind == EventKind::ShardFinished)
            .unwrap();
        let started_before = events[..first_finish]
            .iter()
            .filter(|e| e.kind == EventKind::ShardStarted)
            .count();
        assert_eq!(started_before, 2, "second shard waited: {events:#?}");
    }
}
