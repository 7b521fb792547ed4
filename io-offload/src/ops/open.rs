//! `openat2` a path relative to a directory.

use std::io;
use std::os::fd::{OwnedFd, RawFd};
use std::path::Path;
use std::rc::Rc;
use std::time::Instant;

use io_uring::types::OpenHow;

use crate::ring::{sys, Driver, OpKind};

/// How path resolution is confined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Resolve {
    /// Never leave `dirfd` (`RESOLVE_BENEATH`: no `..` above it, no absolute
    /// path or symlink, no symlink pointing out) and never follow
    /// `/proc`-style magic links.
    Beneath,
    /// Anywhere, but never through a magic link (`/proc/self/fd/N` and the like).
    NoMagicLinks,
}

/// Opens `path` relative to `dirfd` (`libc::AT_FDCWD` for the current
/// directory) with `flags` (`O_CLOEXEC` is always added) and `mode`.
pub(crate) async fn open(
    driver: &Rc<Driver>,
    dirfd: RawFd,
    path: &Path,
    flags: i32,
    mode: u32,
    resolve: Resolve,
    deadline: Option<Instant>,
) -> io::Result<OwnedFd> {
    let resolve = match resolve {
        Resolve::Beneath => libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS,
        Resolve::NoMagicLinks => libc::RESOLVE_NO_MAGICLINKS,
    };
    let how = OpenHow::new()
        .flags((flags | libc::O_CLOEXEC) as u32 as u64)
        .mode(u64::from(mode))
        .resolve(resolve);
    let kind = OpKind::Open {
        dirfd,
        path: super::c_path(path)?,
        how: Box::new(how),
    };
    let (res, _) = driver.submit(kind, deadline).await;
    sys::own_cqe(super::check(res)? as i32)
}
