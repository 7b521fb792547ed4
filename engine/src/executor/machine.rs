//! The state machine of one invocation: pure transitions, no threads, no
//! clock, no I/O.
//!
//! The machine is driven by two events, [`Machine::start`] and
//! [`Machine::shard_done`]; each updates the state and returns the
//! [`Effect`]s to perform (launch these shards, trace, cancel, answer). The
//! caller ([`super::exec`]) performs them after releasing its lock.
//!
//! A *run* is one execution of a plan: the invocation's root composition, or
//! a nested composition called by a shard of an enclosing run. Runs, and the
//! shards in flight, live in slabs; a shard is named by its slab key
//! everywhere (jobs, I/O callbacks), so the hot path never looks anything up
//! by name.
//!
//! Set lifecycle: items are appended as producer shards finish (each append
//! feeds `each` consumers at once: pipelining); a set is *complete* when its
//! producing application has finished every shard. An application activates
//! when every input that is not a streamed `each` input is complete; from then
//! on every newly arrived `each` item is combined with what is already known
//! (see [`shards::product`]) and launched. An application finishes when all
//! its inputs are complete and its shards are done, or at once when a
//! non-optional input turns out empty.
//!
//! A failed shard fails the invocation, unless its application has a `catch`
//! set and the failure is the shard's own ([`catch::catches`]): then the
//! failure becomes one item of that set and the other shards go on.
//!
//! Every lookup that the plan guarantees (a node, set, application or
//! dimension index in range, a shard or run still present) is checked; a
//! failed check is a [`Broken`] invariant, which fails the invocation with
//! [`Error::Internal`] naming it rather than leaving it unanswered.

use std::sync::Arc;

use pappus_dsl::Mode;
use pappus_isolation::{OutputSet, WasiContext};
use slab::Slab;

use super::catch;
use super::consumers;
use super::label::shard_label;
use super::outcome::ShardResult;
use super::resolved::{Resolved, Target};
use super::shards::{self, Dim, Unit};
use crate::metrics::EventKind;
use crate::{Error, Item, Result, Sets};

/// Work decided by a transition, for the caller to carry out.
pub(crate) enum Effect {
    /// Run a function shard in a sandbox.
    Compute {
        shard: usize,
        function: pappus_isolation::Function,
        resolved: Arc<Resolved>,
        node: usize,
        units: Vec<Unit>,
    },
    /// Run a builtin shard on the I/O runtime.
    Builtin {
        shard: usize,
        builtin: pappus_dsl::builtins::Builtin,
        units: Vec<Unit>,
        /// For `fetch`: the largest object its readers can take, and how to
        /// name that limit ([`consumers::object_limit`]).
        object_limit: Option<(u64, String)>,
    },
    /// Report a shard's start or finish (only when tracing is on).
    Trace {
        kind: EventKind,
        composition: String,
        application: String,
        shard: String,
    },
    /// The invocation failed: cancel the sandboxes still running.
    Cancel,
    /// Answer the invocation (emitted once).
    Answer(Result<Sets>),
}

/// A broken invariant of the machine, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Broken(pub &'static str);

/// The outcome of an internal step: `Err` when an invariant did not hold.
type Step = std::result::Result<(), Broken>;

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
    /// Shards this application has created so far (checked against
    /// [`ShardBounds::per_application`]).
    created: u64,
}

/// How many shards an invocation may create, checked (from the set sizes)
/// before any shard is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ShardBounds {
    /// Shards one application (in one run) may create.
    pub per_application: u64,
    /// Shards the whole invocation may create, nested compositions included.
    pub per_invocation: u64,
}

