//! `statx` of an open file.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::rc::Rc;
use std::time::Instant;

use crate::ring::{statx_buf, Driver, OpKind};

/// The size of the regular file `fd`; an error for directories and other
/// non-regular files.
pub(crate) async fn file_size(
    driver: &Rc<Driver>,
    fd: &OwnedFd,
    deadline: Option<Instant>,
) -> io::Result<u64> {
    let kind = OpKind::Statx {
        fd: fd.as_raw_fd(),
        buf: statx_buf(),
    };
    let (res, kind) = driver.submit(kind, deadline).await;
    super::check(res)?;
    let OpKind::Statx { buf, .. } = kind else {
        return Err(io::Error::other("statx completion lost its buffer"));
    };
    if u32::from(buf.stx_mode) & libc::S_IFMT != libc::S_IFREG {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(buf.stx_size)
}
