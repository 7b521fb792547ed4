//! [`Sink`]: where one object's bytes go while they arrive, in memory under
//! the budgets or in a file on disk.
//!
//! A fetched object stays in memory only while a [`Lease`] on the node's and
//! the invocation's [`MemoryBudget`](crate::MemoryBudget) covers it. When a
//! size known up front (`Content-Length`, a file's size) does not fit, the
//! bytes go straight to a spill file; when a body of unknown size outgrows
//! the lease, what arrived so far is written out and the rest follows it. A
//! file is written through a small staging buffer, so a transfer holds at
//! most [`STAGE`] bytes of memory however large or slow it is, and is mapped
//! read-only when complete ([`crate::mapped`]). Spill files have no name
//! (`O_TMPFILE`): nothing is left behind, whatever happens to the process.

use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use crate::budget::{Lease, MemoryBudget};
use crate::context::Ctx;
use crate::ops::{self, Resolve};
use crate::{mapped, Error};

/// Staging buffer of a body going to a file: written out when full.
pub(crate) const STAGE: usize = 256 * 1024;

/// Where objects that do not fit in memory go, and the bound on their bytes.
#[derive(Debug)]
pub(crate) struct SpillDir {
    pub(crate) dir: PathBuf,
    /// Bytes of spill files alive at once
    /// ([`RingConfig::spill_bytes`](crate::RingConfig::spill_bytes)).
    pub(crate) budget: Arc<MemoryBudget>,
}

/// Why keeping a body failed (besides the transfer itself).
#[derive(Debug)]
pub(crate) enum SinkError {
    /// Creating, writing or mapping the file failed.
    Disk { op: &'static str, source: io::Error },
    /// The spill budget is exhausted.
    SpillFull { limit: u64 },
}

impl SinkError {
    pub(crate) fn into_error(self, uri: &str) -> Error {
        match self {
            SinkError::Disk { op, source } => Error::Io {
                uri: uri.to_owned(),
                op,
                source,
            },
            SinkError::SpillFull { limit } => Error::Overloaded {
                what: "bytes of fetched objects spilled to disk",
                limit: usize::try_from(limit).unwrap_or(usize::MAX),
            },
        }
    }
}

type SinkResult<T> = std::result::Result<T, SinkError>;

fn disk(op: &'static str) -> impl FnOnce(io::Error) -> SinkError {
    move |source| SinkError::Disk { op, source }
}

/// A body being received.
pub(crate) struct Sink {
    state: State,
    /// Where to go when memory is refused; `None`: memory only, unbudgeted
    /// (the `http` built-in's responses, bounded by the object size limit).
    spill: Option<Arc<SpillDir>>,
}

enum State {
    Memory {
        buf: Vec<u8>,
        /// `None`: not budgeted.
        lease: Option<Lease>,
    },
    File(FileBody),
}

/// A body going to a file.
pub(crate) struct FileBody {
    fd: OwnedFd,
    /// Bytes written to the file so far.
    written: u64,
    staging: Vec<u8>,
    /// The spill budget's share, for spill files.
    disk: Option<Lease>,
    /// The file's name, for a file that has one (a cache entry being written).
    path: Option<Part>,
}

/// The name of a file being written for the cache: removed unless the body
/// was completed ([`Part::keep`]), so a failed transfer leaves nothing.
struct Part(Option<PathBuf>);

impl Part {
    fn keep(mut self) -> Option<PathBuf> {
        self.0.take()
    }
}

impl Drop for Part {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A finished body: its bytes, and the named file they were written to.
pub(crate) struct Kept {
    pub(crate) bytes: Bytes,
    /// For a body written to a named file: the file, still open.
    pub(crate) file: Option<(PathBuf, OwnedFd)>,
}

impl Sink {
    /// In memory, without a budget.
    pub(crate) fn memory() -> Sink {
        Sink {
            state: State::Memory {
                buf: Vec::new(),
                lease: None,
            },
            spill: None,
        }
    }

    /// In memory while `lease` can grow to cover it, else in a file in `spill`.
    pub(crate) fn budgeted(lease: Lease, spill: Arc<SpillDir>) -> Sink {
        Sink {
            state: State::Memory {
                buf: Vec::new(),
                lease: Some(lease),
            },
            spill: Some(spill),
        }
    }

