//! `pappus-io`: the communication functions the Pappus platform runs outside
//! every sandbox, on io_uring.
//!
//! Compute functions in Pappus make no system calls. Everything they read or
//! write crosses this crate instead, as five built-in functions over sets of
//! [`Item`]s (formats in `docs/io.md`):
//!
//! | built-in | signature | what it does |
//! |---|---|---|
//! | `http` | `(request) => (response)` | any HTTP/1.1 request; statuses are data |
//! | `fetch` | `(uris) => (objects)` | read `file://`, `http://`, `s3://bucket/key` |
//! | `store` | `(objects, uris) => (receipts)` | write objects to the URIs of the same key |
//! | `kv_get` | `(keys) => (values)` | Redis `GET` |
//! | `kv_put` | `(pairs) => (receipts)` | Redis `SET` |
//!
//! [`IoRuntime::start`] spawns dedicated I/O threads, each driving its own
//! io_uring instance with the `io-uring` crate: file reads and writes, socket
//! connect/send/recv and timeouts are all ring operations, so a thread serves
//! many transfers at once and the caller's threads never wait on I/O. A call is
//! handed over with [`IoRuntime::submit`] (a callback runs on the I/O thread
//! when it is done) or [`IoRuntime::call`] (blocking). Each call has a
//! deadline, an object size limit and retries with backoff for idempotent
//! requests; every failure names the URI and the cause ([`Error`]).
//!
//! This crate does not schedule, shard or join: the engine decides which items
//! form a call. It knows nothing of sandboxes; the engine copies the bytes
//! where they are needed. HTTPS is not supported (plain `http://` only).
//!
//! ```no_run
//! use pappus_io::{Call, IoRuntime, Item, RingConfig};
//!
//! let mut config = RingConfig::new();
//! config.timeout(std::time::Duration::from_secs(5));
//! let io = IoRuntime::start(&config)?;
//! let objects = io.call(Call::Fetch {
//!     uris: vec![
//!         Item::new("local", 0, "file:///etc/hostname"),
//!         Item::new("remote", 1, "http://127.0.0.1:8080/logs/1.txt"),
//!     ],
//! })?;
//! for object in &objects {
//!     println!("{} (key {}): {} bytes", object.name, object.key, object.data.len());
//! }
//! # Ok::<(), pappus_io::Error>(())
//! ```

#![deny(missing_docs)]
#![warn(unreachable_pub)]

mod authority;
mod body;
mod budget;
mod builtin;
mod cache;
mod call;
mod config;
mod context;
mod error;
mod file;
#[doc(hidden)]
pub mod fuzzing;
mod gate;
mod http;
mod mapped;
mod net;
mod ops;
mod policy;
mod redis;
mod redis_target;
mod retry;
mod ring;
mod runtime;
mod s3;
mod s3_config;
mod stats;
mod uri;

pub use authority::Authority;
pub use budget::MemoryBudget;
pub use call::{Call, CallOptions};
pub use config::{
    RingConfig, DEFAULT_FETCH_CACHE_NODE_BYTES, DEFAULT_FETCH_CACHE_TENANT_BYTES,
    DEFAULT_FETCH_MEMORY_BYTES, DEFAULT_INVOCATION_FETCH_MEMORY_BYTES, DEFAULT_SPILL_BYTES,
};
pub use error::{Error, Result};
pub use mapped::release_resident;
pub use pappus_model::{Bytes, Item};
pub use policy::{FilePolicy, HttpPolicy, IoPolicy, RedisGrant, S3Grant};
pub use runtime::{Done, IoHealth, IoRuntime};
pub use s3_config::S3Config;
pub use stats::IoStats;
