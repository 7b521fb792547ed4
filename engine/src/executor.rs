//! The executor: admission, the compute pool and the per-invocation state
//! machine that runs a [`Plan`](pappus_dsl::Plan).
//!
//! An invocation is admitted if fewer than `max_in_flight` invocations run,
//! queued if fewer than `queue_bound` wait, and refused with
//! [`Error::Overloaded`] otherwise. Its state machine ([`machine`], pure
//! transitions with no threads or clock) lives behind one mutex in [`exec`];
//! every event (a shard's result from a compute thread, a builtin's answer
//! from an I/O thread) locks it briefly, integrates the result and returns the
//! effects to perform (launch shards, trace, cancel, answer), which [`exec`]
//! carries out after unlocking. No thread ever waits inside it.
//!
//! A compute shard runs on the thread that launched it when that is cheaper
//! than handing it to the pool and its answer back ([`placement`]): a small
//! one-shard composition then runs start to answer on the thread that
//! received the request.
//!
//! Modules depend one way: `exec` drives `machine` and performs its effects
//! through `sandbox` and `builtins`, asking `placement` where to run shards; `machine` uses `shards`, `label` and
//! `outcome`; nothing here depends on the registry, which hands the executor
//! [`resolved::Resolved`] plans.

pub(crate) mod builtins;
mod catch;
mod consumers;
mod exec;
mod label;
mod machine;
mod outcome;
mod placement;
pub(crate) mod pool;
pub(crate) mod resolved;
mod sandbox;
pub(crate) mod shards;

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use std::collections::HashMap;

use pappus_io::Authority;

use crate::metrics::{Counters, EventHook};
use crate::oneshot::{self, Receiver};
use crate::{Error, Invocation, Item, Result, Sets, WasiContext};
pub(crate) use exec::Exec;
pub(crate) use machine::ShardBounds;
pub(crate) use pappus_isolation::CancelToken;
use pool::PoolHandle;
use resolved::Resolved;

pub(crate) struct Admission {
    /// Invocations executing, and admitted ones holding an execution slot
    /// while their caller prepares the inputs ([`Slot`]).
    pub running: usize,
    pub waiting: VecDeque<Arc<Exec>>,
    /// Admitted invocations holding a place in the queue while their caller
    /// prepares the inputs: counted against `queue_bound` with `waiting`.
    pub reserved: usize,
    pub draining: bool,
}

/// An invocation's place in the admission: an execution slot, or a place in
/// the queue. Taken by [`Core::admit`] before the caller has read its inputs,
/// given to [`Core::run`]; dropping it unused gives it back.
pub(crate) struct Slot {
    core: Arc<Core>,
    place: Option<Place>,
}

#[derive(Clone, Copy)]
enum Place {
    Running,
    Queued,
}

impl Drop for Slot {
    fn drop(&mut self) {
        match self.place.take() {
            // The slot passes to the next waiting invocation, if any.
            Some(Place::Running) => self.core.finished(),
            Some(Place::Queued) => {
                let mut admission = self.core.admission();
                admission.reserved = admission.reserved.saturating_sub(1);
                drop(admission);
                self.core.idle.notify_all();
            }
            None => {}
        }
    }
}

/// What every invocation shares: the sandbox runtime, the pools, counters.
pub(crate) struct Core {
    pub runtime: pappus_isolation::Runtime,
    pub pool: PoolHandle,
    pub io: Option<builtins::Io>,
    pub counters: Counters,
    pub admission: Mutex<Admission>,
    pub idle: Condvar,
    pub max_in_flight: usize,
    pub queue_bound: usize,
    pub on_event: Option<EventHook>,
    pub shard_bounds: ShardBounds,
    /// Each tenant's I/O authority; a tenant not here gets the I/O runtime's
    /// default one.
    pub authorities: HashMap<String, Arc<Authority>>,
}

