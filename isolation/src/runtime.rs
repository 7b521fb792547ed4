//! The runtime: compiling functions and running them in fresh sandboxes.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use wasmtime::{
    Enabled, Engine, Extern, ExternType, InstanceAllocationStrategy, InstancePre, Linker, Module,
    ModuleExport, OptLevel, PoolingAllocationConfig, ValType,
};

use crate::abi::{self, OutputError};
use crate::cache::{CacheStats, Counters, DiskCache};
use crate::call_state::{classify, new_store, CallState, HasCallState, TABLE_ELEMENTS};
use crate::input_area::{self, InputArea};
use crate::interrupt::{self, CodeMap, Watchdog};
use crate::signature::{self, Signature};
use crate::static_sets::{self, BakedSet, StaticSet};
use crate::swap::{self, SwapWatch};
use crate::wasi::{self, WasiState};
use crate::{
    CallOptions, CancelToken, Config, Error, InputSet, Limits, OutputSet, Result, WasiSettings,
};

/// Compiles and runs guest functions.
///
/// A `Runtime` owns a wasmtime engine with a pooling instance allocator, a
/// watchdog thread that stops overdue and cancelled calls, and the optional on-disk
/// compiled-code cache. It is cheap to clone (an [`Arc`] inside) and may be used from
/// many threads at once.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    linker: Linker<CallState>,
    wasi_linker: Linker<WasiState>,
    max_memory_bytes: u64,
    cache: Option<DiskCache>,
    counters: Counters,
    watchdog: Watchdog,
    /// Set when recycled memories are reset by a dirty-page scan, which is
    /// only sound without swap (`crate::swap`): calls are refused once swap
    /// appears.
    swap_watch: Option<SwapWatch>,
}

/// A validated, compiled function, ready to run with [`Runtime::run`].
///
/// Cheap to clone (an [`Arc`] inside).
#[derive(Clone)]
pub struct Function {
    inner: Arc<FunctionInner>,
}

struct FunctionInner {
    name: String,
    limits: Limits,
    engine: Engine,
    kind: Kind,
    signature: Option<Signature>,
    /// Where the compiled wasm lies, for stopping a call.
    code: CodeMap,
    /// The static sets registered with the function: read-only directories of
    /// a WASI program (ABI v1 functions have them baked into their module).
    statics: Arc<[StaticSet]>,
    /// [`Function::static_digest`].
    static_digest: [u8; 32],
}

/// The two kinds of function: ABI v1 (no imports) and WASI preview 1.
enum Kind {
    Abi {
        pre: InstancePre<CallState>,
        entry: ModuleExport,
        memory: ModuleExport,
        /// Where small calls' inputs go without growing the memory.
        area: Option<InputArea>,
        /// The static sets baked into the module: their set descriptors.
        baked: Vec<BakedSet>,
    },
    Wasi(wasi::Program),
}

impl Function {
    /// The function's name, as given to [`Runtime::compile`].
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The limits the function was compiled with.
    pub fn limits(&self) -> Limits {
        self.inner.limits
    }

    /// Whether the function is a WASI program (it imports `wasi_snapshot_preview1`
    /// functions) rather than an ABI v1 guest. WASI calls use the seed and time of
    /// [`CallOptions::context`]; report them for replay.
    pub fn is_wasi(&self) -> bool {
        matches!(self.inner.kind, Kind::Wasi(_))
    }

    /// The input and output set names the module embeds (the SDK's `entry!`
    /// with names writes them; `docs/abi.md`, "Signature"), or `None` for a
    /// module without them.
    pub fn signature(&self) -> Option<&Signature> {
        self.inner.signature.as_ref()
    }

    /// The static sets the function was compiled with
    /// ([`Runtime::compile_static`]); empty for most functions.
    pub fn static_sets(&self) -> &[StaticSet] {
        &self.inner.statics
    }

    /// A SHA-256 digest of the function's static sets (their names, and their
    /// items' names, keys and bytes, in order), computed once at compile time:
    /// what a cache of the function's results must include in its key, since
    /// two registrations of one module with different static sets compute
    /// different things. Functions without static sets share one digest.
    pub fn static_digest(&self) -> [u8; 32] {
        self.inner.static_digest
    }
}

