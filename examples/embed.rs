//! Embedding the Pappus engine in a Rust program.
//!
//! Builds an engine, registers two functions and a composition, invokes it
//! synchronously and asynchronously, and prints the outputs, timings and
//! counters. Run from the repository root, after building the example
//! functions:
//!
//! ```text
//! examples/functions/build.sh
//! cargo run -p pappus-engine --example embed
//! ```

use std::path::Path;
use std::time::Duration;

use pappus_engine::{json, Engine, Item, Limits, Sets};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. The engine: two compute threads, invocations beyond 64 running and
    //    1024 queued are refused with `Error::Overloaded`. Without a data
    //    directory the registry lives in memory only.
    let engine = Engine::builder()
        .compute_threads(2)
        .queue_bound(1024)
        .build()?;

    // 2. Functions are WebAssembly modules that import nothing. Each gets
    //    limits: memory, a wall-clock deadline and a cap on its output.
    let wasm_dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("examples/functions/wasm");
    let limits = Limits {
        memory_bytes: 32 << 20,
        timeout: Duration::from_secs(2),
        max_output_bytes: 4 << 20,
    };
    for name in ["split_words", "count"] {
        let module = std::fs::read(wasm_dir.join(format!("{name}.wasm")))
            .map_err(|e| format!("{name}.wasm: {e} (run examples/functions/build.sh first)"))?;
        engine.register_function(name, &module, limits)?;
    }

    // 3. A composition: split every document into words (one shard per
    //    document), then count each word length's words (one shard per key).
    //    `count` shards start as soon as all words are known; the split
    //    shards run in parallel.
    let names = engine.register_compositions(
        "function split_words (text) => (words);
         function count (in) => (counts);
         composition Words (Docs) => (Counts) {
             split_words (text = each Docs) => (Words = words);
             count (in = keyed Words) => (Counts = counts);
         }",
    )?;
    println!("registered compositions: {names:?}");

    // 4. Inputs are sets of items {name, key, data}, passed by set name.
    let mut inputs = Sets::new();
    inputs.insert(
        "Docs".to_string(),
        vec![
            Item::new("a", 0, "the cat sat on the mat"),
            Item::new("b", 0, "the dog sat too"),
        ],
    );

    // 5. Synchronous invocation: blocks until every output set is ready.
    let answer = engine.invoke("Words", inputs.clone())?;
    print!("{}", json::render_sets(&answer.outputs));
    println!("timings: {:?}", answer.timings);

    // 6. Asynchronous invocation: the future works with any executor (here
    //    a trivial one that parks the thread until the engine wakes it).
    let future = engine.invoke_async("Words", inputs);
    let answer = block_on(future)?;
    println!("async: {} counts", answer.outputs["Counts"].len());

    // 7. Counters for monitoring.
    let metrics = engine.metrics();
    println!(
        "sandboxes created: {}, invocations: {}",
        metrics.sandboxes_created, metrics.invocations_succeeded
    );
    Ok(())
}

/// A minimal executor: polls the future, parking the thread in between.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};

    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::park();
    }
}
