//! Integration tests for pappus-io against real servers (nginx, Redis,
//! Garage) started by the tests on loopback ports.

#![allow(clippy::unwrap_used, reason = "tests assert by unwrapping")]

mod authority_files;
mod authority_net;
mod authority_stores;
mod budgets;
mod faults;
mod fetch_cache;
mod fetch_http;
mod file;
mod fuzz;
mod hostile_peers;
mod http;
mod kv;
mod runtime;
mod s3;
mod store;
mod support;
