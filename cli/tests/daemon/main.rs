//! Integration tests of `pappus serve`: each test starts the real binary on an
//! ephemeral loopback port with its own data directory, drives the HTTP API and
//! stops it (a guard kills it if a test fails half-way).

mod api;
mod auth;
mod backpressure;
mod bounds;
mod config;
mod deploy;
mod errors;
mod fetch_bounds;
mod lifecycle;
mod limits;
mod logging;
mod s3_tenants;
mod static_sets;
mod storage;
mod support;
mod tenancy;
mod wasi;
mod wiring;

/// The `pappus` binary cargo built for these tests.
pub fn pappus_binary() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_BIN_EXE_pappus"))
}

/// Composition text shared by several tests: `Shout` uppercases each item of
/// `Text` into `Loud`; `Echo` copies `In` to `Out` and `Split` to `Words`.
pub const SHOUT: &str = "\
function upper (in) => (out);
composition Shout (Text) => (Loud) {
    upper (in = each Text) => (Loud = out);
}
";
