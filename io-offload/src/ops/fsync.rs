//! `fsync` a file or directory.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::rc::Rc;
use std::time::Instant;

use crate::ring::{Driver, OpKind};

/// Flushes `fd`'s data and metadata to stable storage.
pub(crate) async fn fsync(
    driver: &Rc<Driver>,
    fd: &OwnedFd,
    deadline: Option<Instant>,
) -> io::Result<()> {
    let kind = OpKind::Fsync { fd: fd.as_raw_fd() };
    let (res, _) = driver.submit(kind, deadline).await;
    super::check(res).map(|_| ())
}