    /// Into the named file `fd` at `path` (created empty by the caller).
    pub(crate) fn named_file(fd: OwnedFd, path: PathBuf) -> Sink {
        Sink {
            state: State::File(FileBody {
                fd,
                written: 0,
                staging: Vec::new(),
                disk: None,
                path: Some(Part(Some(path))),
            }),
            spill: None,
        }
    }

    /// Bytes received so far.
    pub(crate) fn len(&self) -> u64 {
        match &self.state {
            State::Memory { buf, .. } => buf.len() as u64,
            State::File(f) => f.written + f.staging.len() as u64,
        }
    }

    /// Cuts what was received past `len` bytes (a peer sending more than it
    /// declared); `true` when there was nothing to cut.
    pub(crate) fn truncate(&mut self, len: u64) -> bool {
        let clean = self.len() <= len;
        match &mut self.state {
            State::Memory { buf, .. } => buf.truncate(usize::try_from(len).unwrap_or(usize::MAX)),
            State::File(f) if f.written > len => {
                // Extra bytes already written stay past the end of what is
                // mapped; nothing is written after this.
                f.written = len;
                f.staging.clear();
            }
            State::File(f) => {
                let keep = len - f.written;
                f.staging
                    .truncate(usize::try_from(keep).unwrap_or(usize::MAX));
            }
        }
        clean
    }

    /// The body will be `len` bytes (a claim, already checked against the
    /// size limit): kept in memory if the lease covers it, else sent to a
    /// file from the start. Memory still grows only as bytes arrive.
    pub(crate) async fn expect(
        &mut self,
        ctx: &Ctx,
        len: u64,
        deadline: Instant,
    ) -> SinkResult<()> {
        if let State::Memory {
            lease: Some(lease), ..
        } = &mut self.state
        {
            if !lease.grow_to(len) {
                self.spill_to_file(ctx, deadline).await?;
            }
        }
        Ok(())
    }

    /// Sets room aside for `n` more bytes at once, when the body is in memory
    /// (for sizes that are facts, such as a file's, not a peer's claim).
    pub(crate) fn reserve(&mut self, n: u64) {
        if let State::Memory { buf, .. } = &mut self.state {
            buf.reserve(usize::try_from(n).unwrap_or(0));
        }
    }

    /// A buffer to receive into, with spare room (the body itself in memory,
    /// the staging buffer for a file); give it back with [`put`](Self::put).
    /// `remaining` is how much more the body is known to hold, if known.
    pub(crate) fn take_buf(&mut self, remaining: Option<u64>) -> Vec<u8> {
        match &mut self.state {
            State::Memory { buf, .. } => {
                let mut buf = std::mem::take(buf);
                if buf.capacity() - buf.len() < 4096 {
                    // Doubling from 64 KiB, but never past a known length.
                    let step = buf.capacity().max(64 * 1024);
                    let step =
                        remaining.map_or(step, |r| step.min(usize::try_from(r).unwrap_or(step)));
                    buf.reserve(step.max(1));
                }
                buf
            }
            State::File(f) => {
                let mut staging = std::mem::take(&mut f.staging);
                if staging.capacity() < STAGE {
                    staging.reserve(STAGE - staging.len());
                }
                staging
            }
        }
    }

    /// Takes back the buffer of [`take_buf`](Self::take_buf) with what was
    /// received into it: charged to the lease (going to a file when it cannot
    /// grow), or written out when the staging buffer is full.
    pub(crate) async fn put(
        &mut self,
        ctx: &Ctx,
        got: Vec<u8>,
        deadline: Instant,
    ) -> SinkResult<()> {
        match &mut self.state {
            State::Memory { buf, lease } => {
                *buf = got;
                let refused = lease
                    .as_mut()
                    .is_some_and(|lease| !lease.grow_to(buf.capacity() as u64));
                if refused {
                    self.spill_to_file(ctx, deadline).await?;
                }
            }
            State::File(f) => {
                f.staging = got;
                if f.staging.len() + 4096 > STAGE {
                    f.flush(ctx, deadline).await?;
                }
            }
        }
        Ok(())
    }

