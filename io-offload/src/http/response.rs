//! Reading and framing one response: head with `httparse`, then the body by
//! `Content-Length`, chunked encoding, or connection close.

use std::io;
use std::os::fd::RawFd;
use std::time::Instant;

use bytes::Bytes;

use super::Response;
use crate::context::{Ctx, Deadline};
use crate::{ops, Error};

/// Largest response head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// Most headers in a response.
const MAX_HEADERS: usize = 128;
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

struct Head {
    status: u16,
    reason: String,
    headers: Vec<(String, Vec<u8>)>,
    version: u8,
    len: usize,
}

fn parse_head(buf: &[u8]) -> ReadResult<Option<Head>> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(buf) {
        Ok(httparse::Status::Complete(len)) => Ok(Some(Head {
            status: resp.code.unwrap_or(0),
            reason: resp.reason.unwrap_or("").to_owned(),
            headers: resp
                .headers
                .iter()
                .map(|h| (h.name.to_owned(), h.value.to_vec()))
                .collect(),
            version: resp.version.unwrap_or(1),
            len,
        })),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(e) => Err(ReadError::Protocol(format!("malformed response head: {e}"))),
    }
}

fn header<'h>(headers: &'h [(String, Vec<u8>)], name: &str) -> Option<&'h [u8]> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_slice())
}

fn has_token(value: Option<&[u8]>, token: &str) -> bool {
    value
        .map(|v| {
            String::from_utf8_lossy(v)
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case(token))
        })
        .unwrap_or(false)
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
    let keep_alive = head.version == 1 && !has_token(header(&head.headers, "connection"), "close");
    let no_body = is_head || head.status == 204 || head.status == 304;
    let (body, reusable) = if no_body {
        (Vec::new(), keep_alive)
    } else if has_token(header(&head.headers, "transfer-encoding"), "chunked") {
        let (body, clean) = read_chunked(ctx, fd, rest, deadline, limit).await?;
        (body, keep_alive && clean)
    } else if let Some(value) = header(&head.headers, "content-length") {
        let len = std::str::from_utf8(value)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .ok_or_else(|| ReadError::Protocol("invalid content-length".into()))?;
        if len > limit {
            return Err(ReadError::TooLarge(len));
        }
        let (body, clean) = read_sized(ctx, fd, rest, len as usize, deadline).await?;
        (body, keep_alive && clean)
    } else {
        (read_to_close(ctx, fd, rest, deadline, limit).await?, false)
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
    let mut body = Vec::with_capacity(len);
    body.extend_from_slice(&rest);
    while body.len() < len {
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
    let mut body = Vec::new();
    let mut pos = 0;
    loop {
        match httparse::parse_chunk_size(&raw[pos..]) {
            Ok(httparse::Status::Complete((consumed, size))) => {
                if size == 0 {
                    pos += consumed;
                    break;
                }
                if body.len() as u64 + size > limit {
                    return Err(ReadError::TooLarge(body.len() as u64 + size));
                }
                let size = size as usize;
                let end = pos + consumed + size + 2;
                if raw.len() >= end {
                    if &raw[end - 2..end] != b"\r\n" {
                        return Err(ReadError::Protocol("chunk not followed by CRLF".into()));
                    }
                    body.extend_from_slice(&raw[pos + consumed..end - 2]);
                    pos = end;
                    continue;
                }
            }
            Ok(httparse::Status::Partial) => {}
            Err(_) => return Err(ReadError::Protocol("invalid chunk size line".into())),
        }
        // Need more bytes: drop what was consumed, then receive.
        raw.drain(..pos);
        pos = 0;
        let (next, n) = fill(ctx, fd, raw, deadline, true).await?;
        raw = next;
        if n == 0 {
            return Err(ReadError::Closed {
                started: true,
                reason: format!(
                    "truncated chunked body: connection closed after {} bytes",
                    body.len()
                ),
            });
        }
    }
    // Trailers: zero or more header lines, then an empty line.
    loop {
        let tail = &raw[pos..];
        if tail.starts_with(b"\r\n") {
            return Ok((body, tail.len() == 2));
        }
        if let Some(i) = tail.windows(4).position(|w| w == b"\r\n\r\n") {
            return Ok((body, tail.len() == i + 4));
        }
        raw.drain(..pos);
        pos = 0;
        if raw.len() > MAX_HEAD {
            return Err(ReadError::Protocol("chunked trailers too large".into()));
        }
        let (next, n) = fill(ctx, fd, raw, deadline, true).await?;
        raw = next;
        if n == 0 {
            return Err(ReadError::Closed {
                started: true,
                reason: "connection closed inside the chunked trailers".into(),
            });
        }
    }
}
