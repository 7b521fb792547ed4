//! `file://` objects, opened beneath the caller's roots with `openat2`: io_uring
//! reads, and atomic writes (temporary file, fsync, rename, fsync of the
//! directory).
//!
//! The path's text was checked by the [`Authority`]; here every open is
//! confined beneath its root (`RESOLVE_BENEATH`: no `..` above it, no symlink
//! out, no magic link), and what was opened is checked again by where it really
//! is (`/proc/self/fd`), its file system and its type, so a symlink inside a root
//! cannot lead to a denied path, a kernel file system or a device.

use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;

use crate::authority::FileAccess;
use crate::body::{Sink, SinkError};
use crate::budget::Lease;
use crate::context::{Ctx, Deadline};
use crate::http::{BodyPlan, Limit};
use crate::ops::Resolve;
use crate::ring::sys;
use crate::{ops, Authority, Error, Result};

/// Growth step when a file turns out longer than its size said.
const STEP: usize = 64 * 1024;
/// `statfs` magic numbers of procfs and sysfs (`linux/magic.h`).
const PROC_SUPER_MAGIC: i64 = 0x9fa0;
const SYSFS_MAGIC: i64 = 0x6265_6572;

fn io_error(uri: &str, op: &'static str, source: io::Error, deadline: Deadline) -> Error {
    if source.kind() == io::ErrorKind::TimedOut {
        Error::Timeout {
            uri: uri.to_owned(),
            limit: deadline.limit,
        }
    } else {
        Error::Io {
            uri: uri.to_owned(),
            op,
            source,
        }
    }
}

fn forbidden(uri: &str, rule: impl Into<String>) -> Error {
    Error::Forbidden {
        uri: uri.to_owned(),
        rule: rule.into(),
    }
}