impl Default for ShardBounds {
    fn default() -> Self {
        ShardBounds {
            per_application: 100_000,
            per_invocation: 1_000_000,
        }
    }
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

/// The state of one invocation.
pub(crate) struct Machine {
    root: Arc<Resolved>,
    /// The root run's inputs, by input index, until [`Machine::start`].
    inputs: Option<Vec<Vec<Item>>>,
    /// Whether to emit [`Effect::Trace`].
    trace: bool,
    runs: Slab<Run>,
    shards: Slab<Shard>,
    compute_in_flight: usize,
    /// Shards launched since [`Machine::take_launched`] was last called.
    launched: u64,
    failure: Option<Error>,
    /// A shard failed: launch nothing more, ignore late results.
    failed: bool,
    /// Seed and time of the invocation, reported with its failure.
    wasi: WasiContext,
    answered: bool,
    bounds: ShardBounds,
    /// Shards created by the whole invocation so far.
    created: u64,
}

/// The effects of one transition, in the order to perform them.
type Effects = Vec<Effect>;

impl Machine {
    /// A machine for an invocation of `root` with `inputs` (one list per
    /// input of the root plan, in order); `trace` asks for
    /// [`Effect::Trace`] at every shard start and finish.
    pub(crate) fn new(
        root: Arc<Resolved>,
        inputs: Vec<Vec<Item>>,
        trace: bool,
        wasi: WasiContext,
    ) -> Machine {
        Machine {
            wasi,
            root,
            inputs: Some(inputs),
            trace,
            runs: Slab::new(),
            shards: Slab::new(),
            compute_in_flight: 0,
            launched: 0,
            failure: None,
            failed: false,
            answered: false,
            bounds: ShardBounds::default(),
            created: 0,
        }
    }

    /// Replaces the default [`ShardBounds`].
    pub(crate) fn with_shard_bounds(mut self, bounds: ShardBounds) -> Machine {
        self.bounds = bounds;
        self
    }

    /// Run `run`, which the invariant `why` says is still alive.
    fn live_run(&mut self, run: usize, why: &'static str) -> Result<&mut Run, Broken> {
        self.runs.get_mut(run).ok_or(Broken(why))
    }

    /// Starts the root run.
    pub(crate) fn start(&mut self) -> Effects {
        let mut fx = Effects::new();
        let step = match self.inputs.take() {
            Some(inputs) => {
                let root = self.root.clone();
                let path: Arc<str> = Arc::from(root.plan.name.as_str());
                self.start_run(&mut fx, root, path, inputs, None)
            }
            None => Err(Broken("an invocation is started once")),
        };
        self.settle(&mut fx, step);
        fx
    }

    /// Integrates the result of `shard`.
    pub(crate) fn shard_done(&mut self, shard: usize, result: ShardResult) -> Effects {
        let mut fx = Effects::new();
        let step = self.finish_shard(&mut fx, shard, result);
        self.settle(&mut fx, step);
        fx
    }

    /// How many shards were launched since the last call (for the metrics).
    pub(crate) fn take_launched(&mut self) -> u64 {
        std::mem::take(&mut self.launched)
    }

    /// Ends a transition: a broken invariant fails the invocation, and a
    /// failed invocation answers once no sandbox of it is running.
    fn settle(&mut self, fx: &mut Effects, step: Step) {
        if let Err(Broken(invariant)) = step {
            self.fail(fx, Error::Internal { invariant });
        }
        if self.answered || self.compute_in_flight > 0 {
            return;
        }
        if let Some(failure) = self.failure.take() {
            self.answer(fx, Err(failure));
        }
    }

    /// Fails the invocation with `error`, unless it already failed or answered.
    fn fail(&mut self, fx: &mut Effects, error: Error) {
        if self.failed || self.answered {
            return;
        }
        self.failed = true;
        self.failure = Some(error);
        fx.push(Effect::Cancel);
    }

    fn start_run(
        &mut self,
        fx: &mut Effects,
        resolved: Arc<Resolved>,
        path: Arc<str>,
        inputs: Vec<Vec<Item>>,
        parent: Option<usize>,
    ) -> Step {
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
            self.maybe_activate(fx, run, node)?;
        }
        for (index, items) in inputs.into_iter().enumerate() {
            let set = plan
                .input_sets
                .get(index)
                .ok_or(Broken("every input list has an input set in the plan"))?;
            self.add_items(fx, run, set.0, items)?;
            self.set_complete(fx, run, set.0)?;
        }
        self.maybe_finish_run(fx, run)
    }

