//! Reading and framing one response: head with `httparse`, then the body by
//! `Content-Length`, chunked encoding, or connection close.

use std::io;
use std::os::fd::RawFd;
use std::sync::Arc;
use std::time::Instant;

use super::framing::{
    has_token, header, parse_head, ChunkStep, Chunked, FrameError, Framing, Head,
};
use super::{BodyPlan, Limit, Response};
use crate::body::{unique_name, Sink, SinkError};
use crate::budget::Lease;
use crate::context::{Ctx, Deadline};
use crate::ops::{self, Resolve};
use crate::Error;

/// Largest response head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// Receive buffer growth step.
const STEP: usize = 64 * 1024;

/// Why reading a response failed.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// Sending the request failed.
    Send(io::Error),
    /// Receiving failed; `started` tells whether any response byte had arrived.
    Recv { source: io::Error, started: bool },
    /// The peer closed the connection early.
    Closed { started: bool, reason: String },
    /// The response is malformed.
    Protocol(String),
    /// The body exceeds the size limit (size known or received so far).
    TooLarge(u64),
    /// Keeping the body failed (a spill or cache file).
    Sink(SinkError),
}

impl From<SinkError> for ReadError {
    fn from(e: SinkError) -> ReadError {
        ReadError::Sink(e)
    }
}

impl ReadError {
    /// True when the server cannot have seen and answered the request: the
    /// typical failure of a kept-alive connection the server has just closed.
    pub(crate) fn before_response(&self) -> bool {
        match self {
            ReadError::Send(e)
            | ReadError::Recv {
                source: e,
                started: false,
            } => matches!(
                e.kind(),
                io::ErrorKind::BrokenPipe
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
            ),
            ReadError::Closed { started, .. } => !started,
            _ => false,
        }
    }

    pub(crate) fn into_error(self, uri: &str, limit: &Limit, deadline: Deadline) -> Error {
        let uri = uri.to_owned();
        let io = |op: &'static str, source: io::Error| {
            if source.kind() == io::ErrorKind::TimedOut {
                Error::Timeout {
                    uri: uri.clone(),
                    limit: deadline.limit,
                }
            } else {
                Error::Io {
                    uri: uri.clone(),
                    op,
                    source,
                }
            }
        };
        match self {
            ReadError::Send(e) => io("sending the request", e),
            ReadError::Recv { source, .. } => io("reading the response", source),
            ReadError::Closed {
                started: false,
                reason,
            } => io(
                "reading the response",
                io::Error::new(io::ErrorKind::UnexpectedEof, reason),
            ),
            ReadError::Closed { reason, .. } | ReadError::Protocol(reason) => {
                Error::Protocol { uri, reason }
            }
            ReadError::TooLarge(actual) => limit.too_large(&uri, actual),
            ReadError::Sink(SinkError::Disk { op, source }) => io(op, source),
            ReadError::Sink(e) => e.into_error(&uri),
        }
    }
}

type ReadResult<T> = std::result::Result<T, ReadError>;

impl From<FrameError> for ReadError {
    fn from(e: FrameError) -> ReadError {
        match e {
            FrameError::Protocol(reason) => ReadError::Protocol(reason),
            FrameError::TooLarge(n) => ReadError::TooLarge(n),
        }
    }
}

/// Receives more bytes into `buf` (growing it by [`STEP`] if full).
async fn fill(
    ctx: &Ctx,
    fd: RawFd,
    mut buf: Vec<u8>,
    deadline: Instant,
    started: bool,
) -> ReadResult<(Vec<u8>, usize)> {
    if buf.capacity() - buf.len() < 4096 {
        buf.reserve(STEP);
    }
    let (res, buf) = ops::recv(&ctx.driver, fd, buf, Some(deadline)).await;
    match res {
        Ok(n) => Ok((buf, n)),
        Err(source) => Err(ReadError::Recv { source, started }),
    }
}

