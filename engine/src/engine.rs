//! [`Engine`], [`EngineBuilder`] and [`Tenant`]: the embedding API.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use pappus_io::Authority;

use crate::admitted::Admitted;
use crate::executor::builtins::Io;
use crate::executor::pool::Pool;
use crate::executor::{Admission, Core, ShardBounds};
use crate::future::InvocationFuture;
use crate::metrics::{Counters, EventHook};
use crate::registry::quota::Quotas;
use crate::registry::store::Store;
use crate::registry::{CompositionInfo, FunctionEntry, FunctionInfo, Registration, Registry};
use crate::CacheStats;
use crate::{
    Bytes, Error, Event, Invocation, Limits, MetricsSnapshot, Result, Sets, StaticSet, WasiContext,
    WasiSettings,
};

/// The name of the tenant used by the [`Engine`]'s own registration and
/// invocation methods.
pub const DEFAULT_TENANT: &str = "default";

/// Default of [`EngineBuilder::max_nesting_depth`].
pub const DEFAULT_MAX_NESTING_DEPTH: usize = 32;

struct Inner {
    core: Arc<Core>,
    registry: Registry,
    default_limits: Limits,
    /// The ceiling of a function's memory limit (checked at registration).
    max_memory_bytes: u64,
    // Dropped with the engine: lets the compute threads finish and exit.
    _pool: Pool,
}

/// The engine: a registry of functions and compositions per tenant and the
/// executor that runs compositions.
///
/// Cheap to clone (an `Arc` inside); every method may be called from any
/// thread. Dropping the last clone stops the compute threads once the
/// invocations still running have answered.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

/// Configures and builds an [`Engine`]; see [`Engine::builder`].
#[must_use]
pub struct EngineBuilder {
    compute_threads: Option<usize>,
    io_threads: usize,
    queue_bound: usize,
    max_in_flight: usize,
    data_dir: Option<PathBuf>,
    code_cache_dir: Option<PathBuf>,
    default_limits: Limits,
    max_memory_bytes: Option<u64>,
    io_config: Option<pappus_io::RingConfig>,
    on_event: Option<EventHook>,
    max_nesting_depth: usize,
    shard_bounds: ShardBounds,
    quotas: Quotas,
    authorities: HashMap<String, Arc<Authority>>,
}

impl Default for EngineBuilder {
    fn default() -> Self {
        EngineBuilder {
            compute_threads: None,
            io_threads: crate::DEFAULT_IO_THREADS,
            queue_bound: crate::DEFAULT_QUEUE_BOUND,
            max_in_flight: crate::DEFAULT_MAX_IN_FLIGHT,
            data_dir: None,
            code_cache_dir: None,
            default_limits: Limits::default(),
            max_memory_bytes: None,
            io_config: None,
            on_event: None,
            max_nesting_depth: DEFAULT_MAX_NESTING_DEPTH,
            shard_bounds: ShardBounds::default(),
            quotas: Quotas::default(),
            authorities: HashMap::new(),
        }
    }
}

impl EngineBuilder {
    /// Compute threads running sandboxes. Default: one per core.
    pub fn compute_threads(mut self, threads: usize) -> Self {
        self.compute_threads = Some(threads);
        self
    }

    /// I/O threads running builtins (overrides the I/O config's setting).
    /// Default: 1.
    pub fn io_threads(mut self, threads: usize) -> Self {
        self.io_threads = threads;
        self
    }

    /// Invocations that may wait for admission; beyond it
    /// [`Engine::invoke`] answers [`Error::Overloaded`] at once. Default: 1024.
    pub fn queue_bound(mut self, bound: usize) -> Self {
        self.queue_bound = bound;
        self
    }

    /// Invocations executing at once; further ones wait in the queue.
    /// Default: 64.
    pub fn max_in_flight(mut self, invocations: usize) -> Self {
        self.max_in_flight = invocations;
        self
    }