    fn add_items(&mut self, fx: &mut Effects, run: usize, set: usize, items: Vec<Item>) -> Step {
        if items.is_empty() {
            return Ok(());
        }
        let r = self.live_run(run, "a run receiving items is alive")?;
        let state = r
            .sets
            .get_mut(set)
            .ok_or(Broken("a set index is within its run"))?;
        let start = state.items.len();
        state.items.extend(items);
        let plan = r.resolved.plan.clone();
        let def = plan
            .sets
            .get(set)
            .ok_or(Broken("a set index is within its plan"))?;
        for &(node, input) in &def.consumers {
            let r = self.live_run(run, "a run receiving items is alive")?;
            let app = r
                .apps
                .get_mut(node.0)
                .ok_or(Broken("a consumer is an application of its run"))?;
            let each_dim = *app
                .each_dim
                .get(input)
                .ok_or(Broken("a consumer's input index is within its application"))?;
            let Some(dim) = each_dim else {
                // Not a streamed input: read once the set is complete.
                continue;
            };
            let new = r
                .sets
                .get(set)
                .and_then(|s| s.items.get(start..))
                .ok_or(Broken("appended items are within their set"))?;
            app.dims
                .get_mut(dim)
                .ok_or(Broken("a streamed input's dimension exists"))?
                .cells
                .extend(shards::each_cells(new));
            self.pump(fx, run, node.0, dim)?;
        }
        Ok(())
    }

    fn set_complete(&mut self, fx: &mut Effects, run: usize, set: usize) -> Step {
        let r = self.live_run(run, "a run completing a set is alive")?;
        let state = r
            .sets
            .get_mut(set)
            .ok_or(Broken("a set index is within its run"))?;
        state.complete = true;
        let empty = state.items.is_empty();
        let plan = r.resolved.plan.clone();
        let def = plan
            .sets
            .get(set)
            .ok_or(Broken("a set index is within its plan"))?;
        for &(node, input) in &def.consumers {
            let Some(r) = self.runs.get_mut(run) else {
                // The run finished while an earlier consumer finished (the
                // remaining consumers had finished already).
                return Ok(());
            };
            let app = r
                .apps
                .get_mut(node.0)
                .ok_or(Broken("a consumer is an application of its run"))?;
            let optional = plan
                .nodes
                .get(node.0)
                .and_then(|n| n.inputs.get(input))
                .ok_or(Broken("a consumer's input index is within its application"))?
                .optional;
            app.pending = app.pending.saturating_sub(1);
            let each_dim = app.each_dim.get(input).copied().flatten();
            if each_dim.is_none() {
                app.pending_static = app.pending_static.saturating_sub(1);
            }
            if empty && !optional {
                // The application does not run; its outputs are empty.
                app.skipped = true;
            } else if let (true, Some(dim)) = (empty, each_dim) {
                app.dims
                    .get_mut(dim)
                    .ok_or(Broken("a streamed input's dimension exists"))?
                    .cells
                    .push(vec![shards::empty_unit()]);
                self.pump(fx, run, node.0, dim)?;
            }
            self.maybe_activate(fx, run, node.0)?;
            self.maybe_finish_app(fx, run, node.0)?;
        }
        Ok(())
    }

