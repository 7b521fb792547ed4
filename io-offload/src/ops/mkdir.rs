//! `mkdirat` one directory.

use std::io;
use std::os::fd::RawFd;
use std::path::Path;
use std::rc::Rc;
use std::time::Instant;

use crate::ring::{Driver, OpKind};

/// Creates the directory `path` relative to `dirfd` (its parent must exist).
pub(crate) async fn mkdir(
    driver: &Rc<Driver>,
    dirfd: RawFd,
    path: &Path,
    mode: u32,
    deadline: Option<Instant>,
) -> io::Result<()> {
    let kind = OpKind::Mkdir {
        dirfd,
        path: super::c_path(path)?,
        mode,
    };
    let (res, _) = driver.submit(kind, deadline).await;
    super::check(res).map(|_| ())
}