/// Receives into the sink's buffer; answers how many bytes arrived.
async fn fill_sink(
    ctx: &Ctx,
    fd: RawFd,
    sink: &mut Sink,
    remaining: Option<u64>,
    deadline: Instant,
) -> ReadResult<usize> {
    let buf = sink.take_buf(remaining);
    let (res, buf) = ops::recv(&ctx.driver, fd, buf, Some(deadline)).await;
    sink.put(ctx, buf, deadline).await?;
    res.map_err(|source| ReadError::Recv {
        source,
        started: true,
    })
}

/// True if the cache may keep this answer: a `200` with a validator to
/// revalidate it by, which does not forbid storing it.
pub(crate) fn cacheable(head: &Head) -> bool {
    head.status == 200
        && (header(&head.headers, "etag").is_some()
            || header(&head.headers, "last-modified").is_some())
        && !has_token(header(&head.headers, "cache-control"), "no-store")
}

/// Where the body of `head` goes under `plan`; `len` is its size if known.
async fn sink_for(
    ctx: &Ctx,
    head: &Head,
    plan: &BodyPlan,
    len: Option<u64>,
    deadline: Instant,
) -> ReadResult<Sink> {
    let BodyPlan::Fetch {
        budgets,
        spill,
        cache,
    } = plan
    else {
        return Ok(Sink::memory());
    };
    if let Some(dest) = cache {
        if cacheable(head) && len.is_none_or(|l| l <= dest.max_bytes) {
            let path = dest.dir.join(unique_name("part"));
            let flags = libc::O_RDWR | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW;
            let opened = ops::open(
                &ctx.driver,
                libc::AT_FDCWD,
                &path,
                flags,
                0o600,
                Resolve::NoMagicLinks,
                Some(deadline),
            )
            .await;
            match opened {
                Ok(fd) => return Ok(Sink::named_file(fd, path)),
                // The object is still fetched, just not cached.
                Err(e) => {
                    tracing::warn!(error = %e, dir = %dest.dir.display(), "cannot create a fetch cache file")
                }
            }
        }
    }
    let mut sink = Sink::budgeted(Lease::on(budgets.clone()), Arc::clone(spill));
    if let Some(len) = len {
        sink.expect(ctx, len, deadline).await?;
    }
    Ok(sink)
}

/// Reads one response; the flag tells whether the connection may be reused.
pub(crate) async fn read_response(
    ctx: &Ctx,
    fd: RawFd,
    is_head: bool,
    deadline: Instant,
    limit: &Limit,
    plan: &BodyPlan,
) -> ReadResult<(Response, bool)> {
    let mut buf = Vec::with_capacity(16 * 1024);
    let head = loop {
        if let Some(head) = parse_head(&buf)? {
            if (100..200).contains(&head.status) && head.status != 101 {
                // An interim answer (100 Continue, 103 Early Hints): skip it.
                buf.drain(..head.len);
                continue;
            }
            break head;
        }
        if buf.len() > MAX_HEAD {
            return Err(ReadError::Protocol(format!(
                "response head exceeds {MAX_HEAD} bytes"
            )));
        }
        let started = !buf.is_empty();
        let (next, n) = fill(ctx, fd, buf, deadline, started).await?;
        buf = next;
        if n == 0 {
            return Err(ReadError::Closed {
                started,
                reason: "connection closed before the end of the response head".into(),
            });
        }
    };
    let rest = buf.split_off(head.len);
    let keep_alive = head.keep_alive();
    // The size limit is checked on a declared length here, before any byte
    // of the body is kept.
    let framing = head.framing(is_head, limit.bytes)?;
    let known = match framing {
        Framing::Sized(len) => Some(len as u64),
        Framing::Empty => Some(0),
        Framing::Chunked | Framing::ToClose => None,
    };
    let mut sink = match framing {
        Framing::Empty => Sink::memory(),
        _ => sink_for(ctx, &head, plan, known, deadline).await?,
    };
    let reusable = match framing {
        Framing::Empty => keep_alive,
        // Read first: the body is needed whether or not the connection is kept.
        Framing::Chunked => {
            read_chunked(ctx, fd, rest, &mut sink, deadline, limit.bytes).await? && keep_alive
        }
        Framing::Sized(len) => {
            read_sized(ctx, fd, rest, &mut sink, len as u64, deadline).await? && keep_alive
        }
        Framing::ToClose => {
            read_to_close(ctx, fd, rest, &mut sink, deadline, limit.bytes).await?;
            false
        }
    };
    let kept = sink.finish(ctx, deadline).await?;
    Ok((
        Response {
            status: head.status,
            reason: head.reason,
            headers: head.headers,
            body: kept.bytes,
            cache_file: kept.file,
        },
        reusable,
    ))
}