impl fmt::Debug for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Function")
            .field("name", &self.inner.name)
            .field("limits", &self.inner.limits)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("max_memory_bytes", &self.inner.max_memory_bytes)
            .field("cache", &self.inner.cache.is_some())
            .finish_non_exhaustive()
    }
}

/// WASI's store data carries its call's state beside the program's.
impl HasCallState for WasiState {
    fn call_state_mut(&mut self) -> &mut CallState {
        &mut self.call
    }
}

impl Runtime {
    /// Builds a runtime: the engine, the instance pool, the watchdog and (if
    /// configured) the cache directory.
    ///
    /// # Errors
    /// [`Error::Config`] for an unusable configuration (pool size 0, a memory maximum
    /// of 0 or above 4 GiB, a zero tick, a cache directory without a cache key,
    /// or wasmtime refusing it), [`Error::Cache`]
    /// if the cache directory cannot be created.
    pub fn new(config: &Config) -> Result<Runtime> {
        Runtime::with_swap_probe(config, swap::host_has_swap)
    }

    /// [`Runtime::new`], asking `has_swap` whether the host has swap (at start,
    /// and then at most once a second when resetting by scan).
    fn with_swap_probe(config: &Config, has_swap: fn() -> bool) -> Result<Runtime> {
        let bad = |reason: String| Error::Config { reason };
        if config.pool_size == 0 {
            return Err(bad("pool_size must be at least 1".into()));
        }
        if config.max_memory_bytes == 0 || config.max_memory_bytes > 4 << 30 {
            return Err(bad(format!(
                "max_memory_bytes must be between 1 and 4 GiB, not {}",
                config.max_memory_bytes
            )));
        }
        if config.watch_tick.is_zero() {
            return Err(bad("watch_tick must not be zero".into()));
        }
        // Prefer resetting only the dirty pages of a recycled memory with `memset`
        // (found with Linux's PAGEMAP_SCAN, 6.7+): the next call then takes no page
        // faults. That scan misses swapped-out pages (`crate::swap`), so it is
        // only used on a host without swap; otherwise, or without PAGEMAP_SCAN,
        // fall back to wasmtime's default `madvise`.
        let by_scan = if has_swap() {
            None
        } else {
            build_engine(config, true).ok()
        };
        let swap_watch = by_scan.is_some().then(|| SwapWatch::new(has_swap));
        let engine = match by_scan {
            Some(engine) => engine,
            None => build_engine(config, false).map_err(|e| bad(format!("{e:#}")))?,
        };
        let cache = match &config.cache_dir {
            Some(dir) => {
                let key = config.cache_key.clone().ok_or_else(|| {
                    bad("a cache directory needs a cache key (Config::cache_key)".into())
                })?;
                Some(DiskCache::open(dir, key, &engine)?)
            }
            None => None,
        };
        let watchdog = Watchdog::start(config.watch_tick)
            .map_err(|e| bad(format!("cannot start the watchdog: {e}")))?;
        let mut wasi_linker = Linker::new(&engine);
        wasi::add_to_linker(&mut wasi_linker)
            .map_err(|e| bad(format!("cannot define the WASI functions: {e:#}")))?;
        Ok(Runtime {
            inner: Arc::new(Inner {
                linker: Linker::new(&engine),
                wasi_linker,
                engine,
                max_memory_bytes: config.max_memory_bytes,
                cache,
                counters: Counters::default(),
                watchdog,
                swap_watch,
            }),
        })
    }

    /// Validates and compiles a module (binary WebAssembly or `.wat` text).
    ///
    /// The module must import nothing, export `memory` (32-bit, not shared, 64 KiB
    /// pages, declared minimum and maximum within `limits.memory_bytes`) and the
    /// entry `pappus_entry: (i32) -> i32` (see `docs/abi.md`). With a cache directory
    /// configured, compiled code is loaded from it when present and stored into it
    /// otherwise.
    ///
    /// # Errors
    /// [`Error::InvalidModule`] naming the reason (the first import, the missing
    /// export, a malformed `pappus.signature` section...), [`Error::Config`] if `limits.memory_bytes` exceeds
    /// [`Config::max_memory_bytes`], [`Error::Cache`] if the cache cannot be written.
    pub fn compile(&self, name: &str, module: &[u8], limits: Limits) -> Result<Function> {
        self.compile_with(name, module, limits, &WasiSettings::default())
    }

