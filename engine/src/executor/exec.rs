//! The state machine of one invocation.
//!
//! A *run* is one execution of a plan: the invocation's root composition, or
//! a nested composition called by a shard of an enclosing run. Runs, and the
//! shards in flight, live in slabs inside the invocation's state; a shard is
//! named by its slab key everywhere (jobs, I/O callbacks), so the hot path
//! never looks anything up by name.
//!
//! Set lifecycle: items are appended as producer shards finish (each append
//! feeds `each` consumers at once: pipelining); a set is *complete* when its
//! producing application has finished every shard. An application activates
//! when every input that is not a streamed `each` input is complete; from then
//! on every newly arrived `each` item is combined with what is already known
//! (see [`shards::product`]) and launched. An application finishes when all
//! its inputs are complete and its shards are done, or at once when a
//! non-optional input turns out empty.

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use pappus_dsl::Mode;
use pappus_isolation::{CallOptions, CancelToken, InputSet, OutputSet, WasiContext};
use slab::Slab;

use super::builtins;
use super::resolve::{Resolved, Target};
use super::shards::{self, Dim, Unit};
use super::Core;
use crate::metrics::{Counters, Event, EventKind, TimingSums};
use crate::oneshot::Sender;
use crate::{Error, Invocation, Item, Result, Sets, Timings};

/// Why a shard failed.
pub(crate) struct Cause {
    pub cause: String,
    pub kind: &'static str,
}

pub(crate) type ShardResult = std::result::Result<Vec<OutputSet>, Cause>;

struct SetState {
    items: Vec<Item>,
    complete: bool,
}

#[derive(Default)]
struct App {
    /// Inputs not yet complete.
    pending: usize,
    /// Inputs not yet complete that are not streamed `each` inputs.
    pending_static: usize,
    activated: bool,
    skipped: bool,
    finished: bool,
    dims: Vec<Dim>,
    /// For each input: the dimension it streams into, if it is a streamed `each` input.
    each_dim: Vec<Option<usize>>,
    in_flight: usize,
}

struct Run {
    resolved: Arc<Resolved>,
    /// `outer > inner` names, for errors and events.
    path: Arc<str>,
    sets: Vec<SetState>,
    apps: Vec<App>,
    apps_left: usize,
    /// The shard of the enclosing run that this run answers.
    parent: Option<usize>,
}

struct Shard {
    run: usize,
    node: usize,
    units: Vec<Unit>,
    compute: bool,
}

struct State {
    runs: Slab<Run>,
    shards: Slab<Shard>,
    compute_in_flight: usize,
    failure: Option<Error>,
    /// A shard failed: launch nothing more, ignore late results.
    failed: bool,
    answered: bool,
    reply: Option<Sender<Result<Invocation>>>,
    inputs: Option<Vec<Vec<Item>>>,
}

/// Work decided under the lock and carried out after releasing it.
enum Action {
    Compute {
        shard: usize,
        function: pappus_isolation::Function,
        resolved: Arc<Resolved>,
        node: usize,
        units: Vec<Unit>,
    },
    Builtin {
        shard: usize,
        builtin: pappus_dsl::builtins::Builtin,
        resolved: Arc<Resolved>,
        node: usize,
        units: Vec<Unit>,
    },
    Event(Event),
    Answer(Result<Invocation>),
}

/// One invocation.
pub(crate) struct Exec {
    core: Arc<Core>,
    resolved: Arc<Resolved>,
    cancel: CancelToken,
    admitted: Instant,
    started: OnceLock<Instant>,
    sums: TimingSums,
    state: Mutex<State>,
    /// Seed and time of WASI functions in this invocation.
    wasi: WasiContext,
}

struct Ctx<'a> {
    exec: &'a Exec,
    actions: Vec<Action>,
}

