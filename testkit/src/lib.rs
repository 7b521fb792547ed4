//! What Pappus's tests and benches share: real servers started on loopback ports
//! in temporary directories ([`nginx()`], [`redis()`], [`garage()`]), TCP peers that
//! misbehave on purpose ([`faults`]) and the example guest modules ([`guest`]).
//!
//! Everything here panics on failure: it runs inside tests and benches, where a
//! panic with a clear message (a missing server says to run `./setup.sh --test`) is the
//! right report. Every server is killed when its guard drops, and also if the
//! process that started it dies.
#![allow(clippy::unwrap_used)]

pub mod faults;
pub mod files;
pub mod fuzz;
pub mod garage;
pub mod guest;
pub mod nginx;
mod process;
pub mod redis;

pub use faults::{read_head, stalling_server, tcp_server, truncating_server};
pub use files::{file_uri, pattern, put_file};
pub use garage::{garage, BucketKey, Garage};
pub use guest::{functions_dir, repo_root, wasm, wasm_path};
pub use nginx::{logged_body_bytes, nginx, nginx_logging, nginx_serving};
pub use process::{free_port, Server};
pub use redis::redis;