    /// [`Runtime::compile`] with the settings of a WASI function (`argv`, the
    /// environment, caps on open and created files); ABI v1 functions ignore them.
    ///
    /// A module that imports anything must be a WASI program: every import a
    /// `wasi_snapshot_preview1` function this host provides, an exported `memory`
    /// (as for ABI v1) and an exported `_start: () -> ()`.
    ///
    /// # Errors
    /// As [`Runtime::compile`]; [`Error::InvalidModule`] names the first import
    /// refused (another module, or a WASI function not provided).
    pub fn compile_with(
        &self,
        name: &str,
        module: &[u8],
        limits: Limits,
        settings: &WasiSettings,
    ) -> Result<Function> {
        self.compile_static(name, module, limits, settings, Vec::new())
    }

    /// [`Runtime::compile_with`] for a function registered with static sets:
    /// read-only items every call sees, with no per-call copy of them
    /// (`docs/dataplane.md`). A WASI program sees each as a read-only directory
    /// `/<name>/` laid out like an input set, served from the items' shared
    /// bytes. An ABI v1 guest receives each as an extra input set after the
    /// call's inputs, in this order: the sets are baked into a variant of the
    /// module as data segments above its declared initial memory (which then
    /// counts against `limits.memory_bytes`), mapped copy-on-write into each
    /// instance from wasmtime's memory image; that variant is what is
    /// compiled and cached.
    ///
    /// # Errors
    /// As [`Runtime::compile_with`]; [`Error::InvalidModule`] when two static
    /// sets share a name, or an ABI v1 module cannot hold its static sets (they
    /// do not fit in the memory limit or the declared maximum, or a data
    /// segment of the module is not at a constant offset within its declared
    /// initial memory).
    pub fn compile_static(
        &self,
        name: &str,
        module: &[u8],
        limits: Limits,
        settings: &WasiSettings,
        statics: Vec<StaticSet>,
    ) -> Result<Function> {
        let inner = &*self.inner;
        if limits.memory_bytes > inner.max_memory_bytes {
            return Err(Error::Config {
                reason: format!(
                    "function `{name}`: memory limit of {} bytes exceeds the runtime maximum of {} bytes (Config::max_memory_bytes)",
                    limits.memory_bytes, inner.max_memory_bytes
                ),
            });
        }
        let invalid = |reason: String| Error::InvalidModule {
            function: name.to_owned(),
            reason,
        };
        // Text becomes binary here rather than in wasmtime, so that the input
        // area can be added to it; the cache is keyed by the bytes compiled.
        let binary = wat::parse_bytes(module).map_err(|e| invalid(format!("{e:#}")))?;
        let stoppable = interrupt::rewrite::rewrite(&binary).map_err(invalid)?;
        for (i, set) in statics.iter().enumerate() {
            if statics[..i].iter().any(|s| s.name == set.name) {
                return Err(invalid(format!("two static sets are named `{}`", set.name)));
            }
        }
        // ABI v1 modules with static sets get them baked in; a WASI program
        // (it imports its functions) reads them from the host's copy.
        let bakes = !statics.is_empty() && !imports_anything(&stoppable);
        let (stoppable, baked) = if bakes {
            let baked =
                static_sets::bake(&stoppable, &statics, limits.memory_bytes).map_err(invalid)?;
            (baked.bytes, baked.sets)
        } else {
            (stoppable, Vec::new())
        };
        let prepared = input_area::reserve(&stoppable, limits.memory_bytes);
        let cached = inner.cache.as_ref().map(|cache| {
            let slot = cache.slot_for(&prepared.bytes);
            let hit = cache.load(&slot, &inner.engine, &inner.counters);
            (cache, slot, hit)
        });
        let (compiled, store_to) = match cached {
            Some((_, _, Some(hit))) => (hit, None),
            other => {
                let compiled = Module::new(&inner.engine, &prepared.bytes)
                    .map_err(|e| invalid(format!("{e:#}")))?;
                inner.counters.compiled();
                (compiled, other.map(|(cache, slot, _)| (cache, slot)))
            }
        };
        let is_wasi = wasi::check_imports(&compiled).map_err(invalid)?;
        let kind = if is_wasi {
            validate_memory(&compiled, limits).map_err(invalid)?;
            let start = validate_start(&compiled).map_err(invalid)?;
            let pre = inner
                .wasi_linker
                .instantiate_pre(&compiled)
                .map_err(|e| invalid(format!("{e:#}")))?;
            Kind::Wasi(wasi::Program::new(name, pre, start, settings.clone()))
        } else {
            let (entry, memory) = validate(&compiled, limits).map_err(invalid)?;
            let pre = inner
                .linker
                .instantiate_pre(&compiled)
                .map_err(|e| invalid(format!("{e:#}")))?;
            Kind::Abi {
                pre,
                entry,
                memory,
                area: prepared.area,
                baked,
            }
        };
        let signature = signature::read(module).map_err(invalid)?;
        let code = CodeMap::of(&compiled).map_err(invalid)?;
        if let Some((cache, slot)) = store_to {
            cache.store(&slot, &compiled, &inner.counters)?;
        }
        Ok(Function {
            inner: Arc::new(FunctionInner {
                name: name.to_owned(),
                limits,
                engine: inner.engine.clone(),
                kind,
                signature,
                code,
                static_digest: static_sets::digest(&statics),
                statics: statics.into(),
            }),
        })
    }