impl Exec {
    pub(crate) fn new(
        core: Arc<Core>,
        resolved: Arc<Resolved>,
        inputs: Vec<Vec<Item>>,
        reply: Sender<Result<Invocation>>,
        wasi: WasiContext,
    ) -> Exec {
        Exec {
            wasi,
            core,
            resolved,
            cancel: CancelToken::new(),
            admitted: Instant::now(),
            started: OnceLock::new(),
            sums: TimingSums::default(),
            state: Mutex::new(State {
                runs: Slab::new(),
                shards: Slab::new(),
                compute_in_flight: 0,
                failure: None,
                failed: false,
                answered: false,
                reply: Some(reply),
                inputs: Some(inputs),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the state lock; recover the guard.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts executing (called once, after admission).
    pub(crate) fn start(self: &Arc<Self>) {
        let _ = self.started.set(Instant::now());
        let mut ctx = Ctx {
            exec: self,
            actions: Vec::new(),
        };
        {
            let mut state = self.lock();
            let inputs = state.inputs.take().unwrap_or_default();
            let path: Arc<str> = Arc::from(self.resolved.plan.name.as_str());
            state.start_run(&mut ctx, self.resolved.clone(), path, inputs, None);
            state.check_done(&mut ctx);
        }
        self.perform(ctx.actions);
    }

    /// Integrates the result of a shard (from any thread).
    pub(crate) fn complete(self: &Arc<Self>, shard: usize, result: ShardResult) {
        let mut ctx = Ctx {
            exec: self,
            actions: Vec::new(),
        };
        {
            let mut state = self.lock();
            state.shard_done(&mut ctx, shard, result);
            state.check_done(&mut ctx);
        }
        self.perform(ctx.actions);
    }

    pub(crate) fn core(&self) -> &Core {
        &self.core
    }

    pub(crate) fn sums(&self) -> &TimingSums {
        &self.sums
    }

    fn perform(self: &Arc<Self>, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Compute {
                    shard,
                    function,
                    resolved,
                    node,
                    units,
                } => {
                    let exec = self.clone();
                    self.core.pool.spawn(Box::new(move || {
                        let result = exec.run_function(&function, &resolved, node, &units);
                        exec.complete(shard, result);
                    }));
                }
                Action::Builtin {
                    shard,
                    builtin,
                    resolved,
                    node,
                    units,
                } => builtins::dispatch(self, shard, builtin, &resolved, node, units),
                Action::Event(event) => {
                    if let Some(hook) = &self.core.on_event {
                        hook(&event);
                    }
                }
                Action::Answer(answer) => {
                    // Release the admission slot first, so that a caller
                    // woken by the answer sees the engine's gauges settled.
                    self.core.finished();
                    let reply = self.lock().reply.take();
                    if let Some(reply) = reply {
                        reply.send(answer);
                    }
                }
            }
        }
    }

    /// Runs one function shard in a fresh sandbox (on a compute thread).
    fn run_function(
        &self,
        function: &pappus_isolation::Function,
        resolved: &Resolved,
        node: usize,
        units: &[Unit],
    ) -> ShardResult {
        if self.cancel.is_cancelled() {
            return Err(Cause {
                cause: "cancelled".into(),
                kind: "cancelled",
            });
        }
        let node_index = node;
        let Some(node) = resolved.plan.nodes.get(node) else {
            return Err(internal("node out of range"));
        };
        let inputs: Vec<InputSet<'_>> = node
            .inputs
            .iter()
            .zip(units)
            .map(|(input, unit)| InputSet {
                name: &input.param,
                items: unit,
            })
            .collect();
        let counters = &self.core.counters;
        let bytes_in: usize = units
            .iter()
            .flat_map(|u| u.iter())
            .map(|i| i.data.len())
            .sum();
        Counters::add(&counters.bytes_in, bytes_in as u64);
        Counters::add(&counters.sandboxes_created, 1);
        let begun = Instant::now();
        let result = if function.is_wasi() {
            // WASI programs see output sets as directories and stdio, and get
            // the invocation's time and a seed derived for this shard.
            let outputs: Vec<&str> = node.outputs.iter().map(|o| o.param.as_str()).collect();
            let shard_key = node
                .inputs
                .iter()
                .zip(units)
                .find(|(input, _)| input.mode == Mode::Keyed)
                .and_then(|(_, unit)| unit.first())
                .map(|item| item.key);
            let options = CallOptions {
                outputs: &outputs,
                shard_key,
                context: self.wasi.for_shard(node_index as u64, &inputs),
            };
            self.core
                .runtime
                .call(function, &inputs, &options, Some(&self.cancel))
        } else {
            self.core.runtime.run(function, &inputs, Some(&self.cancel))
        };
        TimingSums::add(&self.sums.sandbox, begun.elapsed());
        match result {
            Ok(outputs) => {
                let bytes_out: usize = outputs
                    .iter()
                    .flat_map(|s| s.items.iter())
                    .map(|i| i.data.len())
                    .sum();
                Counters::add(&counters.bytes_out, bytes_out as u64);
                Ok(outputs)
            }
            Err(e) => Err(Cause {
                cause: e.to_string(),
                kind: e.kind(),
            }),
        }
    }
}

fn internal(what: &str) -> Cause {
    Cause {
        cause: format!("internal error: {what}"),
        kind: "internal",
    }
}

/// Describes a shard by its inputs: item names for `each`, keys for
/// `keyed`, sizes for `all`.
pub(crate) fn shard_label(resolved: &Resolved, node: usize, units: &[Unit]) -> String {
    let Some(node) = resolved.plan.nodes.get(node) else {
        return String::new();
    };
    let parts: Vec<String> = node
        .inputs
        .iter()
        .zip(units)
        .map(|(input, unit)| match (input.mode, unit.first()) {
            (_, None) => format!("{} empty", input.param),
            (Mode::Each, Some(item)) => {
                format!("{}={:?} (key {})", input.param, item.name, item.key)
            }
            (Mode::Keyed, Some(item)) => format!("{} key {}", input.param, item.key),
            (Mode::All, Some(_)) => format!("{} all ({} items)", input.param, unit.len()),
        })
        .collect();
    if parts.is_empty() {
        "(no inputs)".into()
    } else {
        parts.join(", ")
    }
}

impl State {
    fn start_run(
        &mut self,
        ctx: &mut Ctx<'_>,
        resolved: Arc<Resolved>,
        path: Arc<str>,
        inputs: Vec<Vec<Item>>,
        parent: Option<usize>,
    ) {
        let plan = resolved.plan.clone();
        let mut apps = Vec::with_capacity(plan.nodes.len());
        for node in &plan.nodes {
            let in_join = |i: usize| {
                node.join
                    .as_ref()
                    .is_some_and(|j| j.first == i || j.rest.iter().any(|(_, r)| *r == i))
            };
            let mut app = App {
                pending: node.inputs.len(),
                ..App::default()
            };
            for (i, input) in node.inputs.iter().enumerate() {
                if input.mode == Mode::Each && !in_join(i) {
                    app.each_dim.push(Some(app.dims.len()));
                    app.dims.push(Dim {
                        inputs: vec![i],
                        ..Dim::default()
                    });
                } else {
                    app.each_dim.push(None);
                    app.pending_static += 1;
                }
            }
            apps.push(app);
        }
        let run = self.runs.insert(Run {
            resolved,
            path,
            sets: plan
                .sets
                .iter()
                .map(|_| SetState {
                    items: Vec::new(),
                    complete: false,
                })
                .collect(),
            apps_left: apps.len(),
            apps,
            parent,
        });
        // Applications without inputs run once, at the start.
        for node in 0..plan.nodes.len() {
            self.maybe_activate(ctx, run, node);
        }
        for (index, items) in inputs.into_iter().enumerate() {
            let Some(set) = plan.input_sets.get(index) else {
                continue;
            };
            self.add_items(ctx, run, set.0, items);
            self.set_complete(ctx, run, set.0);
        }
        self.maybe_finish_run(ctx, run);
    }

    fn add_items(&mut self, ctx: &mut Ctx<'_>, run: usize, set: usize, items: Vec<Item>) {
        if items.is_empty() {
            return;
        }
        let Some(r) = self.runs.get_mut(run) else {
            return;
        };
        let Some(state) = r.sets.get_mut(set) else {
            return;
        };
        let start = state.items.len();
        state.items.extend(items);
        let plan = r.resolved.plan.clone();
        let Some(def) = plan.sets.get(set) else {
            return;
        };
        for &(node, input) in &def.consumers {
            let Some(r) = self.runs.get_mut(run) else {
                return;
            };
            let Some(app) = r.apps.get_mut(node.0) else {
                continue;
            };
            let Some(Some(dim)) = app.each_dim.get(input).copied() else {
                continue;
            };
            let Some(new) = r.sets.get(set).and_then(|s| s.items.get(start..)) else {
                continue;
            };
            if let Some(d) = app.dims.get_mut(dim) {
                d.cells.extend(shards::each_cells(new));
            }
            self.pump(ctx, run, node.0, dim);
        }
    }

    fn set_complete(&mut self, ctx: &mut Ctx<'_>, run: usize, set: usize) {
        let Some(r) = self.runs.get_mut(run) else {
            return;
        };
        let Some(state) = r.sets.get_mut(set) else {
            return;
        };
        state.complete = true;
        let empty = state.items.is_empty();
        let plan = r.resolved.plan.clone();
        let Some(def) = plan.sets.get(set) else {
            return;
        };
        for &(node, input) in &def.consumers {
            let Some(r) = self.runs.get_mut(run) else {
                return;
            };
            let Some(app) = r.apps.get_mut(node.0) else {
                continue;
            };
            let optional = plan
                .nodes
                .get(node.0)
                .and_then(|n| n.inputs.get(input))
                .is_some_and(|i| i.optional);
            app.pending = app.pending.saturating_sub(1);
            let each_dim = app.each_dim.get(input).copied().flatten();
            if each_dim.is_none() {
                app.pending_static = app.pending_static.saturating_sub(1);
            }
            if empty && !optional {
                // The application does not run; its outputs are empty.
                app.skipped = true;
            } else if let (true, Some(dim)) = (empty, each_dim) {
                if let Some(d) = app.dims.get_mut(dim) {
                    d.cells.push(vec![shards::empty_unit()]);
                }
                self.pump(ctx, run, node.0, dim);
            }
            self.maybe_activate(ctx, run, node.0);
            self.maybe_finish_app(ctx, run, node.0);
        }
    }

    fn maybe_activate(&mut self, ctx: &mut Ctx<'_>, run: usize, node: usize) {
        let Some(r) = self.runs.get_mut(run) else {
            return;
        };
        let plan = r.resolved.plan.clone();
        let Some(n) = plan.nodes.get(node) else {
            return;
        };
        let Some(app) = r.apps.get_mut(node) else {
            return;
        };
        if app.activated || app.skipped || app.pending_static > 0 {
            return;
        }
        // Every static input is complete: build their dimensions.
        let joined: Vec<usize> = n
            .join
            .as_ref()
            .map(|j| {
                std::iter::once(j.first)
                    .chain(j.rest.iter().map(|(_, i)| *i))
                    .collect()
            })
            .unwrap_or_default();
        let items_of = |i: usize| -> &[Item] {
            n.inputs
                .get(i)
                .and_then(|input| r.sets.get(input.set.0))
                .map(|s| s.items.as_slice())
                .unwrap_or(&[])
        };
        let mut static_dims = Vec::new();
        let mut skip = false;
        for (i, input) in n.inputs.iter().enumerate() {
            if app.each_dim.get(i).copied().flatten().is_some() || joined.contains(&i) {
                continue;
            }
            match shards::input_cells(items_of(i), &input.mode, input.optional) {
                Some(cells) => static_dims.push(Dim {
                    inputs: vec![i],
                    consumed: cells.len(),
                    cells,
                }),
                None => skip = true,
            }
        }
        if let Some(join) = &n.join {
            let sides: Vec<(&[Item], bool)> = n
                .inputs
                .iter()
                .enumerate()
                .map(|(i, input)| (items_of(i), input.optional))
                .collect();
            match shards::join_cells(&sides, join) {
                Some(mut dim) => {
                    dim.consumed = dim.cells.len();
                    static_dims.push(dim);
                }
                None => skip = true,
            }
        }
        if skip {
            app.skipped = true;
            self.maybe_finish_app(ctx, run, node);
            return;
        }
        app.activated = true;
        let streamed = app.dims.len();
        app.dims.extend(static_dims);
        if streamed == 0 {
            let shards = shards::product(n.inputs.len(), &app.dims, usize::MAX, 0..0);
            for units in shards {
                self.launch(ctx, run, node, units);
            }
        } else {
            for dim in 0..streamed {
                self.pump(ctx, run, node, dim);
            }
        }
        self.maybe_finish_app(ctx, run, node);
    }

    /// Launches the shards formed by the not-yet-consumed cells of `dim`.
    fn pump(&mut self, ctx: &mut Ctx<'_>, run: usize, node: usize, dim: usize) {
        if self.failed {
            return;
        }
        let Some(r) = self.runs.get_mut(run) else {
            return;
        };
        let n_inputs = r
            .resolved
            .plan
            .nodes
            .get(node)
            .map_or(0, |n| n.inputs.len());
        let Some(app) = r.apps.get_mut(node) else {
            return;
        };
        if !app.activated || app.skipped || app.finished {
            return;
        }
        let Some(d) = app.dims.get(dim) else {
            return;
        };
        let (from, to) = (d.consumed, d.cells.len());
        if from == to {
            return;
        }
        let shards = shards::product(n_inputs, &app.dims, dim, from..to);
        if let Some(d) = app.dims.get_mut(dim) {
            d.consumed = to;
        }
        for units in shards {
            self.launch(ctx, run, node, units);
        }
    }

    fn launch(&mut self, ctx: &mut Ctx<'_>, run: usize, node: usize, units: Vec<Unit>) {
        if self.failed {
            return;
        }
        let Some(r) = self.runs.get_mut(run) else {
            return;
        };
        let resolved = r.resolved.clone();
        let path = r.path.clone();
        let Some(app) = r.apps.get_mut(node) else {
            return;
        };
        let Some(target) = resolved.targets.get(node) else {
            return;
        };
        app.in_flight += 1;
        Counters::add(&ctx.exec.core.counters.shards, 1);
        if ctx.exec.core.on_event.is_some() {
            ctx.actions.push(Action::Event(Event {
                kind: EventKind::ShardStarted,
                at: Instant::now(),
                composition: path.to_string(),
                application: resolved.labels.get(node).cloned().unwrap_or_default(),
                shard: shard_label(&resolved, node, &units),
            }));
        }
        let compute = matches!(target, Target::Function(_));
        let shard = self.shards.insert(Shard {
            run,
            node,
            units: units.clone(),
            compute,
        });
        match target {
            Target::Function(function) => {
                self.compute_in_flight += 1;
                ctx.actions.push(Action::Compute {
                    shard,
                    function: function.clone(),
                    resolved: resolved.clone(),
                    node,
                    units,
                });
            }
            Target::Builtin(builtin) => ctx.actions.push(Action::Builtin {
                shard,
                builtin: *builtin,
                resolved: resolved.clone(),
                node,
                units,
            }),
            Target::Composition(inner) => {
                let inputs: Vec<Vec<Item>> = units.iter().map(|u| u.to_vec()).collect();
                let inner_path: Arc<str> = Arc::from(format!("{path} > {}", inner.plan.name));
                self.start_run(ctx, inner.clone(), inner_path, inputs, Some(shard));
            }
        }
    }

    fn shard_done(&mut self, ctx: &mut Ctx<'_>, shard: usize, result: ShardResult) {
        let Some(info) = self.shards.try_remove(shard) else {
            return;
        };
        if info.compute {
            self.compute_in_flight = self.compute_in_flight.saturating_sub(1);
        }
        let Some(r) = self.runs.get_mut(info.run) else {
            return;
        };
        let resolved = r.resolved.clone();
        let path = r.path.clone();
        if let Some(app) = r.apps.get_mut(info.node) {
            app.in_flight = app.in_flight.saturating_sub(1);
        }
        if ctx.exec.core.on_event.is_some() {
            ctx.actions.push(Action::Event(Event {
                kind: EventKind::ShardFinished,
                at: Instant::now(),
                composition: path.to_string(),
                application: resolved.labels.get(info.node).cloned().unwrap_or_default(),
                shard: shard_label(&resolved, info.node, &info.units),
            }));
        }
        if self.failed {
            return;
        }
        let mut outputs = match result {
            Ok(outputs) => outputs,
            Err(cause) => {
                self.failed = true;
                self.failure = Some(Error::Failure {
                    composition: path.to_string(),
                    application: resolved.labels.get(info.node).cloned().unwrap_or_default(),
                    shard: shard_label(&resolved, info.node, &info.units),
                    cause: cause.cause,
                    kind: cause.kind,
                });
                ctx.exec.cancel.cancel();
                return;
            }
        };
        let Some(node) = resolved.plan.nodes.get(info.node) else {
            return;
        };
        for output in &node.outputs {
            let items = outputs
                .iter_mut()
                .find(|o| o.name == output.param)
                .map(|o| std::mem::take(&mut o.items))
                .unwrap_or_default();
            self.add_items(ctx, info.run, output.set.0, items);
        }
        self.maybe_finish_app(ctx, info.run, info.node);
    }

    fn maybe_finish_app(&mut self, ctx: &mut Ctx<'_>, run: usize, node: usize) {
        let Some(r) = self.runs.get_mut(run) else {
            return;
        };
        let Some(app) = r.apps.get_mut(node) else {
            return;
        };
        let done = app.in_flight == 0 && (app.skipped || (app.activated && app.pending == 0));
        if app.finished || !done {
            return;
        }
        app.finished = true;
        r.apps_left = r.apps_left.saturating_sub(1);
        let plan = r.resolved.plan.clone();
        if let Some(n) = plan.nodes.get(node) {
            for output in &n.outputs {
                self.set_complete(ctx, run, output.set.0);
            }
        }
        self.maybe_finish_run(ctx, run);
    }

    fn maybe_finish_run(&mut self, ctx: &mut Ctx<'_>, run: usize) {
        if self.failed {
            return;
        }
        let Some(r) = self.runs.get(run) else {
            return;
        };
        if r.apps_left > 0 {
            return;
        }
        // Every input set must have been delivered too (start_run finishes
        // delivering before its own check).
        let plan = r.resolved.plan.clone();
        if plan
            .input_sets
            .iter()
            .any(|s| r.sets.get(s.0).is_some_and(|s| !s.complete))
        {
            return;
        }
        let Some(mut r) = self.runs.try_remove(run) else {
            return;
        };
        match r.parent {
            None => {
                let mut outputs = Sets::new();
                for (name, set) in plan.outputs.iter().zip(&plan.output_sets) {
                    let items = r
                        .sets
                        .get_mut(set.0)
                        .map(|s| std::mem::take(&mut s.items))
                        .unwrap_or_default();
                    outputs.insert(name.clone(), items);
                }
                self.answer(ctx, Ok(outputs));
            }
            Some(shard) => {
                let outputs: Vec<OutputSet> = plan
                    .outputs
                    .iter()
                    .zip(&plan.output_sets)
                    .map(|(name, set)| OutputSet {
                        name: name.clone(),
                        items: r
                            .sets
                            .get_mut(set.0)
                            .map(|s| std::mem::take(&mut s.items))
                            .unwrap_or_default(),
                    })
                    .collect();
                self.shard_done(ctx, shard, Ok(outputs));
            }
        }
    }

    /// Answers once the invocation failed and no sandbox is still running.
    fn check_done(&mut self, ctx: &mut Ctx<'_>) {
        if self.answered || self.compute_in_flight > 0 {
            return;
        }
        if let Some(failure) = self.failure.take() {
            self.answer(ctx, Err(failure));
        }
    }

    fn answer(&mut self, ctx: &mut Ctx<'_>, outputs: Result<Sets>) {
        if self.answered {
            return;
        }
        self.answered = true;
        let exec = ctx.exec;
        let counters = &exec.core.counters;
        let now = Instant::now();
        let started = exec.started.get().copied().unwrap_or(exec.admitted);
        let answer = outputs.map(|outputs| {
            Counters::add(&counters.invocations_succeeded, 1);
            Invocation {
                outputs,
                timings: Timings {
                    queued: started.saturating_duration_since(exec.admitted),
                    fetching: TimingSums::read(&exec.sums.fetching),
                    sandbox: TimingSums::read(&exec.sums.sandbox),
                    compute: now.saturating_duration_since(started),
                    storing: TimingSums::read(&exec.sums.storing),
                    total: now.saturating_duration_since(exec.admitted),
                },
                wasi: exec.wasi,
            }
        });
        if answer.is_err() {
            Counters::add(&counters.invocations_failed, 1);
        }
        // Drop the remaining runs (and the items they hold) now.
        self.runs.clear();
        ctx.actions.push(Action::Answer(answer));
    }
}
