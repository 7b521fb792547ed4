//! Benchmarks, the load generator and the baselines for Pappus.
//!
//! - [`loadgen`]: open- and closed-loop load, bounded in requests and time,
//!   with HdrHistogram latencies ([`hist`]) and the daemon's CPU time and memory
//!   read from `/proc` ([`procfs`]).
//! - [`daemon`]: starts `pappus serve` on an ephemeral loopback port, registers
//!   functions and compositions, invokes them over HTTP ([`http`]).
//! - [`floor`]: the HTTP floor, a fixed-body responder on the daemon's stack.
//! - [`baselines`]: the same function logic run as a native process, in a runc
//!   or gVisor container, in a microVM booted per request, and in bare wasmtime.
//! - [`compute`]: the sandboxed kernels against the same source compiled
//!   natively, shared by the compute bench and the suite.
//! - [`suite`]: the whole comparison, written up by [`report`] with SVG plots
//!   ([`plot`]). `scripts/bench.sh` runs it (`--quick` for a short run).
//!
//! The criterion micro-benchmarks are in `benches/*.rs`.

pub mod baselines;
pub mod compute;
pub mod cpio;
pub mod daemon;
pub mod fetch_cache;
pub mod floor;
pub mod hist;
pub mod http;
pub mod kernels;
pub mod loadgen;
pub mod plot;
pub mod procfs;
pub mod report;
pub mod suite;
pub mod width;
pub mod workloads;