    /// Runs `function` once in a fresh sandbox: instantiates it from the pool,
    /// places `inputs` in its linear memory (ABI v1), calls the entry, reads the
    /// outputs back (every field bounds-checked) and returns the instance to the
    /// pool, whose memory is zeroed before reuse.
    ///
    /// `cancel`, if given, stops the call at the watchdog's next tick after it is
    /// cancelled.
    ///
    /// # Errors
    /// Every failure names the function: [`Error::Trap`] ([`Error::Panic`] when
    /// the guest left a panic message before trapping), [`Error::Timeout`],
    /// [`Error::MemoryLimit`] (the guest's growth was refused and it trapped, or the
    /// inputs do not fit), [`Error::OutputTooLarge`], [`Error::AbiViolation`],
    /// [`Error::GuestError`], [`Error::Cancelled`], [`Error::Resources`] (pool
    /// exhausted), [`Error::Config`] if `function` was compiled by another runtime.
    pub fn run(
        &self,
        function: &Function,
        inputs: &[InputSet<'_>],
        cancel: Option<&CancelToken>,
    ) -> Result<Vec<OutputSet>> {
        self.dispatch(function, inputs, None, cancel, None)
    }

    /// [`Runtime::call`] (or [`Runtime::run`] when `options` is `None`) that
    /// the caller gives up on at `cutoff`: a call still running then is stopped
    /// at the watchdog's next tick and fails with [`Error::Cutoff`]; one that ends
    /// before is as if run without it. The function's own deadline still
    /// applies when it comes first.
    ///
    /// For running a call on a thread that must not be held long (one that
    /// serves other requests too), and running it again elsewhere, with its
    /// whole deadline, if it is cut off: the functions are pure, so a second
    /// run computes what the first would have.
    pub fn run_until(
        &self,
        function: &Function,
        inputs: &[InputSet<'_>],
        options: Option<&CallOptions<'_>>,
        cancel: Option<&CancelToken>,
        cutoff: Instant,
    ) -> Result<Vec<OutputSet>> {
        self.dispatch(function, inputs, options, cancel, Some(cutoff))
    }

    /// Runs `function` once, whichever its kind: ABI v1 functions as
    /// [`Runtime::run`] (ignoring `options`), WASI functions over a fresh
    /// in-memory file system built from `inputs`, with one writable directory or
    /// stdio capture per name in [`CallOptions::outputs`], answering those sets in
    /// that order (`docs/wasi.md`).
    ///
    /// # Errors
    /// As [`Runtime::run`], plus for WASI functions [`Error::Exit`] (non-zero exit
    /// status, with the stderr tail) and [`Error::Config`] when two sets map to the
    /// same directory. A trap carries the stderr tail.
    pub fn call(
        &self,
        function: &Function,
        inputs: &[InputSet<'_>],
        options: &CallOptions<'_>,
        cancel: Option<&CancelToken>,
    ) -> Result<Vec<OutputSet>> {
        self.dispatch(function, inputs, Some(options), cancel, None)
    }

    /// Runs either kind; `options` is only read for WASI functions (and drawn
    /// fresh when absent), so the ABI v1 path pays nothing for it.
    fn dispatch(
        &self,
        function: &Function,
        inputs: &[InputSet<'_>],
        options: Option<&CallOptions<'_>>,
        cancel: Option<&CancelToken>,
        cutoff: Option<Instant>,
    ) -> Result<Vec<OutputSet>> {
        let f = &*function.inner;
        let name = || f.name.clone();
        if !Engine::same(&f.engine, &self.inner.engine) {
            return Err(Error::Config {
                reason: format!("function `{}` was compiled by another runtime", f.name),
            });
        }
        if cancel.is_some_and(CancelToken::is_cancelled) {
            return Err(Error::Cancelled { function: name() });
        }
        // One clock read for both the swap check and the call's deadline.
        let started = Instant::now();
        if let Some(reason) = self.refusing_calls_at(started) {
            return Err(Error::Config {
                reason: reason.into(),
            });
        }
        let (pre, entry, memory, area, baked) = match &f.kind {
            Kind::Abi {
                pre,
                entry,
                memory,
                area,
                baked,
            } => (pre, entry, memory, area, baked),
            Kind::Wasi(program) => {
                let fresh;
                let options = match options {
                    Some(options) => options,
                    None => {
                        fresh = CallOptions::default();
                        &fresh
                    }
                };
                // Static sets follow the inputs as read-only directories; their
                // files share the sets' bytes.
                let with_statics: Vec<InputSet<'_>>;
                let inputs = if f.statics.is_empty() {
                    inputs
                } else {
                    with_statics = inputs
                        .iter()
                        .copied()
                        .chain(f.statics.iter().map(|s| InputSet {
                            name: &s.name,
                            items: &s.items,
                        }))
                        .collect();
                    &with_statics
                };
                return wasi::call(
                    &self.inner.engine,
                    &self.inner.watchdog,
                    &f.code,
                    &f.name,
                    &f.limits,
                    program,
                    inputs,
                    options,
                    CallState::new(&f.limits, cancel, cutoff, started),
                );
            }
        };
        let memory_limit = || Error::MemoryLimit {
            function: name(),
            limit_bytes: f.limits.memory_bytes,
        };
        let Some(region_len) = abi::region_len(inputs, baked.len()) else {
            return Err(memory_limit());
        };

        let mut store = new_store(
            &self.inner.engine,
            CallState::new(&f.limits, cancel, cutoff, started),
        );
        // Watched from instantiation on: a start function runs guest code too.
        let armed = store.data().watch(&self.inner.watchdog, &f.code);

        let instance = match pre.instantiate(&mut store) {
            Ok(instance) => instance,
            Err(e) => {
                let stopped = armed.finish();
                return Err(classify(&f.name, &f.limits, e, store.data(), stopped));
            }
        };
        let (Some(Extern::Memory(memory)), Some(Extern::Func(entry))) = (
            instance.get_module_export(&mut store, memory),
            instance.get_module_export(&mut store, entry),
        ) else {
            return Err(Error::AbiViolation {
                function: name(),
                detail: "the instance lacks its `memory` or `pappus_entry` export".into(),
            });
        };
        let entry = entry
            .typed::<u32, u32>(&store)
            .map_err(|e| Error::AbiViolation {
                function: name(),
                detail: format!("entry has the wrong type: {e:#}"),
            })?;

        let size = memory.data_size(&store) as u64;
        let (base, grow) = placement(*area, size, region_len);
        if base + region_len > u64::from(u32::MAX) + 1
            || (grow > 0 && memory.grow(&mut store, grow).is_err())
        {
            return Err(memory_limit());
        }
        let Some(region) = memory
            .data_mut(&mut store)
            .get_mut(base as usize..(base + region_len) as usize)
        else {
            return Err(memory_limit());
        };
        abi::write_inputs(region, base as u32, inputs, baked);

        let called = entry.call(&mut store, base as u32);
        let stopped = armed.finish();
        let status = match called {
            Ok(status) => status,
            Err(e) => {
                let error = classify(&f.name, &f.limits, e, store.data(), stopped);
                return Err(with_panic_message(
                    error,
                    memory.data(&store),
                    base as usize,
                ));
            }
        };
        abi::read_outputs(
            memory.data(&store),
            base as usize,
            status,
            f.limits.max_output_bytes,
        )
        .map_err(|e| match e {
            OutputError::Abi(detail) => Error::AbiViolation {
                function: name(),
                detail,
            },
            OutputError::Guest { status, message } => Error::GuestError {
                function: name(),
                status,
                message,
            },
            OutputError::TooLarge { actual } => Error::OutputTooLarge {
                function: name(),
                limit_bytes: f.limits.max_output_bytes,
                actual_bytes: actual,
            },
        })
    }

    /// Counters of the compiled-code cache (all zero but `compiled` without one).
    pub fn cache_stats(&self) -> CacheStats {
        self.inner.counters.snapshot()
    }

    /// Why this runtime refuses every call, if it does: swap was turned on
    /// after it started while it resets memories by a dirty-page scan that
    /// misses swapped-out pages (`isolation/README.md`, "Resetting recycled
    /// memories"). `None` while it runs calls. Looks at the host at most once
    /// a second, so a health probe notices without a call.
    pub fn refusing_calls(&self) -> Option<&'static str> {
        self.refusing_calls_at(Instant::now())
    }

    /// [`Runtime::refusing_calls`], looking at the host as of `now`.
    fn refusing_calls_at(&self, now: Instant) -> Option<&'static str> {
        let watch = self.inner.swap_watch.as_ref()?;
        watch.swap_seen(now).then_some(
            "swap was turned on after the runtime started, and its memories are reset by a \
             dirty-page scan that misses swapped-out pages: restart it (it then resets them \
             with madvise)",
        )
    }
}

/// Where the input region of `region_len` bytes goes in a memory of `size`
/// bytes, and by how many pages the memory must grow first.
///
/// At the start of the input area when the memory is still a fresh instance's
/// (its initial memory and the area): the region needs no growth if it fits in
/// the area, else only the pages beyond the area, so it stays in one piece.
/// Otherwise (no area) in fresh pages above everything the guest has.
fn placement(area: Option<InputArea>, size: u64, region_len: u64) -> (u64, u64) {
    let pages = region_len.div_ceil(abi::PAGE);
    match area {
        Some(area) if area.end() == size => (area.base, pages.saturating_sub(area.len / abi::PAGE)),
        _ => (size, pages),
    }
}

/// A trap becomes [`Error::Panic`] when the guest left a message for it in its
/// output slot (the SDK's panic handler does); other errors pass unchanged.
fn with_panic_message(error: Error, mem: &[u8], base: usize) -> Error {
    match error {
        Error::Trap {
            function,
            trap,
            stderr,
        } => match abi::trap_message(mem, base) {
            Some(message) => Error::Panic {
                function,
                message,
                trap,
            },
            None => Error::Trap {
                function,
                trap,
                stderr,
            },
        },
        other => other,
    }
}

/// Bytes of a recycled linear memory reset with `memset` (dirty pages only) rather
/// than `madvise`, when PAGEMAP_SCAN is available. Large enough for a call that
/// places a MiB of input and allocates as much again: those pages stay mapped, so
/// the next call in the slot takes no page faults on them (compress over 1 MiB:
/// 2.4-2.5 ms against 2.9-3.0 ms with 1 MiB). Only pages a call touched stay
/// resident, so the cost is at most this much per pool slot that ran such a call.
const KEEP_RESIDENT: usize = 8 << 20;

/// A 32-bit linear memory's whole address space: the reservation per memory slot.
const FOUR_GIB: u64 = 1 << 32;
/// Unmapped bytes after each slot, which a static offset on an access can reach.
const GUARD_BYTES: u64 = 32 << 20;

fn build_engine(config: &Config, pagemap_scan: bool) -> wasmtime::Result<Engine> {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_core_instances(config.pool_size)
        .total_memories(config.pool_size)
        .total_tables(config.pool_size)
        .max_memories_per_module(1)
        .max_tables_per_module(1)
        .table_elements(TABLE_ELEMENTS)
        .max_memory_size(config.max_memory_bytes as usize);
    if pagemap_scan {
        pool.pagemap_scan(Enabled::Yes)
            .linear_memory_keep_resident(KEEP_RESIDENT)
            .table_keep_resident(TABLE_ELEMENTS * 8);
    }
    let mut wasm = wasmtime::Config::new();
    // Every 32-bit memory gets a 4 GiB reservation plus a guard region, so no
    // address a guest can form (index + static offset) leaves the slot: compiled
    // loads and stores carry no explicit bounds checks, out-of-bounds accesses
    // fault on unmapped pages and become traps. These are wasmtime's 64-bit
    // defaults; they are stated here because compute speed depends on them.
    wasm.memory_reservation(FOUR_GIB)
        .memory_guard_size(GUARD_BYTES)
        .signals_based_traps(true);
    // No epoch interruption: deadlines are enforced by the watchdog's signal
    // (`crate::interrupt`), so compiled loops carry no checks.
    // Constant data segments become one memory image per module, mapped
    // copy-on-write into each instance: static sets baked into an ABI v1
    // module (`crate::static_sets`) cost a call the pages it touches, not a
    // copy. wasmtime's default, stated because static sets depend on it.
    wasm.memory_init_cow(true);
    wasm.cranelift_opt_level(OptLevel::Speed)
        .wasm_backtrace_max_frames(None)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&wasm)
}

/// Whether a binary module has an import (a WASI program does; ABI v1 modules
/// do not, and are refused later if they do).
fn imports_anything(module: &[u8]) -> bool {
    wasmparser::Parser::new(0)
        .parse_all(module)
        .any(|p| matches!(p, Ok(wasmparser::Payload::ImportSection(i)) if i.count() > 0))
}

/// Checks the module against ABI v1 and `limits`; returns the entry and memory exports.
fn validate(
    module: &Module,
    limits: Limits,
) -> std::result::Result<(ModuleExport, ModuleExport), String> {
    if let Some(import) = module.imports().next() {
        return Err(format!(
            "imports `{}`.`{}` ({}); guest modules must import nothing",
            import.module(),
            import.name(),
            extern_kind(&import.ty())
        ));
    }
    validate_memory(module, limits)?;
    validate_entry(module)
}

/// Checks the `memory` export (both kinds): 32-bit, unshared, within `limits`.
fn validate_memory(module: &Module, limits: Limits) -> std::result::Result<(), String> {
    let memory = match module.get_export(abi::MEMORY) {
        Some(ExternType::Memory(m)) => m,
        Some(other) => {
            return Err(format!(
                "export `memory` is a {}, not a memory",
                extern_kind(&other)
            ))
        }
        None => return Err("does not export its linear memory as `memory`".into()),
    };
    if memory.is_64() || memory.is_shared() || memory.page_size() != abi::PAGE {
        return Err("`memory` must be a 32-bit, unshared memory with 64 KiB pages".into());
    }
    let min = memory.minimum().saturating_mul(abi::PAGE);
    if min > limits.memory_bytes {
        return Err(format!(
            "declares an initial memory of {min} bytes, over the limit of {} bytes",
            limits.memory_bytes
        ));
    }
    if let Some(max) = memory.maximum() {
        let max = max.saturating_mul(abi::PAGE);
        if max > limits.memory_bytes {
            return Err(format!(
                "declares a maximum memory of {max} bytes, over the limit of {} bytes",
                limits.memory_bytes
            ));
        }
    }
    Ok(())
}

/// Checks ABI v1's entry; returns the entry and memory exports.
fn validate_entry(module: &Module) -> std::result::Result<(ModuleExport, ModuleExport), String> {
    match module.get_export(abi::ENTRY) {
        Some(ExternType::Func(f))
            if f.params().len() == 1
                && f.results().len() == 1
                && f.params().all(|t| matches!(t, ValType::I32))
                && f.results().all(|t| matches!(t, ValType::I32)) => {}
        Some(_) => return Err("export `pappus_entry` must be a function (i32) -> i32".into()),
        None => return Err("does not export the entry `pappus_entry`".into()),
    }
    match (
        module.get_export_index(abi::ENTRY),
        module.get_export_index(abi::MEMORY),
    ) {
        (Some(entry), Some(memory)) => Ok((entry, memory)),
        _ => Err("exports `memory` and `pappus_entry` cannot be resolved".into()),
    }
}

/// Checks a WASI program's `_start: () -> ()`; returns its export.
fn validate_start(module: &Module) -> std::result::Result<ModuleExport, String> {
    match module.get_export(wasi::START) {
        Some(ExternType::Func(f)) if f.params().len() == 0 && f.results().len() == 0 => {}
        Some(_) => return Err("export `_start` must be a function () -> ()".into()),
        None => return Err(
            "imports WASI functions but does not export `_start` (build a command, not a library)"
                .into(),
        ),
    }
    module
        .get_export_index(wasi::START)
        .ok_or_else(|| "export `_start` cannot be resolved".into())
}

fn extern_kind(ty: &ExternType) -> &'static str {
    match ty {
        ExternType::Func(_) => "function",
        ExternType::Global(_) => "global",
        ExternType::Table(_) => "table",
        ExternType::Memory(_) => "memory",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    /// A module that reports no outputs.
    const NOOP: &[u8] = br#"(module (memory (export "memory") 1)
        (func (export "pappus_entry") (param i32) (result i32) i32.const 0))"#;

