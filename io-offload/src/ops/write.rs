//! `write` the whole of a buffer to a file at an offset.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::rc::Rc;
use std::time::Instant;

use bytes::Bytes;

use crate::ring::{Driver, OpKind};

/// Writes all of `buf` starting at `offset`, looping over short writes.
pub(crate) async fn write(
    driver: &Rc<Driver>,
    fd: &OwnedFd,
    mut buf: Bytes,
    mut offset: u64,
    deadline: Option<Instant>,
) -> io::Result<()> {
    while !buf.is_empty() {
        let kind = OpKind::Write {
            fd: fd.as_raw_fd(),
            buf: buf.clone(),
            offset,
        };
        let (res, _) = driver.submit(kind, deadline).await;
        let n = super::check(res)? as usize;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "write wrote nothing",
            ));
        }
        let _ = buf.split_to(n.min(buf.len()));
        offset += n as u64;
    }
    Ok(())
}
