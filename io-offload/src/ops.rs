//! One file per io_uring operation, as safe async functions over the driver.
//!
//! Each takes the deadline of its call: the driver links a timeout to the
//! operation, and an operation cancelled by it fails with
//! [`io::ErrorKind::TimedOut`].

use std::io;

mod connect;
mod fsync;
mod mkdir;
mod open;
mod read;
mod recv;
mod rename;
mod send;
mod sleep;
mod statx;
mod unlink;
mod write;

pub(crate) use connect::connect;
pub(crate) use fsync::fsync;
pub(crate) use mkdir::mkdir;
pub(crate) use open::{open, Resolve};
pub(crate) use read::read;
pub(crate) use recv::recv;
pub(crate) use rename::rename;
pub(crate) use send::send;
pub(crate) use sleep::sleep;
pub(crate) use statx::file_size;
pub(crate) use unlink::unlink;
pub(crate) use write::write;

/// Turns a completion result into `io::Result`, mapping a cancellation (only
/// linked timeouts cancel operations while the runtime runs) to `TimedOut`.
fn check(res: i32) -> io::Result<u32> {
    if res >= 0 {
        Ok(res as u32)
    } else if res == -libc::ECANCELED {
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "operation timed out",
        ))
    } else {
        Err(io::Error::from_raw_os_error(-res))
    }
}

/// Turns a path into the C string the kernel takes.
fn c_path(path: &std::path::Path) -> io::Result<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))
}
