//! `read` at an offset, appending to a buffer.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::rc::Rc;
use std::time::Instant;

use crate::ring::{Driver, OpKind};

/// Reads into the spare capacity of `buf` from `offset`; returns the buffer and
/// how many bytes were appended (0 at end of file).
pub(crate) async fn read(
    driver: &Rc<Driver>,
    fd: &OwnedFd,
    buf: Vec<u8>,
    offset: u64,
    deadline: Option<Instant>,
) -> (io::Result<usize>, Vec<u8>) {
    let kind = OpKind::Read {
        fd: fd.as_raw_fd(),
        buf,
        offset,
    };
    let (res, kind) = driver.submit(kind, deadline).await;
    let buf = match kind {
        OpKind::Read { buf, .. } => buf,
        _ => Vec::new(),
    };
    (super::check(res).map(|n| n as usize), buf)
}