    /// Persist the registry (and cache precompiled code) under `dir`, and
    /// reload it on [`build`](Self::build). Default: none (in memory only).
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// Cache compiled code in `dir` without persisting the registry: for a
    /// process that registers the same modules on every start (`pappus run`),
    /// so that only the first start compiles them. `dir` is created (mode
    /// 0700) if missing; its files are authenticated by the key in
    /// `dir/cache.key`, created (mode 0600) on first use, as for a data
    /// directory's cache. Takes the place of the data directory's cache when
    /// both are set. Default: none.
    pub fn code_cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.code_cache_dir = Some(dir.into());
        self
    }

    /// Limits suggested for functions registered without explicit ones (see
    /// [`Engine::default_limits`]). Default: [`Limits::default`].
    pub fn default_limits(mut self, limits: Limits) -> Self {
        self.default_limits = limits;
        self
    }

    /// The largest linear memory any function may ask for, in bytes (the
    /// ceiling of [`Limits::memory_bytes`]; at most 4 GiB). Default
    /// [`pappus_isolation::DEFAULT_MAX_MEMORY_BYTES`], 256 MiB. A registration
    /// above it fails with [`Error::InvalidLimits`]; each sandbox slot reserves
    /// this much address space (not memory).
    pub fn max_memory_bytes(mut self, bytes: u64) -> Self {
        self.max_memory_bytes = Some(bytes);
        self
    }

    /// Configuration of the I/O runtime that runs builtins (started on first
    /// use). Default: [`pappus_io::RingConfig::new`].
    pub fn io_config(mut self, config: pappus_io::RingConfig) -> Self {
        self.io_config = Some(config);
        self
    }

    /// The longest chain of compositions calling compositions (`a` calls `b`
    /// calls `c` is 3) that a registration may create; longer ones are
    /// refused with [`Error::NestingTooDeep`] naming the chain. Persisted
    /// compositions over a lowered bound are skipped at start. Default:
    /// [`DEFAULT_MAX_NESTING_DEPTH`] (32).
    pub fn max_nesting_depth(mut self, depth: usize) -> Self {
        self.max_nesting_depth = depth;
        self
    }

    /// The most shards one application may create in one run of its
    /// composition (the cross product of its inputs' cells, counted from the
    /// set sizes before any shard is built). Beyond it the invocation fails
    /// with [`Error::TooManyShards`] naming the application. Default: 100,000.
    pub fn max_shards_per_application(mut self, shards: u64) -> Self {
        self.shard_bounds.per_application = shards;
        self
    }

    /// The most shards one invocation may create in total, nested
    /// compositions included (a composition calling another twice per level
    /// creates 2^N shards). Beyond it the invocation fails with
    /// [`Error::TooManyShards`]. Default: 1,000,000.
    pub fn max_shards_per_invocation(mut self, shards: u64) -> Self {
        self.shard_bounds.per_invocation = shards;
        self
    }

    /// The most functions one tenant may have registered; registering one
    /// more fails with [`Error::QuotaExceeded`] before its module is compiled
    /// (replacing a function of the same name is not one more; deleting one
    /// frees a place). Persisted functions over a lowered quota still load
    /// at start. Default: [`DEFAULT_MAX_FUNCTIONS_PER_TENANT`](crate::DEFAULT_MAX_FUNCTIONS_PER_TENANT) (1,000).
    pub fn max_functions_per_tenant(mut self, functions: u64) -> Self {
        self.quotas.functions = functions;
        self
    }

    /// The most compositions one tenant may have registered; a text that
    /// would register more fails with [`Error::QuotaExceeded`] and registers
    /// none of them (replacements are not new ones). Persisted compositions
    /// over a lowered quota still load at start. Default:
    /// [`DEFAULT_MAX_COMPOSITIONS_PER_TENANT`](crate::DEFAULT_MAX_COMPOSITIONS_PER_TENANT) (1,000).
    pub fn max_compositions_per_tenant(mut self, compositions: u64) -> Self {
        self.quotas.compositions = compositions;
        self
    }

    /// The most bytes of modules (as registered, summed over the tenant's
    /// functions) one tenant may have registered; a registration that would
    /// exceed it fails with [`Error::QuotaExceeded`] before its module is
    /// compiled (a replaced function's module no longer counts). Default:
    /// [`DEFAULT_MAX_MODULE_BYTES_PER_TENANT`](crate::DEFAULT_MAX_MODULE_BYTES_PER_TENANT) (512 MiB).
    pub fn max_module_bytes_per_tenant(mut self, bytes: u64) -> Self {
        self.quotas.module_bytes = bytes;
        self
    }

    /// The most bytes of static sets one tenant may hold, each distinct
    /// content counted once however many functions attach it
    /// (`docs/dataplane.md`); a registration that would exceed it fails with
    /// [`Error::QuotaExceeded`] (`static_bytes`) before anything is compiled
    /// or stored. Default:
    /// [`DEFAULT_MAX_STATIC_BYTES_PER_TENANT`](crate::DEFAULT_MAX_STATIC_BYTES_PER_TENANT) (4 GiB).
    pub fn max_static_bytes_per_tenant(mut self, bytes: u64) -> Self {
        self.quotas.static_bytes = bytes;
        self
    }

    /// The authority every builtin call of tenant `tenant`'s invocations runs
    /// with. A tenant without one gets the I/O runtime's default authority
    /// ([`pappus_io::RingConfig::authority`]). Default: none.
    pub fn tenant_authority(mut self, tenant: &str, authority: Arc<Authority>) -> Self {
        self.authorities.insert(tenant.to_string(), authority);
        self
    }

    /// A hook called for every shard start and finish (tracing, tests).
    /// Called synchronously on engine threads: keep it short.
    pub fn on_event(mut self, hook: impl Fn(&Event) + Send + Sync + 'static) -> Self {
        self.on_event = Some(Arc::new(hook));
        self
    }

    /// Builds the engine: starts the compute threads and, with a data
    /// directory, reloads the persisted registry (compiling from the cache).
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid setting or a sandbox runtime that
    /// cannot start; [`Error::Storage`] if the data directory cannot be read.
    /// Persisted entries that no longer load are skipped with a warning.
    pub fn build(self) -> Result<Engine> {
        let threads = self
            .compute_threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        if threads == 0 {
            return Err(Error::Config {
                reason: "compute_threads must be at least 1".into(),
            });
        }
        if self.max_in_flight == 0 {
            return Err(Error::Config {
                reason: "max_in_flight must be at least 1".into(),
            });
        }
        if self.max_nesting_depth == 0
            || self.shard_bounds.per_application == 0
            || self.shard_bounds.per_invocation == 0
        {
            return Err(Error::Config {
                reason: "max_nesting_depth, max_shards_per_application and max_shards_per_invocation must be at least 1".into(),
            });
        }
        let store = self.data_dir.as_deref().map(Store::open).transpose()?;
        let mut config = pappus_isolation::Config::new();
        if let Some(bytes) = self.max_memory_bytes {
            config.max_memory_bytes(bytes);
        }
        let cache = match (&self.code_cache_dir, &store) {
            (Some(dir), _) => {
                std::os::unix::fs::DirBuilderExt::mode(
                    std::fs::DirBuilder::new().recursive(true),
                    0o700,
                )
                .create(dir)
                .map_err(|e| Error::Config {
                    reason: format!("cannot create the code cache {}: {e}", dir.display()),
                })?;
                Some((dir.clone(), dir.join("cache.key")))
            }
            (None, Some(store)) => Some((store.cache_dir(), store.cache_key_path())),
            (None, None) => None,
        };
        if let Some((dir, key_path)) = cache {
            let key = pappus_isolation::CacheKey::load_or_create(&key_path).map_err(|e| {
                Error::Config {
                    reason: format!("cannot load the compiled-code cache key: {e}"),
                }
            })?;
            config.cache_dir(Some(dir)).cache_key(Some(key));
        }
        let runtime = pappus_isolation::Runtime::new(&config).map_err(|e| Error::Config {
            reason: format!("cannot start the sandbox runtime: {e}"),
        })?;
        let pool = Pool::new(threads).map_err(|e| Error::Config {
            reason: format!("cannot start compute threads: {e}"),
        })?;
        let mut io_config = self.io_config.unwrap_or_default();
        io_config.io_threads(self.io_threads.max(1));
        let core = Arc::new(Core {
            runtime,
            pool: pool.handle(),
            io: Some(Io::new(io_config)),
            counters: Counters::default(),
            admission: std::sync::Mutex::new(Admission {
                running: 0,
                waiting: Default::default(),
                reserved: 0,
                draining: false,
            }),
            idle: std::sync::Condvar::new(),
            max_in_flight: self.max_in_flight,
            queue_bound: self.queue_bound,
            on_event: self.on_event,
            shard_bounds: self.shard_bounds,
            authorities: self.authorities,
        });
        let engine = Engine {
            inner: Arc::new(Inner {
                core,
                registry: Registry::new(store, self.max_nesting_depth, self.quotas),
                default_limits: self.default_limits,
                max_memory_bytes: self
                    .max_memory_bytes
                    .unwrap_or(pappus_isolation::DEFAULT_MAX_MEMORY_BYTES),
                _pool: pool,
            }),
        };
        engine.reload()?;
        Ok(engine)
    }
}

