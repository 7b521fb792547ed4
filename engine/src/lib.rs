//! The Pappus engine: a registry of functions and compositions, and the
//! executor that runs compositions end to end.
//!
//! Functions are WebAssembly modules run in a fresh sandbox per call
//! (`pappus-isolation`); compositions are DAGs of applications written in the
//! composition language (`pappus-dsl`); builtins such as `fetch` and `http`
//! run on I/O threads (`pappus-io`). This crate binds them: it keeps a
//! registry per tenant (persisted under a data directory if one is set),
//! shards every application's inputs (`all`, `each`, `keyed`, `by` joins),
//! runs the shards on a pool of compute threads with pipelining between
//! applications, and answers every output set of the composition.
//!
//! It is a library and nothing more: no HTTP server, no command-line parsing,
//! no async runtime. The node daemon (`pappus-daemon`, in `daemon/`) puts an
//! HTTP API, tenants' tokens and Prometheus metrics around an [`Engine`]; the
//! `pappus` command (`pappus-cli`, in `cli/`) is built on both.
//!
//! [`Engine::invoke`] blocks; [`Engine::invoke_async`] returns a future that
//! needs no particular runtime. [`Tenant::admit`] takes the execution slot
//! before the inputs exist (a server admits before reading a body) and answers
//! an [`Admitted`] that runs with them later. A blocking caller spins for up to 50 µs before
//! parking, and while such callers are active one idle compute thread does the
//! same for the next job: a sandbox call takes microseconds, about what a thread
//! wake-up costs, so two wake-ups per call would otherwise double a small call's
//! latency. Engines driven only through futures (the daemon) never spin.
//!
//! Items are `{name, key, data}` ([`Item`]); sets are passed by name
//! ([`Sets`]). Both come from `pappus-model`, the one data model that the
//! sandboxes and the I/O runtime share, so no item is converted on its way
//! through the engine. Their JSON form is in [`json`].
//!
//! ```no_run
//! use pappus_engine::{Engine, Item, Limits, Sets};
//!
//! let engine = Engine::builder().build()?;
//! let wasm = std::fs::read("examples/functions/wasm/upper.wasm").expect("built by build.sh");
//! engine.register_function("upper", &wasm, Limits::default())?;
//! engine.register_compositions(
//!     "function upper (in) => (out);
//!      composition Shout (Text) => (Loud) {
//!          upper (in = each Text) => (Loud = out);
//!      }",
//! )?;
//! let mut inputs = Sets::new();
//! inputs.insert("Text".into(), vec![Item::new("greeting", 0, "hello")]);
//! let answer = engine.invoke("Shout", inputs)?;
//! assert_eq!(&answer.outputs["Loud"][0].data[..], b"HELLO");
//! # Ok::<(), pappus_engine::Error>(())
//! ```
//!
//! See `examples/embed.rs` for a complete, commented program.
//!
//! # Semantics
//!
//! - An application runs once per shard: `all` gives one shard, `each` one per
//!   item, `keyed` one per distinct key. Several inputs combine by cross
//!   product, except inputs joined with `by`, which form one dimension whose
//!   rows follow the joins left to right (`inner`, `left`, `right`, `outer`,
//!   `cross`; after `cross` a row keeps the left side's key).
//! - A non-optional input that is empty means the application does not run and
//!   its outputs are empty (and so on downstream). An `optional` empty input
//!   gives one shard with that input empty (for `all`, `each`, `keyed` and the
//!   right side of a `cross` join); on the other join sides it simply has no
//!   keys.
//! - An output set is the union of what its application's shards wrote; an
//!   `each` consumer's shard starts as soon as its item is written
//!   (pipelining); `all` and `keyed` consumers wait for the whole set.
//! - A nested composition runs like a function: once per shard, with the
//!   shard's inputs as its input sets.
//! - The first failing shard fails the invocation with [`Error::Failure`]
//!   (composition, application, shard, cause); the other sandboxes still
//!   running are cancelled, nothing further starts, and the answer comes once
//!   no sandbox of the invocation is running.
//! - Registration: a composition's functions must be registered before it
//!   ([`Error::UnknownFunction`] otherwise), and a function or composition in
//!   use cannot be deleted ([`Error::Conflict`]).
//! - Wiring: a `function` declaration must name the sets its module embeds
//!   (the SDK's `entry!` with names; [`Error::SignatureMismatch`] otherwise);
//!   a module without them is accepted with a warning
//!   ([`Tenant::register_compositions_with_warnings`]). At run time, a shard
//!   whose function writes an output set its declaration does not have fails
//!   (failure kind `undeclared_output`), naming the set and the declared ones.
//!
//! # Timings and events
//!
//! Every [`Invocation`] carries [`Timings`]; [`Engine::metrics`] gives
//! counters and gauges; [`EngineBuilder::on_event`] receives a trace event at
//! every shard start and finish.

mod admitted;
mod config;
mod engine;
mod error;
mod executor;
mod future;
pub mod json;
mod metrics;
mod oneshot;
mod registry;
mod spin;
mod wiring;

pub use admitted::Admitted;
pub use config::{
    EngineConfig, IoSettings, DEFAULT_IO_MAX_OBJECT_MIB, DEFAULT_IO_RETRIES, DEFAULT_IO_THREADS,
    DEFAULT_IO_TIMEOUT_MS, DEFAULT_MAX_IN_FLIGHT, DEFAULT_QUEUE_BOUND, DEFAULT_S3_REGION,
};
pub use engine::{Engine, EngineBuilder, Tenant, DEFAULT_MAX_NESTING_DEPTH, DEFAULT_TENANT};
pub use error::{DiagnosticInfo, Error, Refusal, Result};
pub use future::InvocationFuture;
pub use metrics::{Event, EventHook, EventKind, MetricsSnapshot, Timings};
pub use pappus_isolation::Signature as ModuleSignature;
pub use pappus_isolation::{CacheStats, Limits, StaticSet, WasiContext, WasiSettings};
pub use pappus_model::{Bytes, Item, Sets};
pub use registry::quota::{
    DEFAULT_MAX_COMPOSITIONS_PER_TENANT, DEFAULT_MAX_FUNCTIONS_PER_TENANT,
    DEFAULT_MAX_MODULE_BYTES_PER_TENANT, DEFAULT_MAX_STATIC_BYTES_PER_TENANT,
};
pub use registry::{CompositionInfo, FunctionInfo, Registration, StaticSetInfo};
pub use wiring::{check_declaration, module_is_wasi, module_signature};

/// The answer of a successful invocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invocation {
    /// Every output set of the composition, empty ones included.
    pub outputs: Sets,
    /// Where the time went.
    pub timings: Timings,
    /// The seed and time WASI functions saw (each shard's seed is derived from
    /// this one, see `docs/wasi.md`): give it back to replay the invocation.
    pub wasi: WasiContext,
}