impl Core {
    pub(crate) fn admission(&self) -> MutexGuard<'_, Admission> {
        self.admission.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Admits an invocation: takes an execution slot if fewer than
    /// `max_in_flight` invocations hold one, else a place in the queue if
    /// fewer than `queue_bound` hold one; [`Error::Overloaded`] otherwise,
    /// [`Error::Draining`] once draining.
    pub(crate) fn admit(self: &Arc<Self>) -> Result<Slot> {
        let mut admission = self.admission();
        if admission.draining {
            return Err(Error::Draining);
        }
        let place = if admission.running < self.max_in_flight {
            admission.running += 1;
            Place::Running
        } else if admission.waiting.len() + admission.reserved < self.queue_bound {
            admission.reserved += 1;
            Place::Queued
        } else {
            drop(admission);
            Counters::add(&self.counters.invocations_rejected, 1);
            return Err(Error::Overloaded {
                queue_bound: self.queue_bound,
            });
        };
        Ok(Slot {
            core: self.clone(),
            place: Some(place),
        })
    }

    /// Runs an invocation admitted with `slot` ([`admit`](Self::admit)) with
    /// `inputs` (by set name), its builtin calls carrying `authority` (`None`:
    /// the I/O runtime's default):
    /// starts it at once if the slot is an execution slot or one has freed
    /// meanwhile, else queues it. Answers the receiver of its answer and the
    /// token that cancels it. Invalid inputs give the slot back.
    pub(crate) fn run(
        self: &Arc<Self>,
        mut slot: Slot,
        resolved: Arc<Resolved>,
        inputs: Sets,
        wasi: Option<WasiContext>,
        authority: Option<Arc<Authority>>,
    ) -> Result<(Receiver<Result<Invocation>>, CancelToken)> {
        let plan = &resolved.plan;
        let mut by_index: Vec<Vec<Item>> = vec![Vec::new(); plan.inputs.len()];
        for (name, items) in inputs {
            let Some(index) = plan
                .inputs
                .iter()
                .position(|n| *n == name)
                .and_then(|i| by_index.get_mut(i))
            else {
                return Err(Error::invalid_input(format!(
                    "composition `{}` has no input set `{name}` (its inputs: {})",
                    plan.name,
                    plan.inputs.join(", ")
                )));
            };
            *index = items;
        }
        let (tx, rx) = oneshot::channel();
        let exec = Arc::new(Exec::new(
            self.clone(),
            resolved,
            by_index,
            tx,
            wasi.unwrap_or_else(WasiContext::fresh),
            authority,
        ));
        let cancel = exec.cancel_token();
        // From here the slot belongs to the invocation, which gives it back
        // when it has answered (`finished`).
        match slot.place.take() {
            Some(Place::Running) => exec.start(),
            Some(Place::Queued) => {
                let mut admission = self.admission();
                admission.reserved = admission.reserved.saturating_sub(1);
                if admission.running < self.max_in_flight {
                    admission.running += 1;
                    drop(admission);
                    exec.start();
                } else {
                    admission.waiting.push_back(exec);
                }
            }
            None => {
                return Err(Error::Config {
                    reason: "an admission slot was used twice".into(),
                })
            }
        }
        Ok((rx, cancel))
    }

    /// Called once by every invocation that ran, after it answered.
    pub(crate) fn finished(&self) {
        let mut admission = self.admission();
        if let Some(next) = admission.waiting.pop_front() {
            drop(admission);
            // Started from the pool rather than inline, so that a run of
            // instantly finishing invocations cannot recurse without bound.
            self.pool.spawn(Box::new(move || next.start()));
            return;
        }
        admission.running = admission.running.saturating_sub(1);
        // Only a drain waits on `idle`; waking nobody would still cost a
        // futex call on every invocation.
        let draining = admission.draining;
        drop(admission);
        if draining {
            self.idle.notify_all();
        }
    }

    /// Stops admitting, then waits up to `timeout` for running and queued
    /// invocations to finish. Returns whether everything finished.
    pub(crate) fn drain(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut admission = self.admission();
        admission.draining = true;
        loop {
            if admission.running == 0 && admission.waiting.is_empty() && admission.reserved == 0 {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            admission = self
                .idle
                .wait_timeout(admission, deadline - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }
}
