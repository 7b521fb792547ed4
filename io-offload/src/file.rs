//! `file://` objects: io_uring reads, and atomic writes (temporary file,
//! fsync, rename, fsync of the directory).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;

use crate::context::{Ctx, Deadline};
use crate::{ops, Error, Result};

/// Growth step when a file turns out longer than its size said.
const STEP: usize = 64 * 1024;

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

/// Reads the whole regular file at `path`.
pub(crate) async fn read(ctx: &Ctx, uri: &str, path: &Path, deadline: Deadline) -> Result<Bytes> {
    let limit = ctx.config().max_object_bytes;
    let at = Some(deadline.at);
    let fd = ops::open(&ctx.driver, path, libc::O_RDONLY, 0, at)
        .await
        .map_err(|e| io_error(uri, "opening", e, deadline))?;
    let size = ops::file_size(&ctx.driver, &fd, at)
        .await
        .map_err(|e| io_error(uri, "inspecting", e, deadline))?;
    if size > limit {
        return Err(Error::TooLarge {
            uri: uri.to_owned(),
            limit_bytes: limit,
            actual_bytes: size,
        });
    }
    // One spare byte so the read that finds end-of-file needs no reallocation.
    let mut buf = Vec::with_capacity(size as usize + 1);
    loop {
        if buf.len() == buf.capacity() {
            if buf.len() as u64 >= limit {
                return Err(Error::TooLarge {
                    uri: uri.to_owned(),
                    limit_bytes: limit,
                    actual_bytes: buf.len() as u64 + 1,
                });
            }
            buf.reserve(STEP);
        }
        let offset = buf.len() as u64;
        let (res, next) = ops::read(&ctx.driver, &fd, buf, offset, at).await;
        buf = next;
        match res {
            Ok(0) => break,
            // The size statx gave has been read: the object is that snapshot,
            // which saves the read that would find end-of-file. Files that
            // report size 0 (procfs and the like) are read until end-of-file.
            Ok(_) if size > 0 && buf.len() as u64 >= size => break,
            Ok(_) => {}
            Err(e) => return Err(io_error(uri, "reading", e, deadline)),
        }
    }
    ctx.shared.counters.add_fetched(buf.len());
    Ok(Bytes::from(buf))
}

/// A name for the temporary file next to `path`, unique in this process.
fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()))
}

/// Creates `dir` and its missing ancestors.
async fn create_dirs(ctx: &Ctx, dir: &Path, deadline: Deadline) -> io::Result<()> {
    let missing: Vec<&Path> = dir.ancestors().collect();
    for d in missing.into_iter().rev() {
        match ops::mkdir(&ctx.driver, d, 0o755, Some(deadline.at)).await {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Writes `data` to `path` atomically: readers see the old file or the whole
/// new one, never a part; after success the data survives a crash.
/// Missing parent directories are created.
pub(crate) async fn write(
    ctx: &Ctx,
    uri: &str,
    path: &Path,
    data: Bytes,
    deadline: Deadline,
) -> Result<()> {
    let Some(dir) = path.parent().filter(|_| path.file_name().is_some()) else {
        return Err(Error::InvalidUri {
            uri: uri.to_owned(),
            reason: "no file name".into(),
        });
    };
    let at = Some(deadline.at);
    let temp = temp_path(path);
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL;
    let fd = match ops::open(&ctx.driver, &temp, flags, 0o644, at).await {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            create_dirs(ctx, dir, deadline)
                .await
                .map_err(|e| io_error(uri, "creating parent directories", e, deadline))?;
            ops::open(&ctx.driver, &temp, flags, 0o644, at).await
        }
        other => other,
    }
    .map_err(|e| io_error(uri, "creating a temporary file", e, deadline))?;
    let len = data.len();
    let written = async {
        ops::write(&ctx.driver, &fd, data, 0, at)
            .await
            .map_err(|e| ("writing", e))?;
        ops::fsync(&ctx.driver, &fd, at)
            .await
            .map_err(|e| ("syncing", e))?;
        drop(fd);
        ops::rename(&ctx.driver, &temp, path, at)
            .await
            .map_err(|e| ("renaming into place", e))
    }
    .await;
    if let Err((op, e)) = written {
        // Best effort: the temporary file is useless now.
        let _ = ops::unlink(&ctx.driver, &temp, at).await;
        return Err(io_error(uri, op, e, deadline));
    }
    // Make the rename itself durable.
    let dir_fd = ops::open(&ctx.driver, dir, libc::O_RDONLY | libc::O_DIRECTORY, 0, at)
        .await
        .map_err(|e| io_error(uri, "opening the directory", e, deadline))?;
    ops::fsync(&ctx.driver, &dir_fd, at)
        .await
        .map_err(|e| io_error(uri, "syncing the directory", e, deadline))?;
    ctx.shared.counters.add_stored(len);
    Ok(())
}
