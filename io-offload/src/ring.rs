//! The io_uring driver: the only module with `unsafe` code.
//!
//! Each I/O thread owns one [`Driver`] (an `io_uring` instance plus a slab of
//! in-flight operations) and one [`Executor`] (a single-threaded task queue).
//! Futures submit operations with [`Driver::submit`]; every buffer, path and
//! socket address the kernel may touch is owned by the operation's slot until
//! the kernel has posted its completion, so dropping a future early never frees
//! memory the kernel still writes to.
//!
//! Other threads hand work to the I/O thread through a channel and wake its ring
//! by writing an eventfd, which the driver keeps a read posted on.

mod driver;
mod executor;
mod op;
pub(crate) mod sys;

pub(crate) use driver::Driver;
pub(crate) use executor::{spawn_blocking, Executor};
pub(crate) use op::{statx_buf, timespec, OpKind, SockAddr};