    fn maybe_activate(&mut self, fx: &mut Effects, run: usize, node: usize) -> Step {
        let Some(r) = self.runs.get_mut(run) else {
            // The run finished during this transition (its last application
            // finished above): nothing is left to activate.
            return Ok(());
        };
        let plan = r.resolved.plan.clone();
        let n = plan
            .nodes
            .get(node)
            .ok_or(Broken("a node index is within its plan"))?;
        let app = r
            .apps
            .get_mut(node)
            .ok_or(Broken("every node has an application"))?;
        if app.activated || app.skipped || app.pending_static > 0 {
            return Ok(());
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
            return self.maybe_finish_app(fx, run, node);
        }
        app.activated = true;
        let streamed = app.dims.len();
        app.dims.extend(static_dims);
        if streamed == 0 {
            let count = shards::product_len(&app.dims, usize::MAX, 0..0);
            if !self.admit_shards(fx, run, node, count)? {
                return Ok(());
            }
            let dims = &self
                .runs
                .get(run)
                .and_then(|r| r.apps.get(node))
                .ok_or(Broken("an activated application is alive"))?
                .dims;
            let shards = shards::product(n.inputs.len(), dims, usize::MAX, 0..0);
            for units in shards {
                self.launch(fx, run, node, units)?;
            }
        } else {
            for dim in 0..streamed {
                self.pump(fx, run, node, dim)?;
            }
        }
        self.maybe_finish_app(fx, run, node)
    }

    /// Launches the shards formed by the not-yet-consumed cells of `dim`.
    fn pump(&mut self, fx: &mut Effects, run: usize, node: usize, dim: usize) -> Step {
        if self.failed {
            return Ok(());
        }
        let Some(r) = self.runs.get_mut(run) else {
            // The run finished during this transition: nothing to launch.
            return Ok(());
        };
        let n_inputs = r
            .resolved
            .plan
            .nodes
            .get(node)
            .ok_or(Broken("a node index is within its plan"))?
            .inputs
            .len();
        let app = r
            .apps
            .get_mut(node)
            .ok_or(Broken("every node has an application"))?;
        if !app.activated || app.skipped || app.finished {
            return Ok(());
        }
        let d = app
            .dims
            .get(dim)
            .ok_or(Broken("a pumped dimension exists"))?;
        let (from, to) = (d.consumed, d.cells.len());
        if from == to {
            return Ok(());
        }
        let count = shards::product_len(&app.dims, dim, from..to);
        if !self.admit_shards(fx, run, node, count)? {
            return Ok(());
        }
        let app = self
            .runs
            .get_mut(run)
            .and_then(|r| r.apps.get_mut(node))
            .ok_or(Broken("a pumped application is alive"))?;
        let shards = shards::product(n_inputs, &app.dims, dim, from..to);
        if let Some(d) = app.dims.get_mut(dim) {
            d.consumed = to;
        }
        for units in shards {
            self.launch(fx, run, node, units)?;
        }
        Ok(())
    }

    /// Counts `count` shards about to be built for application `node` of
    /// `run` (`None`: more than a `u64` holds) against the bounds. Over a
    /// bound, fails the invocation with [`Error::TooManyShards`] and answers
    /// `false`: the caller must build nothing.
    fn admit_shards(
        &mut self,
        fx: &mut Effects,
        run: usize,
        node: usize,
        count: Option<u64>,
    ) -> std::result::Result<bool, Broken> {
        let bounds = self.bounds;
        // Borrows only `runs`: `created` is read below.
        let r = self
            .runs
            .get_mut(run)
            .ok_or(Broken("a run admitting shards is alive"))?;
        let app = r
            .apps
            .get_mut(node)
            .ok_or(Broken("every node has an application"))?;
        let for_app = count.and_then(|c| app.created.checked_add(c));
        let in_total = count.and_then(|c| self.created.checked_add(c));
        let shown = count.map_or_else(|| "more than 2^64".to_string(), |c| c.to_string());
        let (reason, limit) = match (for_app, in_total) {
            (Some(a), Some(t)) if a <= bounds.per_application && t <= bounds.per_invocation => {
                app.created = a;
                self.created = t;
                return Ok(true);
            }
            (Some(a), _) if a <= bounds.per_application => (
                format!(
                    "{shown} more shards would take the invocation past its limit of {} shards",
                    bounds.per_invocation
                ),
                bounds.per_invocation,
            ),
            _ => (
                format!(
                    "{shown} more shards would take the application past its limit of {} shards",
                    bounds.per_application
                ),
                bounds.per_application,
            ),
        };
        let error = Error::TooManyShards {
            composition: r.path.to_string(),
            application: r.resolved.labels.get(node).cloned().unwrap_or_default(),
            reason,
            limit,
        };
        self.fail(fx, error);
        Ok(false)
    }

