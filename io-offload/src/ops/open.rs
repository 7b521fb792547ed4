//! `openat` a path.

use std::io;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::rc::Rc;
use std::time::Instant;

use crate::ring::{sys, Driver, OpKind};

/// Opens `path` with `flags` (`O_CLOEXEC` is always added) and `mode`.
pub(crate) async fn open(
    driver: &Rc<Driver>,
    path: &Path,
    flags: i32,
    mode: u32,
    deadline: Option<Instant>,
) -> io::Result<OwnedFd> {
    let kind = OpKind::Open {
        path: super::c_path(path)?,
        flags,
        mode,
    };
    let (res, _) = driver.submit(kind, deadline).await;
    sys::own_cqe(super::check(res)? as i32)
}