impl Engine {
    /// A builder with the defaults documented on each setter.
    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }

    /// Reloads the persisted registry. Every record that cannot be used (see
    /// `registry::store`), every function that no longer compiles and every
    /// composition that no longer checks is skipped, logged and counted in
    /// [`MetricsSnapshot::registry_records_skipped`]; the rest loads.
    fn reload(&self) -> Result<()> {
        let Some(store) = self.inner.registry.store() else {
            return Ok(());
        };
        let loaded = store.load()?;
        let counters = &self.inner.core.counters;
        Counters::add(&counters.records_skipped, loaded.skipped);
        for (tenant, records) in loaded.tenants {
            for f in records.functions {
                let inserted = self
                    .compile(
                        &f.name,
                        &f.module,
                        f.limits,
                        f.settings,
                        f.statics,
                        f.static_hashes,
                    )
                    .and_then(|entry| {
                        self.inner
                            .registry
                            .insert_function(&tenant, &f.name, entry, false)
                    });
                if let Err(e) = inserted {
                    Counters::add(&counters.records_skipped, 1);
                    tracing::warn!(%tenant, function = %f.name, error = %e, "skipping persisted function");
                }
            }
            for (names, e) in self
                .inner
                .registry
                .restore_compositions(&tenant, records.compositions)
            {
                Counters::add(&counters.records_skipped, names.len() as u64);
                tracing::warn!(%tenant, compositions = ?names, error = %e, "skipping persisted compositions");
            }
        }
        Ok(())
    }

    fn compile(
        &self,
        name: &str,
        module: &[u8],
        limits: Limits,
        settings: WasiSettings,
        statics: Vec<StaticSet>,
        static_hashes: Vec<Vec<crate::registry::statics::Hash>>,
    ) -> Result<FunctionEntry> {
        let ceiling = self.inner.max_memory_bytes;
        if limits.memory_bytes > ceiling {
            return Err(Error::InvalidLimits {
                function: name.to_string(),
                reason: format!(
                    "a memory limit of {} bytes is above this engine's ceiling of {ceiling} bytes (EngineBuilder::max_memory_bytes, the daemon's --max-memory-mib; default {} MiB)",
                    limits.memory_bytes,
                    pappus_isolation::DEFAULT_MAX_MEMORY_BYTES >> 20
                ),
            });
        }
        let function = self
            .inner
            .core
            .runtime
            .compile_static(name, module, limits, &settings, statics)
            .map_err(|e| match e {
                pappus_isolation::Error::Cache { path, source } => Error::Storage { path, source },
                pappus_isolation::Error::InvalidModule { function, reason } => {
                    Error::InvalidModule { function, reason }
                }
                pappus_isolation::Error::Config { reason } => Error::InvalidLimits {
                    function: name.to_string(),
                    reason,
                },
                other => Error::InvalidModule {
                    function: name.to_string(),
                    reason: other.to_string(),
                },
            })?;
        Ok(FunctionEntry {
            function,
            limits,
            module: Bytes::copy_from_slice(module),
            settings,
            static_hashes: static_hashes.into(),
        })
    }

    /// The namespace of tenant `name`. Cheap; the tenant exists once something
    /// is registered in it. Tenants see only their own functions and
    /// compositions.
    pub fn tenant(&self, name: &str) -> Tenant {
        Tenant {
            engine: self.clone(),
            name: name.to_string(),
        }
    }

    fn default_tenant(&self) -> Tenant {
        self.tenant(DEFAULT_TENANT)
    }

    /// The limits configured with [`EngineBuilder::default_limits`].
    pub fn default_limits(&self) -> Limits {
        self.inner.default_limits
    }

    /// [`Tenant::register_function`] on the default tenant.
    ///
    /// # Errors
    /// As [`Tenant::register_function`].
    pub fn register_function(&self, name: &str, module: &[u8], limits: Limits) -> Result<()> {
        self.default_tenant()
            .register_function(name, module, limits)
    }

    /// [`Tenant::register_function_with`] on the default tenant.
    ///
    /// # Errors
    /// As [`Tenant::register_function_with`].
    pub fn register_function_with(
        &self,
        name: &str,
        module: &[u8],
        limits: Limits,
        settings: WasiSettings,
    ) -> Result<()> {
        self.default_tenant()
            .register_function_with(name, module, limits, settings)
    }

    /// [`Tenant::register_function_static`] on the default tenant.
    ///
    /// # Errors
    /// As [`Tenant::register_function_static`].
    pub fn register_function_static(
        &self,
        name: &str,
        module: &[u8],
        limits: Limits,
        settings: WasiSettings,
        statics: Vec<StaticSet>,
    ) -> Result<()> {
        self.default_tenant()
            .register_function_static(name, module, limits, settings, statics)
    }

    /// [`Tenant::register_compositions`] on the default tenant.
    ///
    /// # Errors
    /// As [`Tenant::register_compositions`].
    pub fn register_compositions(&self, source: &str) -> Result<Vec<String>> {
        self.default_tenant().register_compositions(source)
    }

    /// [`Tenant::register_compositions_with_warnings`] on the default tenant.
    ///
    /// # Errors
    /// As [`Tenant::register_compositions`].
    pub fn register_compositions_with_warnings(&self, source: &str) -> Result<Registration> {
        self.default_tenant()
            .register_compositions_with_warnings(source)
    }

    /// [`Tenant::invoke`] on the default tenant.
    ///
    /// # Errors
    /// As [`Tenant::invoke`].
    pub fn invoke(&self, composition: &str, inputs: Sets) -> Result<Invocation> {
        self.default_tenant().invoke(composition, inputs)
    }

    /// [`Tenant::invoke_with`] on the default tenant.
    ///
    /// # Errors
    /// As [`Tenant::invoke`].
    pub fn invoke_with(
        &self,
        composition: &str,
        inputs: Sets,
        wasi: WasiContext,
    ) -> Result<Invocation> {
        self.default_tenant().invoke_with(composition, inputs, wasi)
    }

    /// [`Tenant::invoke_async`] on the default tenant.
    pub fn invoke_async(&self, composition: &str, inputs: Sets) -> InvocationFuture {
        self.default_tenant().invoke_async(composition, inputs)
    }

    /// [`Tenant::list_functions`] on the default tenant.
    pub fn list_functions(&self) -> Vec<FunctionInfo> {
        self.default_tenant().list_functions()
    }

    /// [`Tenant::get_function`] on the default tenant.
    pub fn get_function(&self, name: &str) -> Option<FunctionInfo> {
        self.default_tenant().get_function(name)
    }

    /// [`Tenant::function_module`] on the default tenant.
    pub fn function_module(&self, name: &str) -> Option<Bytes> {
        self.default_tenant().function_module(name)
    }

    /// [`Tenant::delete_function`] on the default tenant.
    ///
    /// # Errors
    /// As [`Tenant::delete_function`].
    pub fn delete_function(&self, name: &str) -> Result<()> {
        self.default_tenant().delete_function(name)
    }

    /// [`Tenant::list_compositions`] on the default tenant.
    pub fn list_compositions(&self) -> Vec<CompositionInfo> {
        self.default_tenant().list_compositions()
    }

    /// [`Tenant::get_composition`] on the default tenant.
    pub fn get_composition(&self, name: &str) -> Option<CompositionInfo> {
        self.default_tenant().get_composition(name)
    }

    /// [`Tenant::delete_composition`] on the default tenant.
    ///
    /// # Errors
    /// As [`Tenant::delete_composition`].
    pub fn delete_composition(&self, name: &str) -> Result<()> {
        self.default_tenant().delete_composition(name)
    }

    /// A snapshot of the engine's counters and gauges.
    pub fn metrics(&self) -> MetricsSnapshot {
        let core = &self.inner.core;
        let c = &core.counters;
        let (queue_depth, in_flight) = {
            let a = core.admission();
            ((a.waiting.len() + a.reserved) as u64, a.running as u64)
        };
        let io = core.io.as_ref().and_then(Io::stats);
        MetricsSnapshot {
            sandboxes_created: Counters::get(&c.sandboxes_created),
            queue_depth,
            in_flight,
            compute_queue_depth: core.pool.queued() as u64,
            invocations_succeeded: Counters::get(&c.invocations_succeeded),
            invocations_failed: Counters::get(&c.invocations_failed),
            invocations_rejected: Counters::get(&c.invocations_rejected),
            shards: Counters::get(&c.shards),
            bytes_in: Counters::get(&c.bytes_in),
            bytes_out: Counters::get(&c.bytes_out),
            bytes_fetched: io.map_or(0, |s| s.bytes_fetched),
            bytes_stored: io.map_or(0, |s| s.bytes_stored),
            registry_records_skipped: Counters::get(&c.records_skipped),
            code_cache_rejected: core.runtime.cache_stats().rejected,
            invocations_cancelled: Counters::get(&c.invocations_cancelled),
            io_forbidden: io.map_or(0, |s| s.forbidden),
            io_task_panics: io.map_or(0, |s| s.panics),
            io_restarts: core
                .io
                .as_ref()
                .and_then(Io::health)
                .map_or(0, |h| h.restarts),
            io: io.unwrap_or_default(),
        }
    }

    /// Counters of the compiled-code cache: modules loaded from it, compiled,
    /// refused (a file not authenticated by the cache key, damaged, or made
    /// for another engine: recompiled, never run) and written. All zero but
    /// `compiled` without a cache.
    pub fn code_cache_stats(&self) -> CacheStats {
        self.inner.core.runtime.cache_stats()
    }

    /// The health of the I/O runtime's threads, or `None` when it was not
    /// started yet (it starts on the first builtin call) or could not start.
    pub fn io_health(&self) -> Option<pappus_io::IoHealth> {
        self.inner.core.io.as_ref().and_then(Io::health)
    }

    /// Why the sandbox runtime refuses every call, if it does (swap turned on
    /// while it resets memories by a dirty-page scan:
    /// [`pappus_isolation::Runtime::refusing_calls`]); `None` while it runs them.
    pub fn sandboxes_refusing(&self) -> Option<&'static str> {
        self.inner.core.runtime.refusing_calls()
    }

    /// Stops admitting invocations (later ones get [`Error::Draining`]) and
    /// waits up to `timeout` for the running and queued ones to answer.
    /// Returns whether they all did.
    pub fn drain(&self, timeout: Duration) -> bool {
        self.inner.core.drain(timeout)
    }
}