/// Puts the bytes that came with the head into the sink: at most `len`;
/// answers how many bytes followed them (more than the body: not reusable).
async fn put_rest(
    ctx: &Ctx,
    sink: &mut Sink,
    rest: &[u8],
    len: Option<u64>,
    deadline: Instant,
) -> ReadResult<usize> {
    let take = len.map_or(rest.len(), |l| {
        usize::try_from(l).map_or(rest.len(), |l| l.min(rest.len()))
    });
    if take > 0 {
        let mut buf = sink.take_buf(Some(take as u64));
        buf.extend_from_slice(&rest[..take]);
        sink.put(ctx, buf, deadline).await?;
    }
    Ok(rest.len() - take)
}

/// Reads a body of exactly `len` bytes; `false` if extra bytes followed.
async fn read_sized(
    ctx: &Ctx,
    fd: RawFd,
    rest: Vec<u8>,
    sink: &mut Sink,
    len: u64,
    deadline: Instant,
) -> ReadResult<bool> {
    let extra = put_rest(ctx, sink, &rest, Some(len), deadline).await?;
    drop(rest);
    // The length is only a claim: memory grows as bytes arrive, not up front.
    while sink.len() < len {
        let remaining = len - sink.len();
        let n = fill_sink(ctx, fd, sink, Some(remaining), deadline).await?;
        if n == 0 {
            return Err(ReadError::Closed {
                started: true,
                reason: format!(
                    "truncated body: connection closed after {} of {len} bytes",
                    sink.len()
                ),
            });
        }
    }
    // A peer sending more than it declared: the body is what it declared,
    // and the connection, out of step, is not reused.
    let clean = sink.truncate(len);
    Ok(extra == 0 && clean)
}

/// Reads until the peer closes the connection.
async fn read_to_close(
    ctx: &Ctx,
    fd: RawFd,
    rest: Vec<u8>,
    sink: &mut Sink,
    deadline: Instant,
    limit: u64,
) -> ReadResult<()> {
    put_rest(ctx, sink, &rest, None, deadline).await?;
    drop(rest);
    loop {
        if sink.len() > limit {
            return Err(ReadError::TooLarge(sink.len()));
        }
        let n = fill_sink(ctx, fd, sink, None, deadline).await?;
        if n == 0 {
            return Ok(());
        }
    }
}

/// Decodes a chunked body into the sink as it arrives; `false` if bytes
/// followed the final chunk.
async fn read_chunked(
    ctx: &Ctx,
    fd: RawFd,
    mut raw: Vec<u8>,
    sink: &mut Sink,
    deadline: Instant,
    limit: u64,
) -> ReadResult<bool> {
    let mut decoder = Chunked::default();
    loop {
        let mut out = sink.take_buf(None);
        let step = decoder.decode(&raw, limit, &mut out);
        sink.put(ctx, out, deadline).await?;
        match step? {
            ChunkStep::Done { used } => return Ok(used == raw.len()),
            ChunkStep::More { consumed } => {
                raw.drain(..consumed);
            }
        }
        let (next, n) = fill(ctx, fd, raw, deadline, true).await?;
        raw = next;
        if n == 0 {
            return Err(ReadError::Closed {
                started: true,
                reason: format!(
                    "truncated chunked body: connection closed after {} bytes",
                    decoder.len()
                ),
            });
        }
    }
}
