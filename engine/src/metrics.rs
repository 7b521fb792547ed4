//! Counters, per-invocation timings and the event hook.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Where the time of one invocation went.
///
/// `fetching`, `sandbox` and `storing` are sums over shards (shards run in
/// parallel, so they can exceed `total`); `queued`, `compute` and `total` are
/// wall-clock spans.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timings {
    /// From admission to the start of execution (waiting in the queue).
    pub queued: Duration,
    /// Summed time of input-side builtins (`http`, `fetch`, `kv_get`).
    pub fetching: Duration,
    /// Summed time inside sandboxes: instance creation, input placement,
    /// the guest's run and reading outputs back.
    pub sandbox: Duration,
    /// Wall-clock time from the start of execution to its last result.
    pub compute: Duration,
    /// Summed time of output-side builtins (`store`, `kv_put`).
    pub storing: Duration,
    /// From admission to the answer: `queued + compute`.
    pub total: Duration,
    /// Objects the invocation's `fetch` shards had answered from the fetch
    /// cache (revalidated, no body transferred; `docs/dataplane.md`).
    pub fetch_cache_hits: u64,
}

/// A snapshot of the engine's counters (monotonic unless noted).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// Sandboxes created (one per function shard run).
    pub sandboxes_created: u64,
    /// Invocations waiting for an execution slot, [`Admitted`](crate::Admitted)
    /// ones holding a queue place included (gauge).
    pub queue_depth: u64,
    /// Invocations holding an execution slot: executing, or
    /// [`Admitted`](crate::Admitted) and not run yet (gauge).
    pub in_flight: u64,
    /// Compute jobs waiting for a compute thread (gauge).
    pub compute_queue_depth: u64,
    /// Invocations that answered with outputs.
    pub invocations_succeeded: u64,
    /// Invocations that answered with a failure.
    pub invocations_failed: u64,
    /// Invocations refused because the queue was full.
    pub invocations_rejected: u64,
    /// Shards run (functions, builtins and nested compositions).
    pub shards: u64,
    /// Bytes placed into sandboxes as inputs.
    pub bytes_in: u64,
    /// Bytes read back from sandboxes as outputs.
    pub bytes_out: u64,
    /// Bytes fetched by builtins (`fetch`, `http`, `kv_get`).
    pub bytes_fetched: u64,
    /// Bytes stored by builtins (`store`, `kv_put`).
    pub bytes_stored: u64,
    /// Persisted registry records skipped at start because they could not be
    /// used (unreadable, corrupted, failing validation or checks).
    pub registry_records_skipped: u64,
    /// Compiled-code cache files discarded (not authentic, unreadable) and
    /// recompiled instead of being loaded.
    pub code_cache_rejected: u64,
    /// Invocations whose caller went away (an [`InvocationFuture`] dropped
    /// before its answer): their shards were cancelled.
    ///
    /// [`InvocationFuture`]: crate::InvocationFuture
    pub invocations_cancelled: u64,
    /// Builtin calls refused by the tenant's I/O authority (`forbidden`).
    pub io_forbidden: u64,
    /// I/O tasks that panicked (each failed only its own call).
    pub io_task_panics: u64,
    /// Times an I/O thread was restarted after its loop panicked.
    pub io_restarts: u64,
    /// The I/O runtime's counters, among them the fetch cache's hits and
    /// misses and the bytes fetched objects hold in memory and on disk
    /// (all zero before the runtime started).
    pub io: pappus_io::IoStats,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub sandboxes_created: AtomicU64,
    pub invocations_succeeded: AtomicU64,
    pub invocations_failed: AtomicU64,
    pub invocations_rejected: AtomicU64,
    pub invocations_cancelled: AtomicU64,
    pub shards: AtomicU64,
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
    pub records_skipped: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// Accumulates the summed parts of [`Timings`] from several threads.
#[derive(Default)]
pub(crate) struct TimingSums {
    pub fetching: AtomicU64,
    pub sandbox: AtomicU64,
    pub storing: AtomicU64,
}

impl TimingSums {
    pub(crate) fn add(counter: &AtomicU64, d: Duration) {
        counter.fetch_add(
            u64::try_from(d.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    pub(crate) fn read(counter: &AtomicU64) -> Duration {
        Duration::from_nanos(counter.load(Ordering::Relaxed))
    }
}

/// What an [`Event`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A shard was handed to a sandbox, a builtin or a nested composition.
    ShardStarted,
    /// A shard finished (successfully or not).
    ShardFinished,
}

/// A trace event, delivered to the hook set with
/// [`EngineBuilder::on_event`](crate::EngineBuilder::on_event).
///
/// Events are delivered synchronously on the engine's threads: keep the hook
/// short.
#[derive(Clone, Debug)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// When it happened.
    pub at: Instant,
    /// The composition (outer first, `a > b` for nested ones).
    pub composition: String,
    /// The application, as in [`Error::Failure`](crate::Error::Failure).
    pub application: String,
    /// The shard, as in [`Error::Failure`](crate::Error::Failure).
    pub shard: String,
}

/// The event hook's type.
pub type EventHook = std::sync::Arc<dyn Fn(&Event) + Send + Sync>;
