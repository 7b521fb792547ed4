//! `renameat` a path over another.

use std::io;
use std::os::fd::RawFd;
use std::path::Path;
use std::rc::Rc;
use std::time::Instant;

use crate::ring::{Driver, OpKind};

/// Renames `from` to `to` (both relative to `dirfd`), atomically replacing
/// `to` if it exists.
pub(crate) async fn rename(
    driver: &Rc<Driver>,
    dirfd: RawFd,
    from: &Path,
    to: &Path,
    deadline: Option<Instant>,
) -> io::Result<()> {
    let kind = OpKind::Rename {
        dirfd,
        from: super::c_path(from)?,
        to: super::c_path(to)?,
    };
    let (res, _) = driver.submit(kind, deadline).await;
    super::check(res).map(|_| ())
}
