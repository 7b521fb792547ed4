//! One invocation: its state machine behind a lock, and the effects it asks
//! for carried out after the lock is released.
//!
//! Every event (the start, a shard's result from a compute thread, a
//! builtin's answer from an I/O thread) locks the [`Machine`] briefly, lets it
//! decide, then performs the returned [`Effect`]s: compute shards go to the
//! pool ([`sandbox::run`]), builtin shards to the I/O runtime
//! ([`builtins::dispatch`]), trace events to the hook, the answer to the
//! caller. No thread ever waits inside the lock.

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use pappus_io::Authority;
use pappus_isolation::{CancelToken, WasiContext};

use super::builtins;
use super::machine::{Effect, Machine};
use super::outcome::{self, ShardResult};
use super::placement;
use super::resolved::Resolved;
use super::sandbox;
use super::Core;
use crate::metrics::{Counters, Event, TimingSums};
use crate::oneshot::Sender;
use crate::{Invocation, Item, Result, Sets, Timings};

/// What the lock guards: the machine, and where its answer goes.
struct Locked {
    machine: Machine,
    reply: Option<Sender<Result<Invocation>>>,
}

/// A compute shard to run, on the pool or on the thread that launched it.
struct ComputeJob {
    shard: usize,
    function: pappus_isolation::Function,
    resolved: Arc<Resolved>,
    node: usize,
    units: Vec<super::shards::Unit>,
}

impl ComputeJob {
    /// Whether to run it on the current thread rather than queue it.
    fn runs_here(&self) -> bool {
        self.resolved
            .recent
            .get(self.node)
            .is_some_and(placement::run_here)
    }

    /// Runs it in a fresh sandbox, noting its sandbox time for its node;
    /// with a `cutoff`, given up then (see [`placement::cutoff`]).
    fn run(&self, exec: &Exec, cutoff: Option<Instant>) -> ShardResult {
        outcome::shielded(self.function.name(), || {
            sandbox::run(
                &exec.core,
                &exec.sums,
                &exec.cancel,
                &exec.wasi,
                &self.function,
                &self.resolved,
                self.node,
                &self.units,
                cutoff,
            )
        })
    }
}

/// One invocation.
pub(crate) struct Exec {
    core: Arc<Core>,
    cancel: CancelToken,
    admitted: Instant,
    started: OnceLock<Instant>,
    sums: TimingSums,
    state: Mutex<Locked>,
    /// Seed and time of WASI functions in this invocation.
    wasi: WasiContext,
    /// The tenant's I/O authority; `None`: the I/O runtime's default.
    authority: Option<Arc<Authority>>,
    /// Bytes this invocation's fetched objects may hold in memory (beyond
    /// them, objects are spilled to disk); made at its first `fetch`.
    fetch_budget: OnceLock<Arc<pappus_io::MemoryBudget>>,
    /// Objects this invocation's fetches had from the fetch cache.
    fetch_cache_hits: Arc<std::sync::atomic::AtomicU64>,
}

impl Exec {
    pub(crate) fn new(
        core: Arc<Core>,
        resolved: Arc<Resolved>,
        inputs: Vec<Vec<Item>>,
        reply: Sender<Result<Invocation>>,
        wasi: WasiContext,
        authority: Option<Arc<Authority>>,
    ) -> Exec {
        let trace = core.on_event.is_some();
        let shard_bounds = core.shard_bounds;
        Exec {
            wasi,
            authority,
            fetch_budget: OnceLock::new(),
            fetch_cache_hits: Arc::default(),
            core,
            cancel: CancelToken::new(),
            admitted: Instant::now(),
            started: OnceLock::new(),
            sums: TimingSums::default(),
            state: Mutex::new(Locked {
                machine: Machine::new(resolved, inputs, trace, wasi)
                    .with_shard_bounds(shard_bounds),
                reply: Some(reply),
            }),
        }
    }

    /// A clone of the token that cancels this invocation's shards.
    pub(crate) fn cancel_token(&self) -> CancelToken {
        self.cancel.clone()
    }

    fn lock(&self) -> MutexGuard<'_, Locked> {
        // Nothing panics while holding the state lock; recover the guard.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts executing (called once, after admission). Small shards may run
    /// on this thread before it returns (see [`placement`]).
    pub(crate) fn start(self: &Arc<Self>) {
        let _ = self.started.set(Instant::now());
        placement::as_starter(|| {
            let effects = {
                let mut state = self.lock();
                let effects = state.machine.start();
                self.count_launched(&mut state.machine);
                effects
            };
            self.drive(effects);
        });
    }

    /// Integrates the result of a shard (from any thread).
    pub(crate) fn complete(self: &Arc<Self>, shard: usize, result: ShardResult) {
        let effects = self.integrate(shard, result);
        self.drive(effects);
    }

    /// Lets the machine take a shard's result; answers the effects it decides.
    fn integrate(&self, shard: usize, result: ShardResult) -> Vec<Effect> {
        let mut state = self.lock();
        let effects = state.machine.shard_done(shard, result);
        self.count_launched(&mut state.machine);
        effects
    }

