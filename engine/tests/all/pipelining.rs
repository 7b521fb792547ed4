//! Pipelining: an `each` consumer shard starts as soon as its item exists,
//! not after the producer's last shard. Observed through the event hook.

use std::sync::{Arc, Mutex};

use pappus_engine::{Engine, Event, EventKind, Limits};

use crate::support::*;

#[test]
fn each_consumer_starts_before_slow_sibling_finishes() {
    let events: Arc<Mutex<Vec<Event>>> = Arc::default();
    let sink = events.clone();
    let engine = Engine::builder()
        .compute_threads(2)
        .on_event(move |e| sink.lock().unwrap().push(e.clone()))
        .build()
        .unwrap();
    register_functions(
        &engine.tenant(pappus_engine::DEFAULT_TENANT),
        Limits::default(),
    );
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