/// One tenant's namespace; see [`Engine::tenant`].
#[derive(Clone)]
pub struct Tenant {
    engine: Engine,
    name: String,
}

impl Tenant {
    /// The tenant's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn core(&self) -> &Arc<Core> {
        &self.engine.inner.core
    }

    fn registry(&self) -> &Registry {
        &self.engine.inner.registry
    }

    /// Validates and precompiles `module` (wasm binary or text) and registers
    /// it as function `name` with `limits`, replacing any function of that
    /// name. With a data directory, it is on disk when this returns.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a name that is not an identifier or a bad
    /// tenant name; [`Error::InvalidModule`] if the module is refused (e.g. it
    /// imports something; the reason names it); [`Error::QuotaExceeded`] if
    /// the tenant would hold more functions or module bytes than the engine
    /// allows (checked before compiling); [`Error::Storage`].
    pub fn register_function(&self, name: &str, module: &[u8], limits: Limits) -> Result<()> {
        self.register_function_with(name, module, limits, WasiSettings::default())
    }

    /// [`register_function`](Self::register_function) with the settings of a
    /// WASI function: its `argv` (`argv[0]` included; empty means just the
    /// function's name), its environment and its caps on open and created
    /// files (`docs/wasi.md`). They are persisted with the function; ABI v1
    /// functions ignore them. Nothing of the host's own environment reaches
    /// a function: only what `settings` says.
    ///
    /// # Errors
    /// As [`register_function`](Self::register_function), and
    /// [`Error::InvalidInput`] for settings a program cannot receive: a NUL
    /// byte in an argument or variable, an empty variable name or one holding
    /// `=`, more than 64 KiB of arguments and variables together.
    pub fn register_function_with(
        &self,
        name: &str,
        module: &[u8],
        limits: Limits,
        settings: WasiSettings,
    ) -> Result<()> {
        self.register_function_static(name, module, limits, settings, Vec::new())
    }

    /// [`register_function_with`](Self::register_function_with) with static
    /// sets: read-only data registered once and seen by every call of the
    /// function without being sent or copied per call (`docs/dataplane.md`).
    /// A WASI program sees each set as a read-only directory `/<SET>/` laid
    /// out like an input set; an ABI v1 guest receives each as an extra input
    /// set after the composition's inputs, baked into its module's memory
    /// image (so they count against its memory limit). Compositions never
    /// name static sets.
    ///
    /// Items are stored once per tenant by content (the same bytes attached
    /// to several functions are kept, on disk and in memory, once), counted
    /// against [`EngineBuilder::max_static_bytes_per_tenant`], persisted with
    /// the function, checked against their hash when reloaded, and removed
    /// when no function of the tenant references them. Never shared with
    /// another tenant.
    ///
    /// # Errors
    /// As [`register_function_with`](Self::register_function_with);
    /// [`Error::InvalidInput`] for a set name that is not an identifier (or
    /// is `stdin`, `stdout`, `stderr`), two sets of one name, over 64 sets or
    /// 100,000 items; [`Error::QuotaExceeded`] (`static_bytes`) before
    /// anything is compiled or stored; [`Error::InvalidModule`] when an ABI v1
    /// module cannot hold its sets within its memory limit.
    pub fn register_function_static(
        &self,
        name: &str,
        module: &[u8],
        limits: Limits,
        settings: WasiSettings,
        mut statics: Vec<StaticSet>,
    ) -> Result<()> {
        crate::registry::check_tenant_name(&self.name)?;
        crate::registry::check_function_name(name)?;
        crate::registry::check_wasi_settings(&settings)?;
        crate::registry::statics::validate(name, &statics)?;
        self.registry()
            .check_function_quota(&self.name, name, module.len() as u64)?;
        let hashes = crate::registry::statics::hash_items(&statics);
        self.registry()
            .prepare_static(&self.name, name, &mut statics, &hashes)?;
        let entry = self
            .engine
            .compile(name, module, limits, settings, statics, hashes)?;
        self.registry()
            .insert_function(&self.name, name, entry, true)
    }

    /// Checks composition text and registers every composition it defines;
    /// answers their names in file order.
    ///
    /// Each function a composition applies must be declared in the text and
    /// registered already; compositions may call compositions defined earlier
    /// in the text or registered.
    ///
    /// # Errors
    /// [`Error::Diagnostics`] with every diagnostic if the text has errors;
    /// [`Error::UnknownFunction`] naming a declared function that is not
    /// registered; [`Error::SignatureMismatch`] naming both lists when a
    /// declaration differs from the set names its module embeds;
    /// [`Error::Conflict`] when replacing a composition that others call with
    /// one of another signature; [`Error::QuotaExceeded`] if the tenant would
    /// hold more compositions than the engine allows; [`Error::Storage`].
    ///
    /// Warnings (a module that embeds no set names, so its declaration is not
    /// checked) go to `tracing`; use
    /// [`register_compositions_with_warnings`](Self::register_compositions_with_warnings)
    /// to show them to a user.
    pub fn register_compositions(&self, source: &str) -> Result<Vec<String>> {
        let registration = self.register_compositions_with_warnings(source)?;
        for warning in &registration.warnings {
            tracing::warn!(tenant = %self.name, "{warning}");
        }
        Ok(registration.compositions)
    }

    /// [`register_compositions`](Self::register_compositions), answering the
    /// warnings too.
    ///
    /// # Errors
    /// As [`register_compositions`](Self::register_compositions).
    pub fn register_compositions_with_warnings(&self, source: &str) -> Result<Registration> {
        self.registry()
            .register_compositions(&self.name, source, None, None)
    }

    /// Invokes `composition` with `inputs` (by input set name; a missing set is
    /// empty) and waits for its outputs: every output set of the composition,
    /// empty ones included.
    ///
    /// # Errors
    /// [`Error::UnknownComposition`]; [`Error::InvalidInput`] for an input set
    /// the composition does not have; [`Error::Overloaded`] at once when the
    /// queue is full; [`Error::Draining`]; [`Error::Failure`] naming the
    /// composition, application, shard and cause when a shard fails.
    pub fn invoke(&self, composition: &str, inputs: Sets) -> Result<Invocation> {
        self.admit(composition)?.invoke(inputs, None)
    }

    /// Like [`invoke`](Self::invoke), with the seed and time WASI functions see
    /// given rather than drawn fresh: replays an earlier invocation (its
    /// [`Invocation::wasi`]) bit for bit.
    ///
    /// # Errors
    /// As [`invoke`](Self::invoke).
    pub fn invoke_with(
        &self,
        composition: &str,
        inputs: Sets,
        wasi: WasiContext,
    ) -> Result<Invocation> {
        self.admit(composition)?.invoke(inputs, Some(wasi))
    }

    /// Like [`invoke`](Self::invoke), but answers a future that any executor
    /// can await. Admission happens now: an overloaded engine answers a future
    /// that is ready with [`Error::Overloaded`].
    ///
    /// A shard whose function recently took under 100 µs in its sandbox runs
    /// on the calling thread before this returns (two thread hand-offs would
    /// cost more); the future is then ready at once. Every other shard runs on
    /// the compute threads. So the caller is held for about 100 µs of sandbox
    /// time: a function that has been fast and is suddenly slow is stopped at
    /// the sandbox watchdog's next tick after that budget and run again, with its whole
    /// deadline, on the compute threads (functions are pure), where its next
    /// calls go too.
    pub fn invoke_async(&self, composition: &str, inputs: Sets) -> InvocationFuture {
        self.start(composition, inputs, None)
    }

    /// [`invoke_async`](Self::invoke_async) with the seed and time WASI
    /// functions see given, as [`invoke_with`](Self::invoke_with).
    pub fn invoke_async_with(
        &self,
        composition: &str,
        inputs: Sets,
        wasi: WasiContext,
    ) -> InvocationFuture {
        self.start(composition, inputs, Some(wasi))
    }

    fn start(
        &self,
        composition: &str,
        inputs: Sets,
        wasi: Option<WasiContext>,
    ) -> InvocationFuture {
        match self.admit(composition) {
            Ok(admitted) => admitted.start(inputs, wasi),
            Err(e) => InvocationFuture::failed(e),
        }
    }

    /// Admits an invocation of `composition` before its inputs exist: the
    /// answer holds an execution slot (or a place in the queue) until it is
    /// run with [`Admitted::invoke_async`] or dropped. A server takes it
    /// before reading a request body, so that an overloaded engine refuses
    /// the request without reading what the client sends.
    ///
    /// # Errors
    /// [`Error::UnknownComposition`]; [`Error::Overloaded`] at once when every
    /// execution slot and queue place is taken; [`Error::Draining`].
    pub fn admit(&self, composition: &str) -> Result<Admitted> {
        let resolved = self.registry().resolve(&self.name, composition)?;
        let slot = self.core().admit()?;
        let authority = self.core().authorities.get(&self.name).cloned();
        Ok(Admitted::new(
            self.core().clone(),
            resolved,
            slot,
            authority,
        ))
    }

    /// The tenant's functions, by name.
    pub fn list_functions(&self) -> Vec<FunctionInfo> {
        self.registry().list_functions(&self.name)
    }

    /// The function called `name`, if registered.
    pub fn get_function(&self, name: &str) -> Option<FunctionInfo> {
        self.registry()
            .get_function(&self.name, name)
            .map(|f| crate::registry::function_info(name, &f))
    }

    /// The module registered as function `name`, as it was given.
    pub fn function_module(&self, name: &str) -> Option<Bytes> {
        self.registry()
            .get_function(&self.name, name)
            .map(|f| f.module)
    }

    /// Deletes function `name`.
    ///
    /// # Errors
    /// [`Error::UnknownFunction`]; [`Error::Conflict`] if a composition uses
    /// it; [`Error::Storage`].
    pub fn delete_function(&self, name: &str) -> Result<()> {
        self.registry().delete_function(&self.name, name)
    }

    /// The tenant's compositions, by name.
    pub fn list_compositions(&self) -> Vec<CompositionInfo> {
        self.registry().list_compositions(&self.name)
    }

    /// The composition called `name`, if registered.
    pub fn get_composition(&self, name: &str) -> Option<CompositionInfo> {
        self.registry().get_composition(&self.name, name)
    }

    /// Deletes composition `name`.
    ///
    /// # Errors
    /// [`Error::UnknownComposition`]; [`Error::Conflict`] if another
    /// composition calls it; [`Error::Storage`].
    pub fn delete_composition(&self, name: &str) -> Result<()> {
        self.registry().delete_composition(&self.name, name)
    }
}