    /// Performs `effects`, then runs the shard kept for this thread (if any)
    /// and performs what its result leads to, until no shard is kept: a loop
    /// rather than recursion, so a long chain run on one thread keeps a flat
    /// stack. A shard cut off on the thread that started the invocation (it
    /// ran past that thread's budget) goes to the pool, to run again with its
    /// whole deadline.
    fn drive(self: &Arc<Self>, mut effects: Vec<Effect>) {
        while let Some(job) = self.perform(effects) {
            let begun = Instant::now();
            let result = job.run(self, placement::cutoff(begun));
            placement::charge(begun.elapsed());
            if matches!(&result, Err(cause) if cause.kind == sandbox::CUTOFF) {
                self.spawn(job);
                return;
            }
            effects = self.integrate(job.shard, result);
        }
    }

    fn count_launched(&self, machine: &mut Machine) {
        let launched = machine.take_launched();
        if launched > 0 {
            Counters::add(&self.core.counters.shards, launched);
        }
    }

    /// Carries out `effects`; answers the last compute shard among them when
    /// it should run on this thread, having queued the others on the pool.
    fn perform(self: &Arc<Self>, effects: Vec<Effect>) -> Option<ComputeJob> {
        let mut kept: Option<ComputeJob> = None;
        for effect in effects {
            match effect {
                Effect::Compute {
                    shard,
                    function,
                    resolved,
                    node,
                    units,
                } => {
                    let job = ComputeJob {
                        shard,
                        function,
                        resolved,
                        node,
                        units,
                    };
                    if let Some(earlier) = kept.replace(job) {
                        self.spawn(earlier);
                    }
                }
                Effect::Builtin {
                    shard,
                    builtin,
                    units,
                    object_limit,
                } => {
                    let exec = self.clone();
                    let options = self.io_options(builtin, object_limit);
                    let dispatched = builtins::dispatch(
                        self.core.io.as_ref(),
                        self.authority.as_ref(),
                        &self.cancel,
                        builtin,
                        &units,
                        options,
                        move |result, spent| {
                            let sums = &exec.sums;
                            if builtins::is_store(builtin) {
                                TimingSums::add(&sums.storing, spent);
                            } else {
                                TimingSums::add(&sums.fetching, spent);
                            }
                            exec.complete(shard, result);
                        },
                    );
                    if let Err(cause) = dispatched {
                        self.complete(shard, Err(cause));
                    }
                }
                Effect::Trace {
                    kind,
                    composition,
                    application,
                    shard,
                } => {
                    if let Some(hook) = &self.core.on_event {
                        hook(&Event {
                            kind,
                            at: Instant::now(),
                            composition,
                            application,
                            shard,
                        });
                    }
                }
                Effect::Cancel => self.cancel.cancel(),
                Effect::Answer(outputs) => self.answer(outputs),
            }
        }
        let job = kept?;
        if job.runs_here() {
            return Some(job);
        }
        self.spawn(job);
        None
    }

    /// What a builtin call of this invocation may use: for `fetch`, the
    /// invocation's memory budget (shared by all its fetches, made at the
    /// first) and the bound its readers set on one object.
    fn io_options(
        &self,
        builtin: pappus_dsl::builtins::Builtin,
        object_limit: Option<(u64, String)>,
    ) -> pappus_io::CallOptions {
        let mut options = pappus_io::CallOptions::new();
        if builtin != pappus_dsl::builtins::Builtin::Fetch {
            return options;
        }
        if let Some(io) = self.core.io.as_ref() {
            let budget = self
                .fetch_budget
                .get_or_init(|| pappus_io::MemoryBudget::new(io.invocation_fetch_memory_bytes()));
            options.budget(Arc::clone(budget));
        }
        if let Some((bytes, name)) = object_limit {
            options.max_object_bytes(bytes, name);
        }
        options.count_cache_hits(Arc::clone(&self.fetch_cache_hits));
        options
    }

    /// Queues `job` on the compute pool.
    fn spawn(self: &Arc<Self>, job: ComputeJob) {
        let exec = self.clone();
        self.core.pool.spawn(Box::new(move || {
            let result = job.run(&exec, None);
            exec.complete(job.shard, result);
        }));
    }

    /// Sends the answer with its timings, then frees the admission slot.
    fn answer(&self, outputs: Result<Sets>) {
        let counters = &self.core.counters;
        let now = Instant::now();
        let started = self.started.get().copied().unwrap_or(self.admitted);
        let answer = outputs.map(|outputs| {
            Counters::add(&counters.invocations_succeeded, 1);
            Invocation {
                outputs,
                timings: Timings {
                    queued: started.saturating_duration_since(self.admitted),
                    fetching: TimingSums::read(&self.sums.fetching),
                    sandbox: TimingSums::read(&self.sums.sandbox),
                    compute: now.saturating_duration_since(started),
                    storing: TimingSums::read(&self.sums.storing),
                    total: now.saturating_duration_since(self.admitted),
                    fetch_cache_hits: self
                        .fetch_cache_hits
                        .load(std::sync::atomic::Ordering::Relaxed),
                },
                wasi: self.wasi,
            }
        });
        if answer.is_err() {
            Counters::add(&counters.invocations_failed, 1);
        }
        // Release the admission slot first, so that a caller woken by the
        // answer sees the engine's gauges settled.
        self.core.finished();
        let reply = self.lock().reply.take();
        if let Some(reply) = reply {
            reply.send(answer);
        }
    }
}
