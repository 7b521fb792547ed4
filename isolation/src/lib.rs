//! Sandboxes for Pappus compute functions.
//!
//! `pappus-isolation` validates and precompiles guest WebAssembly modules (wasmtime
//! with cranelift, a compiled-code cache on disk) and runs each call in a **fresh
//! instance** from wasmtime's pooling allocator: the inputs are written into the
//! instance's linear memory before its entry runs, the outputs are read back and
//! bounds-checked after, and the instance's memory goes back to the pool zeroed. No
//! state survives between calls. Guests import nothing: they cannot make system
//! calls, so all I/O is left to other crates (`pappus-io`, driven by the engine).
//!
//! The guest side of the contract is ABI v1, specified in `docs/abi.md` and
//! implemented for guest authors by the `pappus-guest` crate and `pappus.h`.
//!
//! Per-function [`Limits`] bound linear memory, wall-clock time (a watchdog
//! thread per [`Runtime`] signals overdue calls, whose compiled code carries no
//! checks) and output size.
//! Every failure is a typed [`Error`] naming the function; none of them panics or
//! poisons the runtime. A module built with the SDK's `entry!` carries its input
//! and output set names, read at compile time ([`Function::signature`]), and a
//! guest panic's message is reported with its trap ([`Error::Panic`]).
//!
//! # Example
//!
//! ```
//! use pappus_isolation::{Config, InputSet, Item, Limits, Runtime};
//!
//! # fn main() -> pappus_isolation::Result<()> {
//! let runtime = Runtime::new(Config::new().pool_size(4))?;
//! // A guest that reports no outputs: it leaves the output slot at zero.
//! let wat = r#"(module
//!     (memory (export "memory") 1)
//!     (func (export "pappus_entry") (param i32) (result i32) i32.const 0))"#;
//! let function = runtime.compile("nothing", wat.as_bytes(), Limits::default())?;
//! let items = [Item::new("greeting", 1, "hello")];
//! let outputs = runtime.run(&function, &[InputSet { name: "in", items: &items }], None)?;
//! assert!(outputs.is_empty());
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]
#![warn(unreachable_pub)]

mod abi;
mod cache;
mod call_state;
mod cancel;
mod config;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod input_area;
mod interrupt;
mod model;
mod runtime;
mod signature;
mod static_sets;
mod swap;
mod wasi;

pub use cache::{CacheKey, CacheStats, CACHE_KEY_LEN};
pub use cancel::CancelToken;
pub use config::{Config, Limits, DEFAULT_MAX_MEMORY_BYTES};
pub use error::{Error, Result};
pub use model::{InputSet, OutputSet};
pub use pappus_model::{Bytes, Item};
pub use runtime::{Function, Runtime};
pub use signature::{imports_wasi, read as read_signature, Signature};
pub use static_sets::StaticSet;
pub use wasi::{CallOptions, WasiContext, WasiSettings};
