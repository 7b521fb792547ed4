//! `unlinkat` a file.

use std::io;
use std::os::fd::RawFd;
use std::path::Path;
use std::rc::Rc;
use std::time::Instant;

use crate::ring::{Driver, OpKind};

/// Removes the file `path` (relative to `dirfd`).
pub(crate) async fn unlink(
    driver: &Rc<Driver>,
    dirfd: RawFd,
    path: &Path,
    deadline: Option<Instant>,
) -> io::Result<()> {
    let kind = OpKind::Unlink {
        dirfd,
        path: super::c_path(path)?,
    };
    let (res, _) = driver.submit(kind, deadline).await;
    super::check(res).map(|_| ())
}