    static SWAP_APPEARS: AtomicBool = AtomicBool::new(false);

    fn swap_appears() -> bool {
        SWAP_APPEARS.load(Ordering::SeqCst)
    }

    fn swap_from_the_start() -> bool {
        true
    }

    #[test]
    fn a_runtime_resetting_by_scan_refuses_calls_once_swap_appears() {
        let runtime = Runtime::with_swap_probe(&Config::default(), swap_appears).expect("runtime");
        let noop = runtime
            .compile("noop", NOOP, Limits::default())
            .expect("compiles");
        if runtime.inner.swap_watch.is_none() {
            // No PAGEMAP_SCAN on this kernel: memories are reset with
            // madvise, which swap does not defeat; nothing to refuse.
            return;
        }
        runtime.run(&noop, &[], None).expect("runs before swap");
        SWAP_APPEARS.store(true, Ordering::SeqCst);
        // The watch looked with the call above; its next look is due a
        // second later, which this asks for without waiting.
        let watch = runtime.inner.swap_watch.as_ref().expect("resets by scan");
        assert!(watch.swap_seen(Instant::now() + swap::CHECK_EVERY));
        let reason = runtime.refusing_calls().expect("refusing");
        assert!(reason.contains("swap"), "{reason}");
        match runtime.run(&noop, &[], None) {
            Err(Error::Config { reason }) => assert!(reason.contains("swap"), "{reason}"),
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }

    #[test]
    fn a_runtime_started_with_swap_resets_with_madvise_and_keeps_running() {
        let runtime =
            Runtime::with_swap_probe(&Config::default(), swap_from_the_start).expect("runtime");
        assert!(
            runtime.inner.swap_watch.is_none(),
            "no dirty-page scan with swap"
        );
        let noop = runtime
            .compile("noop", NOOP, Limits::default())
            .expect("compiles");
        for _ in 0..3 {
            runtime.run(&noop, &[], None).expect("runs");
        }
        assert!(runtime.refusing_calls().is_none());
    }
}