    fn launch(&mut self, fx: &mut Effects, run: usize, node: usize, units: Vec<Unit>) -> Step {
        if self.failed {
            return Ok(());
        }
        let r = self.live_run(run, "a run launching shards is alive")?;
        let resolved = r.resolved.clone();
        let path = r.path.clone();
        let app = r
            .apps
            .get_mut(node)
            .ok_or(Broken("every node has an application"))?;
        let target = resolved
            .targets
            .get(node)
            .ok_or(Broken("every node has a target"))?;
        app.in_flight += 1;
        self.launched += 1;
        if self.trace {
            fx.push(Effect::Trace {
                kind: EventKind::ShardStarted,
                composition: path.to_string(),
                application: resolved.labels.get(node).cloned().unwrap_or_default(),
                shard: shard_label(&resolved, node, &units),
            });
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
                fx.push(Effect::Compute {
                    shard,
                    function: function.clone(),
                    resolved: resolved.clone(),
                    node,
                    units,
                });
            }
            Target::Builtin(builtin) => fx.push(Effect::Builtin {
                shard,
                builtin: *builtin,
                units,
                object_limit: match builtin {
                    pappus_dsl::builtins::Builtin::Fetch => {
                        consumers::object_limit(&resolved, node)
                    }
                    _ => None,
                },
            }),
            Target::Composition(inner) => {
                let inputs: Vec<Vec<Item>> = units.iter().map(|u| u.to_vec()).collect();
                let inner_path: Arc<str> = Arc::from(format!("{path} > {}", inner.plan.name));
                self.start_run(fx, inner.clone(), inner_path, inputs, Some(shard))?;
            }
        }
        Ok(())
    }

    fn finish_shard(&mut self, fx: &mut Effects, shard: usize, result: ShardResult) -> Step {
        let info = self
            .shards
            .try_remove(shard)
            .ok_or(Broken("a finishing shard is in flight"))?;
        if info.compute {
            self.compute_in_flight = self.compute_in_flight.saturating_sub(1);
        }
        let Some(r) = self.runs.get_mut(info.run) else {
            if self.answered {
                // A late builtin result after a failed invocation answered
                // (its runs are dropped then).
                return Ok(());
            }
            return Err(Broken("a finishing shard's run is alive"));
        };
        let resolved = r.resolved.clone();
        let path = r.path.clone();
        if let Some(app) = r.apps.get_mut(info.node) {
            app.in_flight = app.in_flight.saturating_sub(1);
        }
        if self.trace {
            fx.push(Effect::Trace {
                kind: EventKind::ShardFinished,
                composition: path.to_string(),
                application: resolved.labels.get(info.node).cloned().unwrap_or_default(),
                shard: shard_label(&resolved, info.node, &info.units),
            });
        }
        if self.failed {
            return Ok(());
        }
        let mut outputs = match result {
            Ok(outputs) => outputs,
            Err(cause) => {
                let application = resolved.labels.get(info.node).cloned().unwrap_or_default();
                let shard = shard_label(&resolved, info.node, &info.units);
                let catch_set = resolved.plan.nodes.get(info.node).and_then(|n| n.catch);
                if let Some(set) = catch_set.filter(|_| catch::catches(cause.kind)) {
                    // The shard's outputs are dropped with it; its failure is
                    // an item, and the application goes on.
                    let item = catch::failure_item(
                        &resolved,
                        info.node,
                        &info.units,
                        &application,
                        &shard,
                        &cause,
                    );
                    self.add_items(fx, info.run, set.0, vec![item])?;
                    return self.maybe_finish_app(fx, info.run, info.node);
                }
                let failure = Error::Failure {
                    composition: path.to_string(),
                    application,
                    shard,
                    cause: cause.cause.into_boxed_str(),
                    kind: cause.kind,
                    refused: cause.refused,
                    wasi: Box::new(self.wasi),
                };
                self.fail(fx, failure);
                return Ok(());
            }
        };
        let node = resolved
            .plan
            .nodes
            .get(info.node)
            .ok_or(Broken("a node index is within its plan"))?;
        for output in &node.outputs {
            let items = outputs
                .iter_mut()
                .find(|o| o.name == output.param)
                .map(|o| std::mem::take(&mut o.items))
                .unwrap_or_default();
            self.add_items(fx, info.run, output.set.0, items)?;
        }
        self.maybe_finish_app(fx, info.run, info.node)
    }

    fn maybe_finish_app(&mut self, fx: &mut Effects, run: usize, node: usize) -> Step {
        let Some(r) = self.runs.get_mut(run) else {
            // The run finished during this transition (every application,
            // this one included, finished above).
            return Ok(());
        };
        let app = r
            .apps
            .get_mut(node)
            .ok_or(Broken("every node has an application"))?;
        let done = app.in_flight == 0 && (app.skipped || (app.activated && app.pending == 0));
        if app.finished || !done {
            return Ok(());
        }
        app.finished = true;
        r.apps_left = r.apps_left.saturating_sub(1);
        let plan = r.resolved.plan.clone();
        let n = plan
            .nodes
            .get(node)
            .ok_or(Broken("a node index is within its plan"))?;
        let written = n.outputs.iter().map(|o| o.set).chain(n.catch);
        for set in written {
            if !self.runs.contains(run) {
                // Completing an earlier set let the run finish (a set nobody
                // reads is taken as it is, complete or not).
                return Ok(());
            }
            self.set_complete(fx, run, set.0)?;
        }
        self.maybe_finish_run(fx, run)
    }

    fn maybe_finish_run(&mut self, fx: &mut Effects, run: usize) -> Step {
        if self.failed {
            return Ok(());
        }
        let Some(r) = self.runs.get(run) else {
            // Already finished during this transition.
            return Ok(());
        };
        if r.apps_left > 0 {
            return Ok(());
        }
        // Every input set must have been delivered too (start_run finishes
        // delivering before its own check).
        let plan = r.resolved.plan.clone();
        if plan
            .input_sets
            .iter()
            .any(|s| r.sets.get(s.0).is_some_and(|s| !s.complete))
        {
            return Ok(());
        }
        let mut r = self
            .runs
            .try_remove(run)
            .ok_or(Broken("a finishing run is alive"))?;
        let parent = r.parent;
        let mut take = |set: usize| {
            r.sets
                .get_mut(set)
                .map(|s| std::mem::take(&mut s.items))
                .ok_or(Broken("an output set index is within its run"))
        };
        match parent {
            None => {
                let mut outputs = Sets::new();
                for (name, set) in plan.outputs.iter().zip(&plan.output_sets) {
                    outputs.insert(name.clone(), take(set.0)?);
                }
                self.answer(fx, Ok(outputs));
                Ok(())
            }
            Some(shard) => {
                let mut outputs = Vec::with_capacity(plan.outputs.len());
                for (name, set) in plan.outputs.iter().zip(&plan.output_sets) {
                    outputs.push(OutputSet {
                        name: name.clone(),
                        items: take(set.0)?,
                    });
                }
                self.finish_shard(fx, shard, Ok(outputs))
            }
        }
    }

    fn answer(&mut self, fx: &mut Effects, outputs: Result<Sets>) {
        if self.answered {
            return;
        }
        self.answered = true;
        // Drop the remaining runs (and the items they hold) now.
        self.runs.clear();
        fx.push(Effect::Answer(outputs));
    }
}

#[cfg(test)]
mod tests;
