//! Reading and framing one response: head with `httparse`, then the body by
//! `Content-Length`, chunked encoding, or connection close.

use std::io;
use std::os::fd::RawFd;
use std::time::Instant;

use bytes::Bytes;

use super::framing::{parse_head, ChunkStep, Chunked, FrameError, Framing};
use super::Response;
use crate::context::{Ctx, Deadline};
use crate::{ops, Error};

/// Largest response head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// Receive buffer growth step.
const STEP: usize = 64 * 1024;
/// Most memory set aside for a sized body before its bytes arrive.
const SIZED_START: usize = 1024 * 1024;

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

    pub(crate) fn into_error(self, uri: &str, limit: u64, deadline: Deadline) -> Error {
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
            ReadError::TooLarge(actual) => Error::TooLarge {
                uri,
                limit_bytes: limit,
                actual_bytes: actual,
            },
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

/// Reads one response; the flag tells whether the connection may be reused.
pub(crate) async fn read_response(
    ctx: &Ctx,
    fd: RawFd,
    is_head: bool,
    deadline: Instant,
) -> ReadResult<(Response, bool)> {
    let limit = ctx.config().max_object_bytes;
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
    let (body, reusable) = match head.framing(is_head, limit)? {
        Framing::Empty => (Vec::new(), keep_alive),
        Framing::Chunked => {
            let (body, clean) = read_chunked(ctx, fd, rest, deadline, limit).await?;
            (body, keep_alive && clean)
        }
        Framing::Sized(len) => {
            let (body, clean) = read_sized(ctx, fd, rest, len, deadline).await?;
            (body, keep_alive && clean)
        }
        Framing::ToClose => (read_to_close(ctx, fd, rest, deadline, limit).await?, false),
    };
    Ok((
        Response {
            status: head.status,
            reason: head.reason,
            headers: head.headers,
            body: Bytes::from(body),
        },
        reusable,
    ))
}

/// Reads a body of exactly `len` bytes; `false` if extra bytes followed.
async fn read_sized(
    ctx: &Ctx,
    fd: RawFd,
    rest: Vec<u8>,
    len: usize,
    deadline: Instant,
) -> ReadResult<(Vec<u8>, bool)> {
    if rest.len() >= len {
        let clean = rest.len() == len;
        let mut body = rest;
        body.truncate(len);
        return Ok((body, clean));
    }
    // The length is only a claim: memory grows as bytes arrive, not up front.
    let mut body = Vec::with_capacity(len.min(SIZED_START));
    body.extend_from_slice(&rest);
    while body.len() < len {
        if body.capacity() - body.len() < 4096 {
            // Doubling, but never past the claimed length.
            let remaining = len - body.len();
            body.reserve(remaining.min(body.capacity().max(STEP)));
        }
        let (res, next) = ops::recv(&ctx.driver, fd, body, Some(deadline)).await;
        body = next;
        match res {
            Ok(0) => {
                return Err(ReadError::Closed {
                    started: true,
                    reason: format!(
                        "truncated body: connection closed after {} of {len} bytes",
                        body.len()
                    ),
                })
            }
            Ok(_) => {}
            Err(source) => {
                return Err(ReadError::Recv {
                    source,
                    started: true,
                })
            }
        }
    }
    let clean = body.len() == len;
    body.truncate(len);
    Ok((body, clean))
}

/// Reads until the peer closes the connection.
async fn read_to_close(
    ctx: &Ctx,
    fd: RawFd,
    mut body: Vec<u8>,
    deadline: Instant,
    limit: u64,
) -> ReadResult<Vec<u8>> {
    loop {
        if body.len() as u64 > limit {
            return Err(ReadError::TooLarge(body.len() as u64));
        }
        let (next, n) = fill(ctx, fd, body, deadline, true).await?;
        body = next;
        if n == 0 {
            return Ok(body);
        }
    }
}

/// Decodes a chunked body; `false` if bytes followed the final chunk.
async fn read_chunked(
    ctx: &Ctx,
    fd: RawFd,
    mut raw: Vec<u8>,
    deadline: Instant,
    limit: u64,
) -> ReadResult<(Vec<u8>, bool)> {
    let mut decoder = Chunked::default();
    loop {
        match decoder.decode(&raw, limit)? {
            ChunkStep::Done { used } => return Ok((decoder.into_body(), used == raw.len())),
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