/// An open failure: an escape attempt is `forbidden`, the rest are I/O errors.
fn open_error(uri: &str, op: &'static str, e: io::Error, deadline: Deadline) -> Error {
    match e.raw_os_error() {
        Some(libc::EXDEV) | Some(libc::ELOOP) => forbidden(
            uri,
            "the path leaves its root (through `..`, an absolute or outward symlink, or a magic link)",
        ),
        _ => io_error(uri, op, e, deadline),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    File,
    Dir,
}

/// Checks what `fd` really is: a regular file (or directory), on neither procfs
/// nor sysfs, and not at or beneath a denied path (nor is `child` of it).
fn check_opened(
    auth: &Authority,
    uri: &str,
    fd: &OwnedFd,
    want: Want,
    child: Option<&OsStr>,
) -> Result<sys::FdKind> {
    let raw = fd.as_raw_fd();
    let kind = sys::fd_kind(raw).map_err(|source| Error::Io {
        uri: uri.to_owned(),
        op: "inspecting",
        source,
    })?;
    if kind.fs_magic == PROC_SUPER_MAGIC || kind.fs_magic == SYSFS_MAGIC {
        return Err(forbidden(uri, "the path leads into procfs or sysfs"));
    }
    let (expected, what) = match want {
        Want::File => (libc::S_IFREG, "only regular files can be read or written"),
        Want::Dir => (libc::S_IFDIR, "a parent of the path is not a directory"),
    };
    if kind.file_type != expected {
        return Err(forbidden(uri, what));
    }
    let real = std::fs::read_link(format!("/proc/self/fd/{raw}")).map_err(|source| Error::Io {
        uri: uri.to_owned(),
        op: "finding where the path leads",
        source,
    })?;
    let real = match child {
        Some(name) => real.join(name),
        None => real,
    };
    if let Some(denied) = auth.denied().covering(&real) {
        return Err(forbidden(
            uri,
            format!("the path leads to the denied path {}", denied.display()),
        ));
    }
    Ok(kind)
}

/// The components of a relative path, all normal (the authority refused `..`).
fn components(rel: &Path) -> impl Iterator<Item = &OsStr> {
    rel.components().filter_map(|c| match c {
        Component::Normal(n) => Some(n),
        _ => None,
    })
}

fn resolve_mode(access: &FileAccess) -> Resolve {
    if access.beneath {
        Resolve::Beneath
    } else {
        Resolve::NoMagicLinks
    }
}

/// Opens the root directory of `access` (an operator's path, or `/`).
async fn open_root(ctx: &Ctx, uri: &str, root: &Path, deadline: Deadline) -> Result<OwnedFd> {
    ops::open(
        &ctx.driver,
        libc::AT_FDCWD,
        root,
        libc::O_RDONLY | libc::O_DIRECTORY,
        0,
        Resolve::NoMagicLinks,
        Some(deadline.at),
    )
    .await
    .map_err(|e| io_error(uri, "opening the root directory", e, deadline))
}

/// Reads the whole regular file `access` names, under `limit`, into memory
/// within the budgets of `plan` or into a spill file.
pub(crate) async fn read(
    ctx: &Ctx,
    auth: &Authority,
    uri: &str,
    access: &FileAccess,
    deadline: Deadline,
    limit: &Limit,
    plan: &BodyPlan,
) -> Result<Bytes> {
    let at = Some(deadline.at);
    let _open = ctx.shared.open_files.enter().await;
    let root = open_root(ctx, uri, &access.root, deadline).await?;
    let rel: &Path = if access.rel.as_os_str().is_empty() {
        Path::new(".")
    } else {
        &access.rel
    };
    // Non-blocking so that opening a FIFO cannot hang the thread; it is then
    // refused as not a regular file.
    let flags = libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY;
    let fd = ops::open(
        &ctx.driver,
        root.as_raw_fd(),
        rel,
        flags,
        0,
        resolve_mode(access),
        at,
    )
    .await
    .map_err(|e| open_error(uri, "opening", e, deadline))?;
    drop(root);
    let kind = check_opened(auth, uri, &fd, Want::File, None)?;
    // Another name of a hard-linked file may lie outside the root (a denied
    // file linked into it); only the local user may read one. Writes never
    // go through an existing link: they replace the name (`write`).
    if access.beneath && kind.links > 1 {
        return Err(forbidden(
            uri,
            "the file has other hard links, which may lie outside its root",
        ));
    }
    let size = ops::file_size(&ctx.driver, &fd, at)
        .await
        .map_err(|e| io_error(uri, "inspecting", e, deadline))?;
    if size > limit.bytes {
        return Err(limit.too_large(uri, size));
    }
    let sink_failed = |e: SinkError| match e {
        SinkError::Disk { op, source } => io_error(uri, op, source, deadline),
        e => e.into_error(uri),
    };
    let mut sink = match plan {
        BodyPlan::Fetch { budgets, spill, .. } => {
            Sink::budgeted(Lease::on(budgets.clone()), Arc::clone(spill))
        }
        BodyPlan::Memory => Sink::memory(),
    };
    // One spare byte so the read that finds end-of-file needs no reallocation.
    sink.expect(ctx, size.saturating_add(1), deadline.at)
        .await
        .map_err(sink_failed)?;
    sink.reserve(size.saturating_add(1));
    loop {
        let offset = sink.len();
        let remaining = (size > 0 && offset < size).then(|| size - offset + 1);
        let buf = sink.take_buf(remaining.or(Some(STEP as u64)));
        let (res, buf) = ops::read(&ctx.driver, &fd, buf, offset, at).await;
        sink.put(ctx, buf, deadline.at).await.map_err(sink_failed)?;
        if sink.len() > limit.bytes {
            // The file grew past the limit while it was read.
            return Err(limit.too_large(uri, sink.len()));
        }
        match res {
            Ok(0) => break,
            // The size statx gave has been read: the object is that snapshot,
            // which saves the read that would find end-of-file. Files that
            // report size 0 are read until end-of-file.
            Ok(_) if size > 0 && sink.len() >= size => break,
            Ok(_) => {}
            Err(e) => return Err(io_error(uri, "reading", e, deadline)),
        }
    }
    let len = sink.len();
    let kept = sink.finish(ctx, deadline.at).await.map_err(sink_failed)?;
    ctx.shared
        .counters
        .add_fetched(usize::try_from(len).unwrap_or(usize::MAX));
    Ok(kept.bytes)
}

/// A name for the temporary file next to `name`, unique in this process.
fn temp_name(name: &OsStr) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    PathBuf::from(format!(
        ".{}.{}.{n}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ))
}

/// Opens the directory `rel` beneath `root`, one component at a time, creating
/// missing ones; each step is confined like any open and checked.
async fn open_parent(
    ctx: &Ctx,
    auth: &Authority,
    uri: &str,
    access: &FileAccess,
    rel: &Path,
    deadline: Deadline,
) -> Result<OwnedFd> {
    let at = Some(deadline.at);
    let dir_flags = libc::O_RDONLY | libc::O_DIRECTORY;
    let mut dir = open_root(ctx, uri, &access.root, deadline).await?;
    for part in components(rel) {
        let part = Path::new(part);
        let mode = resolve_mode(access);
        let raw = dir.as_raw_fd();
        let next = match ops::open(&ctx.driver, raw, part, dir_flags, 0, mode, at).await {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                match ops::mkdir(&ctx.driver, raw, part, 0o755, at).await {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                    Err(e) => {
                        return Err(io_error(uri, "creating parent directories", e, deadline))
                    }
                }
                ops::open(&ctx.driver, raw, part, dir_flags, 0, mode, at).await
            }
            other => other,
        }
        .map_err(|e| open_error(uri, "opening a parent directory", e, deadline))?;
        check_opened(auth, uri, &next, Want::Dir, None)?;
        dir = next;
    }
    Ok(dir)
}

/// Writes `data` to the file `access` names, atomically: readers see the old
/// file or the whole new one, never a part; after success the data survives a
/// crash. Missing parent directories are created.
pub(crate) async fn write(
    ctx: &Ctx,
    auth: &Authority,
    uri: &str,
    access: &FileAccess,
    data: Bytes,
    deadline: Deadline,
) -> Result<()> {
    let (Some(name), Some(parent)) = (access.rel.file_name(), access.rel.parent()) else {
        return Err(Error::InvalidUri {
            uri: uri.to_owned(),
            reason: "no file name".into(),
        });
    };
    let at = Some(deadline.at);
    let _open = ctx.shared.open_files.enter().await;
    let dir = open_parent(ctx, auth, uri, access, parent, deadline).await?;
    check_opened(auth, uri, &dir, Want::Dir, Some(name))?;
    let raw_dir = dir.as_raw_fd();
    let temp = temp_name(name);
    // A single fresh name in a checked directory: O_EXCL|O_NOFOLLOW cannot be
    // redirected by a symlink, and the rename replaces the entry itself.
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW;
    let fd = ops::open(
        &ctx.driver,
        raw_dir,
        &temp,
        flags,
        0o644,
        Resolve::Beneath,
        at,
    )
    .await
    .map_err(|e| open_error(uri, "creating a temporary file", e, deadline))?;
    let len = data.len();
    let written = async {
        ops::write(&ctx.driver, &fd, data, 0, at)
            .await
            .map_err(|e| ("writing", e))?;
        ops::fsync(&ctx.driver, &fd, at)
            .await
            .map_err(|e| ("syncing", e))?;
        drop(fd);
        ops::rename(&ctx.driver, raw_dir, &temp, Path::new(name), at)
            .await
            .map_err(|e| ("renaming into place", e))
    }
    .await;
    if let Err((op, e)) = written {
        // Best effort: the temporary file is useless now.
        let _ = ops::unlink(&ctx.driver, raw_dir, &temp, at).await;
        return Err(io_error(uri, op, e, deadline));
    }
    // Make the rename itself durable.
    ops::fsync(&ctx.driver, &dir, at)
        .await
        .map_err(|e| io_error(uri, "syncing the directory", e, deadline))?;
    ctx.shared.counters.add_stored(len);
    Ok(())
}
