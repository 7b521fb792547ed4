//! The baselines Pappus is compared with, each running the same function logic:
//! a static native build of the kernels ([`native`]) run by fork+exec
//! ([`process`]), in an OCI container under runc or gVisor ([`oci`]), or in a
//! microVM booted per request ([`microvm`]); and bare wasmtime running the guest
//! module in-process ([`wasmtime_floor`]).

pub mod microvm;
pub mod native;
pub mod oci;
pub mod process;
pub mod wasmtime_floor;