    /// Moves a body held in memory to a new spill file (with what arrived).
    async fn spill_to_file(&mut self, ctx: &Ctx, deadline: Instant) -> SinkResult<()> {
        let State::Memory { buf, .. } = &mut self.state else {
            return Ok(());
        };
        let Some(spill) = &self.spill else {
            return Ok(());
        };
        let held = std::mem::take(buf);
        let fd = spill_file(ctx, &spill.dir, deadline).await?;
        ctx.shared.counters.add_spill();
        let mut file = FileBody {
            fd,
            written: 0,
            staging: Vec::new(),
            disk: Some(Lease::on(vec![Arc::clone(&spill.budget)])),
            path: None,
        };
        if !held.is_empty() {
            file.staging = held;
            file.flush(ctx, deadline).await?;
            file.staging = Vec::new();
        }
        // Replacing the state drops the memory lease.
        self.state = State::File(file);
        Ok(())
    }

    /// The whole body: the bytes in memory, or the file mapped read-only.
    pub(crate) async fn finish(self, ctx: &Ctx, deadline: Instant) -> SinkResult<Kept> {
        match self.state {
            State::Memory { mut buf, lease } => {
                let bytes = match lease {
                    Some(mut lease) => {
                        buf.shrink_to_fit();
                        // Shrinking never needs more than the lease holds.
                        let _ = lease.grow_to(buf.capacity() as u64);
                        Bytes::from_owner(Held { buf, _lease: lease })
                    }
                    None => Bytes::from(buf),
                };
                Ok(Kept { bytes, file: None })
            }
            State::File(mut f) => {
                f.flush(ctx, deadline).await?;
                let bytes = mapped::map(&f.fd, f.written, f.disk.take())
                    .map_err(disk("mapping the object"))?;
                Ok(Kept {
                    bytes,
                    file: f.path.and_then(Part::keep).map(|p| (p, f.fd)),
                })
            }
        }
    }
}

impl FileBody {
    /// Writes the staging buffer out (charging the spill budget first).
    async fn flush(&mut self, ctx: &Ctx, deadline: Instant) -> SinkResult<()> {
        if self.staging.is_empty() {
            return Ok(());
        }
        let end = self.written.saturating_add(self.staging.len() as u64);
        if let Some(lease) = &mut self.disk {
            if !lease.grow_to(end) {
                return Err(SinkError::SpillFull {
                    limit: lease.limit(),
                });
            }
        }
        let chunk = Bytes::from(std::mem::take(&mut self.staging));
        ops::write(
            &ctx.driver,
            &self.fd,
            chunk.clone(),
            self.written,
            Some(deadline),
        )
        .await
        .map_err(disk("writing the object to disk"))?;
        self.written = end;
        // The write is done with the buffer: reuse it (no copy when unique).
        let mut staging = Vec::from(chunk);
        staging.clear();
        self.staging = staging;
        Ok(())
    }
}

/// Bytes in memory with the lease that pays for them.
struct Held {
    buf: Vec<u8>,
    _lease: Lease,
}

impl AsRef<[u8]> for Held {
    fn as_ref(&self) -> &[u8] {
        &self.buf
    }
}

/// A new file without a name in `dir` (`O_TMPFILE`); where the file system
/// lacks it, a fresh name unlinked at once.
async fn spill_file(ctx: &Ctx, dir: &Path, deadline: Instant) -> SinkResult<OwnedFd> {
    let at = Some(deadline);
    let flags = libc::O_TMPFILE | libc::O_RDWR;
    match ops::open(
        &ctx.driver,
        libc::AT_FDCWD,
        dir,
        flags,
        0o600,
        Resolve::NoMagicLinks,
        at,
    )
    .await
    {
        Ok(fd) => return Ok(fd),
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::EOPNOTSUPP) | Some(libc::EISDIR)
            ) => {}
        Err(e) => return Err(disk("creating a spill file")(e)),
    }
    let name = dir.join(unique_name("spill"));
    let flags = libc::O_RDWR | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW;
    let fd = ops::open(
        &ctx.driver,
        libc::AT_FDCWD,
        &name,
        flags,
        0o600,
        Resolve::NoMagicLinks,
        at,
    )
    .await
    .map_err(disk("creating a spill file"))?;
    ops::unlink(&ctx.driver, libc::AT_FDCWD, &name, at)
        .await
        .map_err(disk("unlinking a spill file"))?;
    Ok(fd)
}

/// `.{what}.{pid}.{n}`: a name no other file of this process has.
pub(crate) fn unique_name(what: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!(".{what}.{}.{n}", std::process::id())
}
